"""Pictures of a neural transfer for people to look at (``--report DIR``): the guidance and
confidence per level, which reference colored which pixel, and the result beside its inputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .io import write_image

#: Colors of the references in label maps (then cycled).
PALETTE = np.array([[230, 25, 75], [60, 180, 75], [0, 130, 200], [245, 130, 48], [145, 30, 180],
                    [70, 240, 240], [240, 50, 230], [210, 245, 60]], np.uint8)


def _u8(img: np.ndarray) -> np.ndarray:
    img = np.asarray(img)
    if img.dtype == np.uint8:
        return img
    if img.dtype == np.uint16:
        return (img // 257).astype(np.uint8)
    return (np.clip(img, 0, 1) * 255).round().astype(np.uint8)


def _height(img: np.ndarray, height: int) -> np.ndarray:
    from skimage.transform import resize

    img = _u8(img)[..., :3]
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=2)
    width = max(1, round(img.shape[1] * height / img.shape[0]))
    return _u8(resize(img, (height, width), order=1, anti_aliasing=True))


def _label(img: np.ndarray, text: str) -> np.ndarray:
    from PIL import Image, ImageDraw

    canvas = Image.fromarray(np.pad(img, ((22, 0), (0, 0), (0, 0)), constant_values=255))
    ImageDraw.Draw(canvas).text((4, 4), text, fill=(0, 0, 0))
    return np.asarray(canvas)


def label_image(labels: np.ndarray) -> np.ndarray:
    """An (h, w) label map as colors (reference i in PALETTE[i])."""
    return PALETTE[np.asarray(labels) % len(PALETTE)]


def write_report(folder, src, refs, result, report: dict, *, ref_names=None) -> list:
    """Writes the report PNGs into ``folder`` (created if missing); returns their paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    names = ref_names or [f"reference {i + 1}" for i in range(len(refs))]
    written = []

    def save(name, img):
        written.append(write_image(folder / name, _u8(img), overwrite=True))

    height = 256
    panels = [_label(_height(src, height), "source")]
    scales = report.get("ref_scales", [1.0] * len(refs))

    def caption(i, name):  # the reference's label color, and its matching scale if not 1
        color = "#%02x%02x%02x" % tuple(PALETTE[i % len(PALETTE)])
        return f"{name} ({color}" + (f", matched at x{scales[i]:g})" if scales[i] != 1.0 else ")")

    panels += [_label(_height(r, height), caption(i, n)) for i, (r, n) in enumerate(zip(refs, names))]
    panels.append(_label(_height(result, height), "result"))
    gap = np.full((height + 22, 8, 3), 255, np.uint8)
    row = [p for panel in panels for p in (panel, gap)][:-1]
    save("overview.png", np.concatenate(row, axis=1))
    for entry in report.get("levels", []):
        level = entry["level"]
        save(f"level{level}_guidance.png", entry["guide"])
        save(f"level{level}_confidence.png", entry["confidence"])
        if len(refs) > 1:
            save(f"level{level}_labels.png", label_image(entry["labels"]))
    return written


def write_colorize_report(folder, report: dict) -> list:
    """Pictures of an exemplar colorization: the references' colors warped onto the target,
    the confidence, and (several references) which reference colored which pixel."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = [write_image(folder / "warped.png", _u8(report["warped"]), overwrite=True),
               write_image(folder / "confidence.png", _u8(report["confidence"]), overwrite=True)]
    if "labels" in report and np.max(report["labels"]) > 0:
        written.append(write_image(folder / "labels.png", label_image(report["labels"]), overwrite=True))
    return written
