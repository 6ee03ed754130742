"""Frames of a shot: how much the neural transfer, the colorization and the classical
methods flicker, alone per frame and chained.

    .venv/bin/python benchmarks/quality/run_temporal.py [--step PX] [--frames N] [--only classical]

A camera pan over a photo: frame t is a 224 x 224 view of skimage's astronaut (256 x 256)
shifted ``step`` pixels right of frame t-1. The sources are those views of the photo
recolored by cases.local_change (each quadrant of the photo its own way, so the change moves
with the content); the ground truth is the views in true colors. References: another view
of the photo in true colors ("same scene"), or coffee ("other photo": the look of an
unrelated picture, where per-frame matches vary most). The colorization gets the views in
gray, with the same-scene reference or chelsea. Prints, per method, reference and setting:
flicker (mean CIEDE2000 between the same content in consecutive results), the mean
CIEDE2000 to the ground truth, and seconds per frame.

The classical methods (the first table) get the same pan, and a second shot where the camera
stands still and an object (a 112 x 112 crop of chelsea, the cat) comes in from the right,
16 pixels a frame: their fits follow the frame's statistics, so the object changes the
colors of the whole frame; flicker is then measured on the pixels the object covers in
neither frame, and the drift between the first and the last frame on what both show.
Settings: each frame alone, the first frame's transfer as a LUT for all
(:func:`transfer.fit_lut`, 65 points), and chained (:func:`transfer.classical.frames.classical_frames`).
Reference: coffee.
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

import transfer  # noqa: E402
from transfer.colorization.methods import colorize, colorize_frames  # noqa: E402
from transfer.classical.frames import classical_frames  # noqa: E402
from transfer.neural.pipeline import neural_frames, neural_transfer  # noqa: E402
from transfer.color import gray_of  # noqa: E402

SIZE = 224


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--step", type=int, default=3)
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--only", choices=["deep", "classical"], default=None)
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
    if args.only != "deep":
        classical(srcs, truth, flicker, args.step, count)
    if args.only == "classical":
        return
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
                outs, error, seconds = timed(make, truth)
                print(f"| {method} | {name} | {setting} | {flicker(outs):.2f} | {error:.2f} | {seconds:.2f} |")


def timed(make, truth):
    """The results of ``make()`` (an iterable of frames), their mean CIEDE2000 to ``truth``,
    and the seconds per frame."""
    start = time.perf_counter()
    outs = list(make())
    seconds = (time.perf_counter() - start) / len(outs)
    return outs, np.mean([ciede(o, t) for o, t in zip(outs, truth)]), seconds


def object_enters(photo, count):
    """A still camera (the 224 x 224 top left of ``photo``) and chelsea's cat coming in from
    the right, 16 px a frame: (sources, truths, background masks of consecutive pairs, the
    background of the first and the last frame)."""
    cat = data.chelsea()[::2, ::2][20:132, 40:152]
    view = photo[:SIZE, :SIZE]
    changed = local_change(photo)[:SIZE, :SIZE]
    srcs, truth, covered = [], [], []
    for t in range(count):
        left = SIZE - 16 * (t + 1)
        mask = np.zeros((SIZE, SIZE), bool)
        mask[56:168, max(left, 0):left + 112] = True
        patch = cat[:, max(0, -left):min(112, SIZE - left)]
        for frame, out in ((changed, srcs), (view, truth)):
            f = frame.copy()
            f[mask] = patch.reshape(-1, 3)
            out.append(f)
        covered.append(mask)
    background = [~(a | b) for a, b in zip(covered, covered[1:])]
    return srcs, truth, background, ~(covered[0] | covered[-1])


def classical(pan_srcs, pan_truth, pan_flicker, step, count):
    """The classical methods' table."""
    photo = data.astronaut()[::2, ::2].copy()
    obj_srcs, obj_truth, background, first_last = object_enters(photo, count)

    def obj_flicker(outs):
        return np.mean([ciede(a[m][None], b[m][None]) for a, b, m in zip(outs, outs[1:], background)])

    def obj_drift(outs):
        return ciede(outs[0][first_last][None], outs[-1][first_last][None])

    def pan_drift(outs):  # frame 0's content at column x is the last frame's at x - shift
        shift = step * (len(outs) - 1)
        return ciede(outs[0][:, shift:], outs[-1][:, :SIZE - shift])

    shots = {"pan": (pan_srcs, pan_truth, pan_flicker, pan_drift),
             "object enters": (obj_srcs, obj_truth, obj_flicker, obj_drift)}
    ref = data.coffee()[::2, ::2].copy()
    print("| method | frames | setting | flicker | drift, first to last | CIEDE2000 to truth | s / frame |")
    print("|---|---|---|---:|---:|---:|---:|")
    for method in ("reinhard", "mkl", "histogram", "idt"):
        for shot, (inputs, truth, flicker, drift) in shots.items():
            runs = [("each frame alone", lambda: (getattr(transfer, method)(x, ref) for x in inputs)),
                    ("one LUT (first frame's)", lambda: (
                        transfer.apply_lut(x, lut) for lut in [transfer.fit_lut(inputs[0], ref, method=method, size=65)]
                        for x in inputs))]
            for temporal in (0.9, 1.0):
                runs.append((f"chained, temporal {temporal}",
                             lambda t=temporal: classical_frames(inputs, ref, method=method, temporal=t)))
            for setting, make in runs:
                outs, error, seconds = timed(make, truth)
                print(f"| {method} | {shot} | {setting} | {flicker(outs):.2f} | {drift(outs):.2f} | {error:.2f} "
                      f"| {seconds:.3f} |")
    print()


if __name__ == "__main__":
    main()
