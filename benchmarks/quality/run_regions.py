"""Region-by-region transfer against ground truth: what masks give the classical methods.

    .venv/bin/python benchmarks/quality/run_regions.py

The local cases of benchmarks/quality (cases.py) recolor each quadrant of view A in its own
way. A user who knows the regions draws them: here the source's quadrants (labels 1-4) and,
on the reference (view B, a crop of the same photo shifted by 12% of its size), the same
quadrants where B shows them (0 where B shows what A does not). Each classical method runs
globally and then region by region (`transfer.regional`, default feathering), beside the
neural transfer (no masks). Prints a markdown table of mean CIEDE2000 to the ground truth
(lower is better) and the median seconds per case.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
from skimage import data

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cases import SIZE, _views_from_photo, local_change, scenes  # noqa: E402
from run_quality import ciede  # noqa: E402

import transfer  # noqa: E402

CLASSICAL = ("reinhard", "mkl", "histogram", "idt")


def quadrants(h, w, dy=0, dx=0):
    """Quadrant labels (1-4, as cases.local_change splits view A) of an h x w view whose pixel
    (y, x) is A's (y + dy, x + dx); 0 where that falls outside A."""
    y, x = np.mgrid[0:h, 0:w]
    ya, xa = y + dy, x + dx
    labels = 1 + (ya >= h / 2) * 2 + (xa >= w / 2)
    return np.where((ya < h) & (xa < w), labels, 0).astype(np.int32)


def main():
    rows, times = [], {}
    for name, view_a, view_b, _ in scenes(middlebury=False)[:4]:  # the crops of one photo
        photo = getattr(data, name)()
        a, _ = _views_from_photo(photo)
        scale = view_a.shape[0] / a.shape[0]
        dy, dx = round(photo.shape[0] * 0.12 * scale), round(photo.shape[1] * 0.12 * scale)
        src, truth = local_change(view_a), view_a
        h, w = src.shape[:2]
        src_labels, ref_labels = quadrants(h, w), quadrants(*view_b.shape[:2], dy, dx)
        row = {"case": f"{name}/local-1ref"}
        for method in CLASSICAL:
            for variant, run in (("global", lambda: getattr(transfer, method)(src, view_b)),
                                 ("regions", lambda: transfer.regional(src, view_b, src_labels,
                                                                       [ref_labels], method=method))):
                t = time.perf_counter()
                out = run()
                times.setdefault(f"{method} {variant}", []).append(time.perf_counter() - t)
                row[f"{method} {variant}"] = ciede(out, truth)
        t = time.perf_counter()
        row["neural"] = ciede(transfer.neural_transfer(src, view_b, progress=False), truth)
        times.setdefault("neural", []).append(time.perf_counter() - t)
        rows.append(row)
    columns = [k for k in rows[0] if k != "case"]
    print(f"Views of {SIZE} px; mean CIEDE2000 to the ground truth\n")
    print("| case | " + " | ".join(columns) + " |")
    print("|---|" + "---:|" * len(columns))
    for row in rows + [{"case": "mean", **{c: np.mean([r[c] for r in rows]) for c in columns}}]:
        print(f"| {row['case']} | " + " | ".join(f"{row[c]:.2f}" for c in columns) + " |")
    print("| median s | " + " | ".join(f"{np.median(times[c]):.3f}" for c in columns) + " |")


if __name__ == "__main__":
    main()
