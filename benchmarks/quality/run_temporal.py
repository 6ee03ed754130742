"""Frames of a shot: how much the neural transfer and the colorization flicker, alone per
frame and chained.

    .venv/bin/python benchmarks/quality/run_temporal.py [--step PX] [--frames N]

A camera pan over a photo: frame t is a 224 x 224 view of skimage's astronaut (256 x 256)
shifted ``step`` pixels right of frame t-1. The sources are those views of the photo
recolored by cases.local_change (each quadrant of the photo its own way, so the change moves
with the content); the ground truth is the views in true colors. References: another view
of the photo in true colors ("same scene"), or coffee ("other photo": the look of an
unrelated picture, where per-frame matches vary most). The colorization gets the views in
gray, with the same-scene reference or chelsea. Prints, per method, reference and setting:
flicker (mean CIEDE2000 between the same content in consecutive results), the mean
CIEDE2000 to the ground truth, and seconds per frame.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from skimage import data

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cases import local_change  # noqa: E402
from run_quality import ciede  # noqa: E402

from transfer.colorization import colorize, colorize_frames  # noqa: E402
from transfer.neural import neural_frames, neural_transfer  # noqa: E402
from transfer.scale import gray_of  # noqa: E402

SIZE = 224


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--step", type=int, default=3)
    parser.add_argument("--frames", type=int, default=8)
    args = parser.parse_args()
    photo = data.astronaut()[::2, ::2].copy()
    count = min(args.frames, (photo.shape[1] - SIZE) // args.step + 1)
    changed = local_change(photo)
    views = [slice(args.step * t, args.step * t + SIZE) for t in range(count)]
    truth = [photo[:SIZE, v].copy() for v in views]
    srcs = [changed[:SIZE, v].copy() for v in views]
    grays = [(gray_of(v.astype(np.float32) / 255) * 255).round().astype(np.uint8) for v in truth]
    same = photo[24:, 16:].copy()

    def flicker(outs):
        s = args.step
        return np.mean([ciede(a[:, s:], b[:, :-s]) for a, b in zip(outs, outs[1:])])

    print(f"{count} frames, {args.step} px apart\n")
    print("| method | reference | setting | flicker | CIEDE2000 to truth | s / frame |")
    print("|---|---|---|---:|---:|---:|")
    setups = [("neural", srcs, {"same scene": same, "other photo": data.coffee()[::2, ::2].copy()},
               neural_transfer, neural_frames),
              ("colorize", grays, {"same scene": same, "other photo": data.chelsea()[::2, ::2].copy()},
               colorize, colorize_frames)]
    for method, inputs, refs, alone, chained in setups:
        for name, ref in refs.items():
            runs = [("each frame alone", lambda: (alone(x, ref, progress=False) for x in inputs))]
            for temporal in (0.8, 0.9, 1.0):
                runs.append((f"chained, temporal {temporal}",
                             lambda t=temporal: chained(inputs, ref, temporal=t, progress=False)))
            for setting, make in runs:
                start = time.perf_counter()
                outs = list(make())
                seconds = (time.perf_counter() - start) / count
                error = np.mean([ciede(o, t) for o, t in zip(outs, truth)])
                print(f"| {method} | {name} | {setting} | {flicker(outs):.2f} | {error:.2f} | {seconds:.2f} |")


if __name__ == "__main__":
    main()
