"""Quality benchmark: mean CIEDE2000 to the ground truth for our methods and the peers.

    .venv/bin/python benchmarks/quality/run_quality.py [--out out/quality] [--quick]

Prints a markdown table (cases x methods), a summary per case kind, and writes pictures
(source | references | neural | best classical | truth) to the output folder.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from skimage.color import deltaE_ciede2000, rgb2lab

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cases import build_cases, scenes  # noqa: E402

import transfer  # noqa: E402


def ciede(a, b) -> float:
    return float(deltaE_ciede2000(rgb2lab(a), rgb2lab(b)).mean())


def pooled(refs):
    """Several references as one image of their pixels, for methods that take one."""
    return np.concatenate([r.reshape(-1, 1, 3) for r in refs], axis=0)


def methods():
    out = {
        "neural": lambda s, r: transfer.neural_transfer(s, r, progress=False),
        "neural, context 0.5": lambda s, r: transfer.neural_transfer(s, r, progress=False, context=0.5),
        "neural, warm start": lambda s, r: transfer.neural_transfer(s, r, progress=False, warm_start=True),
        "neural, warm start auto": lambda s, r: transfer.neural_transfer(s, r, progress=False,
                                                                          warm_start="auto"),
        "neural, no spread": lambda s, r: transfer.neural_transfer(s, r, progress=False, spread=False),
        "neural, warm start, no spread": lambda s, r: transfer.neural_transfer(
            s, r, progress=False, warm_start=True, spread=False),
        "transfer.idt": lambda s, r: transfer.idt(s, r),
        "transfer.mkl": lambda s, r: transfer.mkl(s, r),
        "transfer.reinhard": lambda s, r: transfer.reinhard(s, r),
        "transfer.histogram": lambda s, r: transfer.histogram(s, r),
    }
    from skimage.exposure import match_histograms

    out["skimage match_histograms"] = lambda s, r: match_histograms(s, pooled(r), channel_axis=-1)
    try:
        from color_matcher import ColorMatcher

        def cm(method):
            def run(s, r):
                res = ColorMatcher().transfer(src=s / 255.0, ref=pooled(r) / 255.0, method=method)
                return (np.clip(res, 0, 1) * 255).round().astype(np.uint8)
            return run

        for m in ("reinhard", "mkl", "hm-mvgd-hm"):
            out[f"color-matcher {m}"] = cm(m)
    except ImportError:
        print("color-matcher not installed: its rows are skipped", file=sys.stderr)
    return out


PEERS = ("skimage match_histograms", "color-matcher reinhard", "color-matcher mkl",
         "color-matcher hm-mvgd-hm")


def run(out_dir: Path, quick: bool = False):
    from transfer.io import write_image
    from transfer.report import _height

    out_dir.mkdir(parents=True, exist_ok=True)
    cases = build_cases()
    if quick:
        cases = [c for c in cases if c.name.startswith(("astronaut", "motorcycle"))]
    ms = methods()
    results, seconds = {}, {}
    for case in cases:
        results[case.name] = {}
        outputs = {}
        for name, fn in ms.items():
            t = time.perf_counter()
            outputs[name] = fn(case.src, case.refs)
            seconds.setdefault(name, []).append(time.perf_counter() - t)
            results[case.name][name] = ciede(outputs[name], case.truth)
        best_classical = min((n for n in ms if not n.startswith("neural")), key=lambda n: results[case.name][n])
        strip = [case.src, *case.refs, outputs["neural"], outputs[best_classical], case.truth]
        row = [_height(x, 160) for x in strip]
        gap = np.full((160, 6, 3), 255, np.uint8)
        write_image(out_dir / (case.name.replace("/", "__") + ".png"),
                    np.concatenate([p for x in row for p in (x, gap)][:-1], axis=1), overwrite=True)
    (out_dir / "quality.json").write_text(json.dumps({"ciede2000": results, "seconds": seconds}, indent=1))
    return cases, results, seconds


def table(cases, results) -> str:
    names = list(next(iter(results.values())))
    lines = ["| case | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names)]
    for case in cases:
        r = results[case.name]
        best = min(r.values())
        cells = [f"**{r[n]:.2f}**" if r[n] == best else f"{r[n]:.2f}" for n in names]
        lines.append(f"| {case.name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def summary(cases, results) -> str:
    kinds = {}
    for case in cases:
        kind = case.name.split("/")[1]
        kinds.setdefault(kind, []).append(case)
    variants = [n for n in next(iter(results.values())) if n.startswith("neural")]
    lines = ["| case kind | " + " | ".join(variants) + " | best peer (per case) | "
             + " | ".join(f"{v} / best peer" for v in variants) + " | best of ours classical |",
             "|---|" + "---:|" * (2 * len(variants) + 2)]
    for kind, cs in kinds.items():
        means = [np.mean([results[c.name][v] for c in cs]) for v in variants]
        peer = np.mean([min(results[c.name][p] for p in PEERS if p in results[c.name]) for c in cs])
        ours = np.mean([min(v for k, v in results[c.name].items() if k.startswith("transfer."))
                        for c in cs])
        lines.append(f"| {kind} | " + " | ".join(f"{m:.2f}" for m in means) + f" | {peer:.2f} | "
                     + " | ".join(f"{m / peer:.2f}" for m in means) + f" | {ours:.2f} |")
    return "\n".join(lines)


def structure(quick: bool = False) -> str:
    """References of other content (each scene's view A recolored from the next scene's view
    B, no ground truth): how much of the source's structure each method keeps, as the SSIM of
    the result's CIELab lightness to the source's. A method that copies the matched
    reference patches instead of recoloring the source scores low here."""
    from skimage.metrics import structural_similarity

    views = [(name, a, b) for name, a, b, _ in scenes()]
    if quick:
        views = views[:2]
    ms = {k: v for k, v in methods().items() if k.startswith(("neural", "transfer."))}
    scores = {k: [] for k in ms}
    names = []
    for (name, src, _), (other, _, ref) in zip(views, views[1:] + views[:1]):
        names.append(f"{name} <- {other}")
        light = rgb2lab(src)[..., 0]
        for k, fn in ms.items():
            out = rgb2lab(fn(src, [ref]))[..., 0]
            scores[k].append(structural_similarity(light, out, data_range=100))
    lines = ["| source <- reference | " + " | ".join(ms) + " |", "|---|" + "---:|" * len(ms)]
    for i, n in enumerate(names):
        lines.append(f"| {n} | " + " | ".join(f"{scores[k][i]:.3f}" for k in ms) + " |")
    lines.append("| mean | " + " | ".join(f"{np.mean(scores[k]):.3f}" for k in ms) + " |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="out/quality")
    ap.add_argument("--quick", action="store_true", help="two scenes only")
    args = ap.parse_args()
    cases, results, seconds = run(Path(args.out), args.quick)
    print(table(cases, results))
    print()
    print(summary(cases, results))
    print()
    print("Structure kept with references of other content (SSIM of the lightness to the source's):")
    print()
    print(structure(args.quick))
    print()
    print("median seconds per case: " + ", ".join(
        f"{k} {np.median(v):.3f}" for k, v in seconds.items()))


if __name__ == "__main__":
    main()
