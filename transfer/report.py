"""Pictures of a neural transfer or a colorization for people to look at (``--report DIR``):
the guidance and confidence, which reference colored which pixel, and the result beside its
inputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np

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

    img = _u8(img)
    if img.ndim == 3 and img.shape[2] in (1, 2):  # gray (+ alpha)
        img = img[..., 0]
    img = np.repeat(img[..., None], 3, axis=2) if img.ndim == 2 else img[..., :3]
    width = max(1, round(img.shape[1] * height / img.shape[0]))
    return _u8(resize(img, (height, width), order=1, anti_aliasing=True))


def _label(img: np.ndarray, text: str) -> np.ndarray:
    from PIL import Image, ImageDraw

    canvas = Image.fromarray(np.pad(img, ((22, 0), (0, 0), (0, 0)), constant_values=255))
    ImageDraw.Draw(canvas).text((4, 4), text, fill=(0, 0, 0))
    return np.asarray(canvas)


def _side_by_side(panels) -> np.ndarray:
    """RGB panels in a row, 8 white pixels apart, the shorter ones padded with white below."""
    tallest = max(p.shape[0] for p in panels)
    panels = [np.pad(p, ((0, tallest - p.shape[0]), (0, 0), (0, 0)), constant_values=255) for p in panels]
    gap = np.full((tallest, 8, 3), 255, np.uint8)
    return np.concatenate([p for panel in panels for p in (panel, gap)][:-1], axis=1)


#: Colors of pseudo-classes (semantic colorization): PALETTE, then twelve more, then cycled.
CLASS_PALETTE = np.concatenate([PALETTE, np.array(
    [[250, 190, 212], [0, 128, 128], [220, 190, 255], [170, 110, 40], [255, 250, 200],
     [128, 0, 0], [170, 255, 195], [128, 128, 0], [255, 215, 180], [0, 0, 128],
     [128, 128, 128], [255, 255, 255]], np.uint8)])


def label_image(labels: np.ndarray) -> np.ndarray:
    """An (h, w) label map as colors (reference i in PALETTE[i])."""
    return PALETTE[np.asarray(labels) % len(PALETTE)]


def class_overlay(img, classes: np.ndarray, height: int = 256) -> np.ndarray:
    """``img`` at ``height`` tinted by its pseudo-class map (CLASS_PALETTE), which is resampled
    by nearest cell: the class of every region, with the picture still recognisable."""
    from .pyramid import resample_labels

    base = _height(img, height).astype(np.float32)
    cls = resample_labels(np.asarray(classes), base.shape[:2])
    tint = CLASS_PALETTE[cls % len(CLASS_PALETTE)].astype(np.float32)
    return (0.4 * base + 0.6 * tint).round().astype(np.uint8)


def class_legend(count: int, height: int = 256) -> np.ndarray:
    """A column of swatches captioned with the class ids 0 .. count - 1."""
    from PIL import Image, ImageDraw

    row = max(12, min(24, height // max(count, 1)))
    canvas = Image.new("RGB", (64, max(height, row * count)), (255, 255, 255))
    draw = ImageDraw.Draw(canvas)
    for k in range(count):
        y = k * row
        draw.rectangle([4, y + 2, 4 + row - 4, y + row - 2],
                       fill=tuple(int(v) for v in CLASS_PALETTE[k % len(CLASS_PALETTE)]),
                       outline=(0, 0, 0))
        draw.text((row + 6, y + max(0, row // 2 - 6)), str(k), fill=(0, 0, 0))
    return np.asarray(canvas)


def classes_picture(src, refs, classes, ref_classes, *, ref_names=None) -> np.ndarray:
    """The target's and the references' pseudo-classes side by side with a legend of the
    ids, which ``class_map`` / ``--class-map`` take."""
    names = ref_names or [f"reference {i + 1}" for i in range(len(refs))]
    height = 256
    count = int(max([np.max(classes)] + [np.max(c) for c in ref_classes])) + 1
    panels = [_label(class_overlay(src, classes, height), "target classes")]
    panels += [_label(class_overlay(r, c, height), f"{n} classes")
               for r, c, n in zip(refs, ref_classes, names)]
    panels.append(_label(class_legend(count, height), "class"))
    return _side_by_side(panels)


def overview(src, refs, result, *, ref_names=None, scales=None, result_caption="result") -> np.ndarray:
    """Source, references (with their label colors and, where not 1, the scale they were
    matched at) and result side by side, captioned."""
    names = ref_names or [f"reference {i + 1}" for i in range(len(refs))]
    scales = scales or [1.0] * len(refs)

    def caption(i, name):
        color = "#%02x%02x%02x" % tuple(PALETTE[i % len(PALETTE)])
        return f"{name} ({color}" + (f", matched at x{scales[i]:g})" if scales[i] != 1.0 else ")")

    height = 256
    panels = [_label(_height(src, height), "source")]
    panels += [_label(_height(r, height), caption(i, n)) for i, (r, n) in enumerate(zip(refs, names))]
    panels.append(_label(_height(result, height), result_caption))
    return _side_by_side(panels)


def regions_picture(src, weights: np.ndarray, labels=None, colors: dict | None = None) -> np.ndarray:
    """The source in gray where it is kept as it is, tinted by region where a transfer
    applies, each pixel blended by the regions' feathered weights (count, H, W). Weight map
    i belongs to ``labels[i]`` (default i), tinted in ``colors[label]`` (the masks' own
    colors) or else PALETTE's."""
    rgb = _u8(src)[..., :3].astype(np.float32)
    gray = rgb @ np.array([0.299, 0.587, 0.114], np.float32)
    out = weights[0][..., None] * gray[..., None]
    for i in range(1, len(weights)):
        label = i if labels is None else labels[i]
        color = (colors or {}).get(label, PALETTE[(label - 1) % len(PALETTE)])
        tint = 0.5 * gray[..., None] + 0.5 * np.asarray(color, np.float32)
        out = out + weights[i][..., None] * tint
    return np.clip(out, 0, 255).round().astype(np.uint8)


