"""Draws the pictures of README.md and docs/cli.md from the bundled example images.

    .venv/bin/python docs/images/make_images.py      # about a minute on 2 cores

methods.jpg: a source and a reference, then each recoloring method's result; colorize.jpg: a
gray photo, its color reference and each colorization method's result; report.jpg: the
pictures ``--report`` writes for a neural transfer with two references.
"""

from pathlib import Path

import numpy as np
from PIL import Image

import transfer
from transfer.io import read_image
from transfer.report import _height, _label, _side_by_side, report_pictures

HERE = Path(__file__).resolve().parent
EXAMPLES = HERE.parents[1] / "examples"
HEIGHT = 192


def panel(img, caption):
    return _label(_height(img, HEIGHT), caption)


def save(name, rows):
    width = max(r.shape[1] for r in rows)
    rows = [np.pad(r, ((0, 8), (0, width - r.shape[1]), (0, 0)), constant_values=255) for r in rows]
    Image.fromarray(np.concatenate(rows)[:-8]).save(HERE / name, quality=85, optimize=True)
    print(HERE / name)


def main():
    src, ref, ref2 = (read_image(EXAMPLES / f) for f in ("astronaut.jpg", "coffee.jpg", "chelsea.jpg"))
    classical = [(m, getattr(transfer, m)(src, ref)) for m in ("reinhard", "histogram", "mkl", "idt")]
    neural = transfer.neural_transfer(src, ref, max_size=384, progress=False)
    save("methods.jpg", [
        _side_by_side([panel(src, "source"), panel(ref, "reference")]
                      + [panel(out, m) for m, out in classical[:2]]),
        _side_by_side([panel(out, m) for m, out in classical[2:]] + [panel(neural, "neural")]),
    ])

    w = src.shape[1]
    gray = np.round(src[:, w // 3:, :3] @ np.array([0.299, 0.587, 0.114])).astype(np.uint8)
    crop = src[:, : 2 * w // 3]  # the reference: another crop of the photo, in color
    colorized = [(m, transfer.colorize(gray, crop, method=m, **({} if m == "welsh" else {"progress": False})))
                 for m in ("exemplar", "welsh")]
    save("colorize.jpg", [_side_by_side([panel(gray, "gray source"), panel(crop, "color reference")]
                                        + [panel(out, m) for m, out in colorized])])

    report = {}
    result = transfer.neural_transfer(src, [ref, ref2], max_size=384, progress=False, report=report)
    pictures = report_pictures(src, [ref, ref2], result, report, ref_names=["coffee.jpg", "chelsea.jpg"])
    finest = min(e["level"] for e in report["levels"])
    save("report.jpg", [
        _height(pictures["overview.png"], HEIGHT + 22),
        _side_by_side([panel(pictures[f"level{finest}_{kind}.png"], f"level{finest}_{kind}.png")
                       for kind in ("guidance", "confidence", "labels")]),
    ])


if __name__ == "__main__":
    main()
