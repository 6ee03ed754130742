"""Colorization benchmark: gray versions of real photos colorized from color references,
scored against the original colors (mean CIEDE2000, lower is better) and by colorfulness
(Hasler & Suesstrunk 2003; the truth's is given for comparison).

    .venv/bin/python benchmarks/quality/run_colorization.py [--out out/colorization]

Categories, after a public colorization benchmark:
  recolor-source   the source's own color version as reference
  full             another view of the same scene (overlapping crop, stereo view: skimage's
                   motorcycle, Middlebury teddy and cones)
  partial          a reference showing only part of the scene (its left 45%)
  other-frame      a frame of the same room six seconds later (TUM RGB-D, four pairs;
                   skipped without ../shared/data)
  distractor       the "full" reference plus an unrelated photo
  two-partial      two references, the left 35% and the right 70% of the "full" one (each
                   reference is needed where only it shows the scene)
  reference-2x     the "full" reference at twice the target's resolution (the same view made
                   from the original photo at 512 px instead of 256: its content twice as
                   large in pixels, as with a reference shot closer or on a finer sensor)
  semantic-correspondence
                   a photo of similar content, none of the target's pixels in it: the left
                   half of a view colorized from its right half, and the top half from the
                   bottom half (the same kinds of objects under the same light and camera;
                   the nearest to "a different photo of similar content" for which the
                   project has ground truth)
Baselines: the global transfers applied to the gray image (it is their source).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from skimage import data
from skimage.color import deltaE_ciede2000, rgb2lab

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cases import SHARED, SIZE, _scaled, scenes  # noqa: E402

import transfer  # noqa: E402
from transfer.colorization.methods import colorize  # noqa: E402
from transfer.color import gray_of  # noqa: E402


def gray(img):
    return (np.clip(gray_of(img.astype(np.float32) / 255), 0, 1) * 255).round().astype(np.uint8)


def colorfulness(img) -> float:
    x = img.astype(np.float64)
    rg = x[..., 0] - x[..., 1]
    yb = 0.5 * (x[..., 0] + x[..., 1]) - x[..., 2]
    return float(np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean()))


def cases():
    out = []
    fine = {name: view_b for name, _, view_b, _ in scenes(size=2 * SIZE)}
    for name, view_a, view_b, distractor in scenes():
        w = view_b.shape[1]
        out.append((f"{name}/recolor-source", view_a, [view_a]))
        out.append((f"{name}/full", view_a, [view_b]))
        out.append((f"{name}/partial", view_a, [view_b[:, : w * 45 // 100]]))
        out.append((f"{name}/distractor", view_a, [view_b, distractor]))
        out.append((f"{name}/reference-2x", view_a, [fine[name]]))
        out.append((f"{name}/two-partial", view_a, [view_b[:, : w * 35 // 100], view_b[:, w * 30 // 100:]]))
        h, w = view_a.shape[:2]
        out.append((f"{name}-left/semantic-correspondence", view_a[:, : w // 2], [view_a[:, w // 2:]]))
        out.append((f"{name}-top/semantic-correspondence", view_a[: h // 2], [view_a[h // 2:]]))
    frames = sorted((SHARED / "tum_freiburg").glob("*.png"))
    if len(frames) >= 3:
        import imageio.v3 as iio

        views = [_scaled(iio.imread(f)[..., :3]) for f in frames]
        # frames six seconds apart (the camera moved, its white balance seems to drift): the
        # first pair also with a distractor
        for i in range(len(views) - 2):
            out.append((f"tum-{i}/other-frame", views[i], [views[i + 2]]))
        out.append(("tum-0/distractor", views[0], [views[2], _scaled(data.astronaut())]))
    return out


def methods():
    def on_gray(fn):
        return lambda g, refs: fn(np.repeat(g[..., None], 3, axis=2), refs)

    return {
        "exemplar": lambda g, r: colorize(g, r, method="exemplar"),
        "exemplar, context 0.5": lambda g, r: colorize(g, r, method="exemplar", context=0.5),
        "semantic": lambda g, r: colorize(g, r, method="semantic"),
        "welsh": lambda g, r: colorize(g, r, method="welsh"),
        "idt (on gray)": on_gray(transfer.idt),
        "mkl (on gray)": on_gray(transfer.mkl),
        "reinhard (on gray)": on_gray(transfer.reinhard),
        "histogram (on gray)": on_gray(transfer.histogram),
    }


BASELINES = ("welsh", "idt (on gray)", "mkl (on gray)", "reinhard (on gray)", "histogram (on gray)")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="out/colorization")
    args = ap.parse_args()
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    ms = methods()
    err, colorful, seconds = {}, {}, {}
    for name, truth, refs in cases():
        g = gray(truth)
        err[name], colorful[name] = {}, {"truth": colorfulness(truth)}
        for m, fn in ms.items():
            t = time.perf_counter()
            res = fn(g, refs)
            seconds.setdefault(m, []).append(time.perf_counter() - t)
            err[name][m] = float(deltaE_ciede2000(rgb2lab(res), rgb2lab(truth)).mean())
            colorful[name][m] = colorfulness(res)
    (out_dir / "colorization.json").write_text(json.dumps({"ciede2000": err, "colorfulness": colorful,
                                                           "seconds": seconds}, indent=1))
    names = list(ms)
    print("| case | " + " | ".join(names) + " | truth colorfulness |")
    print("|---|" + "---:|" * (len(names) + 1))
    for case, row in err.items():
        cells = [f"{row[m]:.2f} ({colorful[case][m]:.0f})" for m in names]
        print(f"| {case} | " + " | ".join(cells) + f" | {colorful[case]['truth']:.0f} |")
    print()
    print("| category | exemplar | exemplar, context 0.5 | semantic | best baseline "
          "| exemplar / best baseline | context 0.5 / best baseline |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    cats = sorted({c.split("/")[1] for c in err})
    for cat in cats:
        rows = [r for c, r in err.items() if c.endswith("/" + cat)]
        ex = np.mean([r["exemplar"] for r in rows])
        ctx = np.mean([r["exemplar, context 0.5"] for r in rows])
        se = np.mean([r["semantic"] for r in rows])
        base = np.mean([min(r[b] for b in BASELINES) for r in rows])
        print(f"| {cat} | {ex:.2f} | {ctx:.2f} | {se:.2f} | {base:.2f} | {ex / base:.2f} | {ctx / base:.2f} |")
    full = {c.split("/")[0]: r["exemplar"] for c, r in err.items() if c.endswith("/full")}
    dis = {c.split("/")[0]: r["exemplar"] for c, r in err.items() if c.endswith("/distractor")}
    rises = [dis[s] / full[s] - 1 for s in full if s in dis]
    if rises:
        print(f"\ndistractor: exemplar error rises by {100 * np.mean(rises):.1f}% on average "
              f"(max {100 * max(rises):.1f}%) over the same scene's 'full' case")
    print("\nmedian seconds per case: " + ", ".join(f"{k} {np.median(v):.2f}" for k, v in seconds.items()))


if __name__ == "__main__":
    main()