#: The names of the files a report may write (fnmatch patterns), checked before the work.
REPORT_FILES = ("overview.png", "regions.png", "level?_guidance.png", "level?_confidence.png",
                "level?_labels.png", "warped.png", "confidence.png", "classified.png",
                "labels.png", "classes.png")


def check_report_folder(folder, *, taken=(), overwrite: bool = False) -> Path:
    """Refuses, before the work, a report folder whose pictures could not be written or would
    replace a file they must not: an input or output of the run (``taken``) in any case, an
    existing file without ``overwrite``."""
    from fnmatch import fnmatch

    from .errors import InputError
    from .io import check_writable

    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise InputError(f"{folder}: is a file; --report takes a folder")
    check_writable(folder / "overview.png", overwrite=True)
    for path in map(Path, taken):
        if any(fnmatch(path.name, p) for p in REPORT_FILES) and path.parent.resolve() == folder.resolve():
            raise InputError(f"{path}: the report in {folder} writes a file of this name; "
                             "choose another report folder")
    if folder.is_dir() and not overwrite:
        for entry in sorted(folder.iterdir()):
            if any(fnmatch(entry.name, p) for p in REPORT_FILES):
                raise InputError(f"{entry}: already exists; the report would replace it (pass "
                                 "--overwrite, or choose another report folder)")
    return folder


def report_pictures(src, refs, result, report: dict, *, ref_names=None) -> dict:
    """The pictures of a transfer's report, by file name."""
    pictures = {}
    # neural: whether the solves were warm-started (what warm_start='auto' chose)
    caption = "result, warm start" if report.get("warm_start") else "result"
    pictures["overview.png"] = overview(src, refs, result, ref_names=ref_names,
                                        scales=report.get("ref_scales"), result_caption=caption)
    if "weights" in report:  # a transfer by masks: which region each pixel blends from
        pictures["regions.png"] = regions_picture(src, report["weights"], report.get("labels"),
                                                  report.get("region_colors"))
    for entry in report.get("levels", []):
        level = entry["level"]
        pictures[f"level{level}_guidance.png"] = entry["guide"]
        pictures[f"level{level}_confidence.png"] = entry["confidence"]
        if len(refs) > 1:
            pictures[f"level{level}_labels.png"] = label_image(entry["labels"])
    return {name: _u8(img) for name, img in pictures.items()}


def colorize_report_pictures(report: dict, *, src=None, refs=None, result=None,
                             ref_names=None) -> dict:
    """The pictures of an exemplar colorization, by file name: the references' colors warped
    onto the target, the confidence, the colors of the classifier trained on the references
    (when used), (several references) which reference colored which pixel and, given the
    images, the overview of :func:`report_pictures` and (semantic) the pseudo-classes of the
    target and the references with their ids."""
    pictures = {f"{name}.png": report[name] for name in ("warped", "confidence", "classified")
                if name in report}  # welsh has none of them
    if src is not None:
        pictures["overview.png"] = overview(src, refs, result, ref_names=ref_names,
                                            scales=report.get("ref_scales"))
    if "labels" in report and np.max(report["labels"]) > 0:
        pictures["labels.png"] = label_image(report["labels"])
    if "classes" in report and src is not None:  # semantic: the ids a class map takes
        pictures["classes.png"] = classes_picture(src, refs, report["classes"],
                                                  report["ref_classes"], ref_names=ref_names)
    return {name: _u8(img) for name, img in pictures.items()}


def write_pictures(folder, pictures: dict, *, overwrite: bool = False) -> list:
    """Writes ``pictures`` (name -> image) into ``folder`` (created if missing), all or none;
    returns their paths."""
    from .io import Outputs, image_encoder

    outputs = Outputs(overwrite=overwrite)
    for name, img in pictures.items():
        outputs.add(Path(folder) / name, image_encoder(name, img))
    return outputs.commit()


def write_report(folder, src, refs, result, report: dict, *, ref_names=None,
                 overwrite: bool = False) -> list:
    """Writes the pictures of :func:`report_pictures` into ``folder``; returns their paths."""
    return write_pictures(folder, report_pictures(src, refs, result, report, ref_names=ref_names),
                          overwrite=overwrite)


def write_colorize_report(folder, report: dict, *, src=None, refs=None, result=None,
                          ref_names=None, overwrite: bool = False) -> list:
    """Writes the pictures of :func:`colorize_report_pictures` into ``folder``; returns their
    paths."""
    return write_pictures(folder, colorize_report_pictures(report, src=src, refs=refs, result=result,
                                                           ref_names=ref_names), overwrite=overwrite)
