"""References that show only part of the source's scene: how well each method colors what
the references show (matched) and what they do not (unmatched).

    .venv/bin/python benchmarks/quality/run_partial.py [--quick] [--colorization]

Each scene is one photo (skimage's astronaut, coffee, chelsea, rocket, the motorcycle's left
view; Middlebury teddy and cones and the first TUM frame from ../shared/data when present).
The source is a crop of it (view A, 88% of each side, top left), recolored; the reference is
another crop in true colors that shows ``share`` (0.45 or 0.65) of view A's content, taken
from its left or right side and reaching beyond it (as a photo taken beside the source
does). The ground truth is view A in true colors; ``matched`` is where the reference shows
view A's content (known from the crops), ``unmatched`` the rest.

* *region* cases: each color region of view A (4 k-means clusters in CIELab, soft-assigned)
  is changed by its own Lab change, so that same-colored things share one change: what the
  reference shows of a region tells the change of all of it. No global map undoes it.
* *global* cases: one Lab change for the whole image.

Prints, per kind, the mean CIEDE2000 to the truth of each method on the whole source, on the
matched and on the unmatched part, and each neural variant's ratio to the best peer per case
(scikit-image match_histograms, color-matcher reinhard, mkl, hm-mvgd-hm).

``--colorization``: the same views, view A in gray colorized from the partial reference
(one case per scene and share), against the colorization benchmark's baselines (Welsh, the
global transfers on the gray image), and a bound: the truth's colors of the matched part
spread to the unmatched part by deep features (each unmatched cell the mean color of its 8
nearest matched cells, cosine of the hypercolumns and lightness, as the classifier sees them)
and propagated along the lightness's edges, what a spread from the shown part could give
at best.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from scipy.cluster.vq import kmeans2
from skimage import data
from skimage.color import deltaE_ciede2000, rgb2lab

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cases import REGION_CHANGES, SHARED, SIZE, _scaled, global_change, lab_change  # noqa: E402
from run_quality import PEERS, methods  # noqa: E402

SHARES = (0.45, 0.65)
CROP = 0.88  # view A's share of each side of the photo


def photos() -> list:
    out = [(name, getattr(data, name)()) for name in ("astronaut", "coffee", "chelsea", "rocket")]
    out.append(("motorcycle", data.stereo_motorcycle()[0]))
    import imageio.v3 as iio

    for scene in ("teddy", "cones"):
        path = SHARED / "middlebury2003" / scene / "im2.png"
        if path.is_file():
            out.append((f"middlebury-{scene}", iio.imread(path)[..., :3]))
    tum = sorted((SHARED / "tum_freiburg").glob("*.png")) if (SHARED / "tum_freiburg").is_dir() else []
    if tum:
        out.append(("tum", iio.imread(tum[0])[..., :3]))
    return out


def region_change(img: np.ndarray, seed: int = 0) -> np.ndarray:
    """Each color region (4 k-means clusters of CIELab) changed by its own REGION_CHANGES
    entry, blended by soft assignment (sigma 12 Lab units): same colors, same change."""
    lab = rgb2lab(img).reshape(-1, 3)
    centers, _ = kmeans2(lab[:: max(1, lab.shape[0] // 20000)], 4, seed=seed, minit="++")
    d2 = ((lab[:, None, :] - centers[None]) ** 2).sum(axis=2)
    weights = np.exp(-(d2 - d2.min(axis=1, keepdims=True)) / (2 * 12.0**2))
    weights /= weights.sum(axis=1, keepdims=True)
    changed = [lab_change(img, *chg).reshape(-1, 3).astype(np.float64) for chg in REGION_CHANGES]
    out = sum(weights[:, k: k + 1] * changed[k] for k in range(4))
    return np.clip(out, 0, 255).round().astype(np.uint8).reshape(img.shape)


def partial_views(photo: np.ndarray, share: float, right: bool):
    """(view A, reference, matched mask of view A), scaled so that view A is SIZE px long."""
    h, w = photo.shape[:2]
    ha, wa = int(h * CROP), int(w * CROP)
    view_a = photo[:ha, :wa]
    top = h - ha  # the reference starts lower: its rows [top, h) show view A's [top, ha)
    rows = (ha - top) / ha
    cols = int(min(1.0, share / rows) * wa)  # view A's columns the reference shows
    if right:
        c0, c1 = wa - cols, w
        shown = slice(wa - cols, wa)
    else:
        c0, c1 = 0, cols
        shown = slice(0, cols)
    ref = photo[top:, c0:c1]
    matched = np.zeros((ha, wa), bool)
    matched[top:, shown] = True
    s = SIZE / max(ha, wa)
    a = _scaled(view_a)
    ref = _scaled(ref, round(max(ref.shape[:2]) * s))
    from skimage.transform import resize

    mask = resize(matched.astype(float), a.shape[:2], order=0) > 0.5
    return a, ref, mask


def build_cases(quick: bool = False):
    cases = []
    for n, (name, photo) in enumerate(photos()[: 2 if quick else None]):
        for share in SHARES:
            right = (n + int(share * 100)) % 2 == 1  # both sides over the set
            view_a, ref, mask = partial_views(photo, share, right)
            for kind, change in (("region", region_change), ("global", global_change)):
                cases.append(dict(name=f"{name}/{kind}-{share:.2f}", kind=f"partial-{kind}",
                                  src=change(view_a), refs=[ref], truth=view_a, matched=mask,
                                  shown=float(mask.mean())))
    return cases


def scores(out, truth, matched):
    de = deltaE_ciede2000(rgb2lab(out), rgb2lab(truth))
    return float(de.mean()), float(de[matched].mean()), float(de[~matched].mean())


def run(quick: bool = False):
    cases = build_cases(quick)
    ms = methods()
    results, seconds = {}, {}
    for case in cases:
        results[case["name"]] = {}
        for name, fn in ms.items():
            t = time.perf_counter()
            out = fn(case["src"], case["refs"])
            seconds.setdefault(name, []).append(time.perf_counter() - t)
            results[case["name"]][name] = scores(out, case["truth"], case["matched"])
    return cases, results, seconds


def summary(cases, results) -> str:
    kinds = {}
    for case in cases:
        kinds.setdefault(case["kind"], []).append(case)
    variants = [n for n in next(iter(results.values())) if n.startswith("neural")]
    head = ["case kind (cases, shown)", *(f"{v} all / matched / unmatched" for v in variants),
            "best peer all / matched / unmatched", *(f"{v} / best peer" for v in variants)]
    lines = ["| " + " | ".join(head) + " |", "|---|" + "---:|" * (len(head) - 1)]
    for kind, cs in kinds.items():
        def mean(name):
            return np.mean([results[c["name"]][name] for c in cs], axis=0)

        best = [min((p for p in PEERS if p in results[c["name"]]), key=lambda p: results[c["name"]][p][0])
                for c in cs]
        peer = np.mean([results[c["name"]][p] for c, p in zip(cs, best)], axis=0)
        ratios = [np.mean([results[c["name"]][v][0] / results[c["name"]][p][0] for c, p in zip(cs, best)])
                  for v in variants]
        cells = [f"{kind} ({len(cs)}, {np.mean([c['shown'] for c in cs]):.0%})",
                 *("{:.2f} / {:.2f} / {:.2f}".format(*mean(v)) for v in variants),
                 "{:.2f} / {:.2f} / {:.2f}".format(*peer), *(f"{r:.2f}" for r in ratios)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def colorization(quick: bool = False):
    """The colorization's scores on the partial views: (method -> [(all, matched, unmatched)]),
    and the per-case ratio of each method to the best baseline."""
    from run_colorization import BASELINES, gray, methods as colorizers

    ms = {k: v for k, v in colorizers().items() if k in ("exemplar", "welsh") or k in BASELINES}
    out = {}
    for case in build_cases(quick):
        if case["kind"] != "partial-global":  # one gray source per scene and share
            continue
        row = {m: scores(fn(gray(case["truth"]), case["refs"]), case["truth"], case["matched"])
               for m, fn in ms.items()}
        row["bound: truth of matched, spread"] = scores(spread_bound(case["truth"], case["matched"]),
                                                        case["truth"], case["matched"])
        best = min(row[b][0] for b in BASELINES)
        for m, r in row.items():
            out.setdefault(m, []).append((*r, r[0] / best))
    lines = ["| method (cases) | all | matched | unmatched | / best baseline |", "|---|---:|---:|---:|---:|"]
    for m, rows in out.items():
        lines.append(f"| {m} ({len(rows)}) | " + " | ".join(f"{v:.2f}" for v in np.mean(rows, axis=0)) + " |")
    return "\n".join(lines)


def spread_bound(truth, matched, neighbours: int = 8):
    """The truth's colors on ``matched``; elsewhere the mean color of the ``neighbours`` matched
    cells nearest in deep features and lightness (of the gray image), propagated along the
    lightness's edges as the colorization does."""
    from run_colorization import gray
    from skimage.color import lab2rgb
    from skimage.transform import resize
    from transfer import features
    from transfer.colorization import classifier as cc
    from transfer.colorization.gray import gray_lightness
    from transfer.neural.affine import wls_smooth

    g = gray(truth)
    lab = rgb2lab(truth).astype(np.float32)
    light = gray_lightness(g.astype(np.float32) / 255)
    levels = (5, 4, 3, 2)
    feats = {lv: f.numpy() for lv, f in features.backbone().features(np.repeat(g[..., None], 3, 2), levels).items()}
    shape = feats[levels[-1]].shape[1:]
    x = np.hstack([cc.hypercolumns(feats, levels, shape), cc.lightness_code(resize(light, shape))])
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    ab = resize(lab[..., 1:], shape).reshape(-1, 2)
    shown = resize(matched.astype(float), shape, order=0).reshape(-1) > 0.5
    nearest = np.argsort(-(x[~shown] @ x[shown].T), axis=1)[:, :neighbours]
    ab[~shown] = ab[shown][nearest].mean(axis=1)
    spread = resize(ab.reshape(*shape, 2), matched.shape).astype(np.float32)
    data_ab = np.where(matched[..., None], lab[..., 1:], spread).astype(np.float32)
    weight = np.where(matched, 1.0, 0.05).astype(np.float32)
    lab[..., 1:] = wls_smooth(data_ab, light / 100.0, lam=0.01, data_weight=weight, iterations=200)
    return (np.clip(lab2rgb(lab), 0, 1) * 255).round().astype(np.uint8)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="two scenes only")
    ap.add_argument("--colorization", action="store_true", help="the colorization on the same views")
    args = ap.parse_args()
    if args.colorization:
        print(colorization(args.quick))
        return
    cases, results, seconds = run(args.quick)
    print(summary(cases, results))
    print()
    print("median seconds per case: " + ", ".join(f"{k} {np.median(v):.3f}" for k, v in seconds.items()))


if __name__ == "__main__":
    main()
