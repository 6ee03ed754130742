"""Command line: ``python -m transfer --src SRC --refs REF [REF ...]``.

Exit status: 0 on success, 2 on bad usage or bad input (one line on stderr, no traceback),
1 on an output that could not be written (a full disk) or an internal error. No input is
ever modified, and the outputs of a run are checked before the work and written all or none
(:class:`transfer.io.Outputs`).
"""

from __future__ import annotations

import argparse
import functools
import os
import re
import sys
from pathlib import Path

from . import __version__
from .batch import CLASSICAL, COLORIZERS, DEEP
from .errors import CudaUnavailableError, InputError, OutputError

DEFAULT_METHOD = "neural"

METHOD_HELP = {
    "neural": "neural color transfer (He et al.): deep-feature correspondences and local "
    "affine color models, coarse to fine; each region takes the colors of the reference that "
    "matches it [default]",
    "idt": "iterative distribution transfer with grain reduction (Pitie et al. 2005/2007): "
    "matches the full color distribution",
    "mkl": "Monge-Kantorovich linear mapping (Pitie & Kokaram 2007): mean and covariance in RGB",
    "reinhard": "Reinhard et al. 2001: mean and standard deviation per CIELab channel",
    "histogram": "per-channel histogram (CDF) matching in RGB",
    "exemplar": "colorization of a gray source (default for gray sources): deep correspondences "
    "to the references, their colors warped, joined by those of a classifier trained on the "
    "references, and propagated along the source's edges",
    "semantic": "colorization of a gray source with matches confined to pseudo-classes shared "
    "with the references (--classes K)",
    "welsh": "colorization of a gray source by luminance statistics (Welsh et al. 2002)",
}

#: Options that only some methods use (argparse dest -> those methods). Giving one to another
#: method is refused, not silently ignored: a user who asks for a report or a class count
#: expects it to have an effect.
OPTION_METHODS = {
    "ref_weights": CLASSICAL,
    "backbone": DEEP, "weights": DEEP, "levels": DEEP, "max_size": DEEP, "device": DEEP,
    "ref_scale": DEEP, "context": DEEP, "report": tuple(METHOD_HELP), "warm_start": ("neural",),
    "solver": DEEP,
    "temporal": (*CLASSICAL, "neural", *COLORIZERS),
    "classes": ("semantic",), "class_map": ("semantic",),
    "passes": ("exemplar", "semantic"), "classifier": ("exemplar", "semantic"),
    "iterations": ("idt",), "no_regrain": ("idt",), "space": ("reinhard",),
    "save_lut": CLASSICAL, "lut_size": CLASSICAL,
    "src_mask": (*CLASSICAL, "neural"), "ref_masks": CLASSICAL,
    "feather": (*CLASSICAL, "neural"), "unmatched": CLASSICAL,
}
#: Options of single images, not of jobs of frames (a video, --workers, --scheduler, --resume).
IMAGE_OPTIONS = ("report", "save_lut", "src_mask", "ref_masks")
MASK_OPTIONS = ("feather", "unmatched")  # only with --src-mask or --ref-masks


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="transfer",
        description="Recolor a source image with the colors of one or more reference images.",
        epilog=f"The default method is '{DEFAULT_METHOD}'; the classical ones are global and "
        "fast. Exit status: 0 success, 2 bad usage or input, 1 an output that could not be "
        "written (a full disk) or an internal error.",
    )
    _file_options(p.add_argument_group("files"))
    _transfer_options(p.add_argument_group("the transfer"))
    _deep_method_options(p.add_argument_group("deep methods (neural, exemplar, semantic)"))
    _classical_method_options(p.add_argument_group("classical methods (histogram, idt, mkl, reinhard)"))
    _mask_options(p.add_argument_group("masks"))
    _job_options(p.add_argument_group("video, color spaces and jobs of many frames (docs/film.md)"))
    return p


def _file_options(p) -> None:
    p.add_argument("-s", "--src", metavar="SRC", nargs="+",
                   help="source image to recolor; several are done one after the other, each "
                   "with the same references (or --lut), their results in --out-dir or beside them; "
                   "a folder stands for the images in it, in natural order (frame2 before frame10)")
    p.add_argument("-r", "--refs", metavar="REF", nargs="+", help="one or more reference images")
    p.add_argument("--lut", metavar="CUBE",
                   help="apply this 3-D LUT (.cube, e.g. from --save-lut) to the source instead "
                   "of a transfer (no --refs)")
    p.add_argument("-o", "--out", metavar="OUT",
                   help="output file (.png .jpg .tif .webp .exr, or a video: .mov .mp4 .mkv); default: <src stem>.<method>.png "
                   "next to the source. With several sources, a numbered name such as "
                   "graded/frame_%%04d.png: the sources' results numbered 1, 2, ... in order")
    p.add_argument("--out-dir", metavar="DIR",
                   help="folder for the results (made if missing), each named and in the format "
                   "of its source (for several sources or frames: the names keep their order); "
                   "instead of --out")
    p.add_argument("--format", choices=("png", "jpg", "tif", "webp", "exr"), default=None,
                   help="format of the results in --out-dir or beside the sources (default: "
                   "the source's in --out-dir, png beside the sources)")
    p.add_argument("--report", metavar="DIR",
                   help="write pictures to DIR (made if missing): the inputs and the result side "
                   "by side; deep methods also the guidance or warped colors, the confidence, the "
                   "label maps and (semantic) the pseudo-classes; masks the regions")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output file")
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing on success")


def _transfer_options(p) -> None:
    p.add_argument("-m", "--method", default=None, choices=sorted(METHOD_HELP), metavar="NAME",
                   help=f"transfer method (default {DEFAULT_METHOD}; exemplar for a gray source; "
                   "see --list-methods)")
    p.add_argument("--strength", type=float, default=1.0,
                   help="blend between source (0) and full transfer (1); for a gray source, "
                   "how much of the colors' chroma is kept; default 1")
    p.add_argument("--seed", type=_seed, default=0,
                   help="random seed (neural matching, idt rotations), 0 to 2**32 - 1; default 0")
    p.add_argument("--temporal", type=float, nargs="?", const=0.9, default=None, metavar="W",
                   help="several sources that are the frames of one shot, in order: recolor (or "
                   "colorize) them consistently, each frame keeping the previous one's color "
                   "models (or colors) where it shows the same content; classical methods: the "
                   "running map of colors, until a cut (share W, default 0.9 with the flag alone)")
    p.add_argument("--list-methods", action="store_true", help="list the methods and exit")
    p.add_argument("--version", action="version", version=f"transfer {__version__}")


def _deep_method_options(p) -> None:
    p.add_argument("--backbone", default="effnet-lite0", choices=["effnet-lite0", "vgg19"],
                   help="deep methods (neural, exemplar, semantic): feature network (default "
                   "effnet-lite0, embedded; vgg19 needs its weights file or network)")
    p.add_argument("--weights", metavar="PATH",
                   help="deep methods: weights file of the backbone (vgg19)")
    p.add_argument("--levels", metavar="L", type=int, nargs="+",
                   help="deep methods: pyramid levels, coarsest first (default 5 4 3 2 for "
                   "effnet-lite0)")
    p.add_argument("--max-size", type=int, default=1024, metavar="N",
                   help="deep methods: longest side at which images are matched (default "
                   "1024); the result keeps the source's full resolution")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"],
                   help="deep methods: where the correspondences are computed (default auto)")
    p.add_argument("--ref-scale", type=_ref_scale, default="auto", metavar="S",
                   help="deep methods: resize the references by S before matching, "
                   "so that their content has the source's size; 'auto' (default) tries 0.35 to "
                   "1 and keeps the most confident")
    p.add_argument("--context", type=float, default=0.0, metavar="W",
                   help="deep methods: weight of the coarser level's features in the "
                   "finest matching (default 0); about 0.5 helps when the references show the "
                   "same scene (another view or frame), not when they show similar content")
    p.add_argument("--warm-start", nargs="?", const="on", default="auto", choices=("on", "off", "auto"),
                   help="neural: start each level's color-model solve from the coarser level's "
                   "models (on; the flag alone): the result follows the references closely, "
                   "right when they show the source's scene (another view, a graded take), "
                   "while the source's structure fades a little when they only show other "
                   "content (off). auto (default): on when the matches say the references show "
                   "the source's scene")
    p.add_argument("--solver", choices=("cg", "multigrid"),
                   help="neural: how the color models are solved: multigrid (default), to "
                   "convergence, held near their start where the references show other content; "
                   "cg, 300 conjugate-gradient steps per level (keeps less of the source's "
                   "structure with references of other content). "
                   "exemplar, semantic: how the colors are propagated: cg (default) or "
                   "multigrid (the same colors either way)")
    p.add_argument("--passes", type=int, default=None, metavar="N",
                   help="colorization (exemplar, semantic): colorizations in a row, each further "
                   "one matching its colored result with the color references (default 2, or 1 "
                   "with --context)")
    p.add_argument("--classifier", type=float, default=0.3, metavar="W",
                   help="colorization (exemplar, semantic): weight of the colors of a classifier "
                   "trained on the references, beside the matches' (default 0.3; 0 turns it off)")
    p.add_argument("--classes", type=_classes, default=8, metavar="K",
                   help="semantic colorization: number of pseudo-classes, 1 to 64 (default 8)")
    p.add_argument("--class-map", type=_class_pair, nargs="+", metavar="T:R",
                   help="semantic colorization: color target class T like reference class R "
                   "(the ids are in classes.png of --report)")


def _classical_method_options(p) -> None:
    p.add_argument("--ref-weights", metavar="W", type=float, nargs="+",
                   help="classical methods: relative weight of each reference (default: equal)")
    p.add_argument("--space", default="lab", choices=("lab", "lalphabeta"),
                   help="reinhard: match the statistics in CIELab (default) or in the paper's "
                   "l-alpha-beta")
    p.add_argument("--iterations", type=int, default=10, help="idt: number of rotations (default 10)")
    p.add_argument("--no-regrain", action="store_true", help="idt: skip the grain reduction")
    p.add_argument("--save-lut", metavar="CUBE",
                   help="classical methods: also write the transfer as a 3-D LUT (.cube) for "
                   "other images, frames or grading software (idt: without its grain reduction)")
    p.add_argument("--lut-size", type=int, default=None, metavar="N",
                   help="classical methods: grid points per axis of --save-lut (2-256; default 33 "
                   "for mkl and reinhard, 65 for histogram and idt)")


def _job_options(p) -> None:
    p.add_argument("--color-space", default="srgb", metavar="NAME",
                   help="what the pixels are: srgb (default), linear (scene-linear Rec.709), or a "
                   "color space of --ocio-config; values above 1 are kept (OpenEXR, float TIFF)")
    p.add_argument("--ocio-config", metavar="CONFIG",
                   help="OpenColorIO config for --color-space (default: the OCIO variable's)")
    p.add_argument("--codec", default=None, metavar="NAME",
                   help="video output codec: prores (10 bit 4:2:2, default for .mov), prores4444, "
                   "h264 (8 bit, default for .mp4), h264-10, hevc-10, hevc-12, ffv1 (16 bit "
                   "lossless, default for .mkv)")
    p.add_argument("--rate", type=float, default=24.0, metavar="FPS",
                   help="frame rate of a video made from image files (default 24)")
    p.add_argument("--workers", type=int, default=None, metavar="N",
                   help="run the frames on a local Dask cluster of N processes (shots in parallel)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="run the frames on an existing Dask cluster (tcp://host:8786); the files "
                   "must be on storage the workers share")
    p.add_argument("--resume", action="store_true",
                   help="go on with a job that stopped: frames already written are kept")


def _mask_options(p) -> None:
    p.add_argument("--src-mask", metavar="MASK",
                   help="recolor only where this mask is white (a gray mask; its gray levels "
                   "blend), or region by region (a mask in colors or labels: each region takes "
                   "the colors of the same color in --ref-masks); black is left as it is. "
                   "Classical methods and neural")
    p.add_argument("--ref-masks", metavar="MASK", nargs="+",
                   help="classical methods: one mask per reference ('-' for the whole "
                   "reference): which part of it gives colors (white), or its regions (colors)")
    p.add_argument("--feather", type=_feather, default="auto", metavar="PX",
                   help="masks: radius in pixels of the feathering along the source's edges "
                   "(default auto: 1%% of the longer side; 0: the masks' edges as drawn)")
    p.add_argument("--unmatched", default="keep", choices=("keep", "global", "error"),
                   help="masks: a source region that no reference mask shows is kept as it is "
                   "(default, with a note), transferred from the whole references, or an error")


#: Files taken from a folder given as --src.
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp", ".bmp", ".exr")

#: A numbered --out: one printf-style integer field (%d, %04d), other percent signs doubled
#: (a name that does not match is taken as it is).
NUMBERED = re.compile(r"(?:[^%]|%%)*%0?\d*d(?:[^%]|%%)*")


def _natural(path: Path):
    """Sort key: names in the order people number them (frame2 before frame10)."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", path.name)]


def _sources(paths, ordered: bool = False) -> list:
    """--src: files as given; a folder stands for its image files (not its subfolders and
    hidden files), in natural order. ``ordered`` (the frames of a shot): all of them in
    natural order of their paths, whatever order the shell listed them in."""
    out = []
    for path in map(Path, paths):
        if not path.is_dir():
            out.append(str(path))
            continue
        files = [f for f in path.iterdir()
                 if f.suffix.lower() in IMAGE_SUFFIXES and not f.name.startswith(".") and f.is_file()]
        if not files:
            raise InputError(f"{path}: a folder with no image files ({' '.join(IMAGE_SUFFIXES)})")
        out.extend(str(f) for f in sorted(files, key=_natural))
    if ordered:
        out.sort(key=lambda p: [_natural(Path(part)) for part in Path(p).parts])
    return out


def _numbered(pattern: str, number: int) -> str:
    return pattern % number if NUMBERED.fullmatch(pattern) else pattern


def _output_path(args, method: str) -> Path:
    """Where the result goes: --out, or in --out-dir under the source's name and format, or
    beside the source as <stem>.<method>.png; --format sets the format of the last two."""
    from .io import WRITE_FORMATS, output_format

    src = Path(args.src)
    if args.out:
        out = Path(args.out)
    else:
        keep = args.out_dir and src.suffix.lower() in WRITE_FORMATS
        suffix = f".{args.format}" if args.format else src.suffix if keep else ".png"
        out = (Path(args.out_dir) / f"{src.stem}{suffix}" if args.out_dir
               else src.with_name(f"{src.stem}.{method}{suffix}"))
    output_format(out)
    return out


def _seed(text: str) -> int:
    try:
        value = int(text)
        if not 0 <= value < 2**32:
            raise ValueError
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number from 0 to 2**32 - 1, got {text!r}") from None
    return value


def _classes(text: str) -> int:
    from .colorization.gray import MAX_CLASSES

    try:
        value = int(text)
        if not 1 <= value <= MAX_CLASSES:
            raise ValueError
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number from 1 to {MAX_CLASSES}, got {text!r}") from None
    return value


def _feather(text: str):
    if text == "auto":
        return text
    try:
        value = int(text)
        if value < 0:
            raise ValueError
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected 'auto' or a whole number of pixels >= 0, got {text!r}") from None
    return value


def _ref_scale(text: str):
    import math

    if text == "auto":  # (argparse converts the default too: no import of the pipeline for it)
        return text
    try:
        value = float(text)
        if not (math.isfinite(value) and value > 0):
            raise ValueError
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected 'auto' or a number > 0, got {text!r}") from None
    return value


def _class_pair(text: str):
    t, sep, r = text.partition(":")
    try:
        if not sep:
            raise ValueError
        return int(t), int(r)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected TARGET:REFERENCE class ids such as 3:5, got {text!r}") from None


def _class_map(pairs) -> dict:
    out = {}
    for t, r in pairs or []:
        if t in out and out[t] != r:
            raise InputError(f"--class-map: target class {t} is mapped twice ({t}:{out[t]} and {t}:{r})")
        out[t] = r
    return out


def _check_options_apply(args, method: str) -> None:
    """Refuses options given on the command line that ``method`` (or "lut": --lut) does not use."""
    parser = build_parser()
    what = "--lut" if method == "lut" else f"--method {method}"
    masked = bool(args.src_mask or args.ref_masks)
    for dest, methods in OPTION_METHODS.items():
        if method not in methods and getattr(args, dest) != parser.get_default(dest):
            flag = "--" + dest.replace("_", "-")
            raise InputError(f"{flag} does not apply to {what} (only to {', '.join(methods)})")
    for dest in MASK_OPTIONS:
        if not masked and getattr(args, dest) != parser.get_default(dest):
            raise InputError(f"--{dest} goes with --src-mask or --ref-masks")
    if masked and args.save_lut:
        raise InputError("--save-lut keeps one map of colors for the whole image; a transfer "
                         "by masks has one per region")
    if masked and args.temporal is not None and method in CLASSICAL:
        raise InputError(f"--temporal carries one map of colors from frame to frame; with masks "
                         f"it is for --method neural, not {method}")


def _mask_paths(args) -> list:
    return [p for p in [getattr(args, "src_mask", None), *(getattr(args, "ref_masks", None) or [])]
            if p and p != "-"]


def _region_maps(args, src, refs, colors: dict | None = None):
    """The source's and the references' region maps from --src-mask / --ref-masks, read
    together (colors name the same region in every file; ``colors`` receives them)."""
    import numpy as np

    from .io import read_image
    from .classical.regions import region_maps_from_images

    ref_masks = args.ref_masks or []
    if ref_masks and len(ref_masks) != len(refs):
        raise InputError(f"--ref-masks has {len(ref_masks)} masks for {len(refs)} reference(s) "
                         "(give '-' for a reference used whole)")
    paths = _mask_paths(args)
    maps = dict(zip(paths, region_maps_from_images([read_image(p) for p in paths], paths, colors)))
    if args.src_mask:
        src_regions = maps[args.src_mask]
    else:  # the whole source is region 1, and the references' masks must say which part that is
        src_regions = np.ones(src.shape[:2], np.int32)
        labels = {int(v) for m in maps.values() if m.dtype.kind in "iu" for v in np.unique(m) if v}
        if len(labels) > 1:
            raise InputError("--ref-masks shows several regions; give --src-mask to say which part "
                             "of the source each one colors")
    ref_regions = [None if m == "-" else maps[m] for m in ref_masks] or None
    return src_regions, ref_regions


def _regional(args, src, refs, src_regions, ref_regions, method, options, report):
    """A transfer by masks; unmatched regions reported as notes on stderr."""
    import warnings

    from .classical.regions import regional

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if method in CLASSICAL:
            options = {**options, "unmatched": args.unmatched}
        result = regional(src, list(refs), src_regions, ref_regions, method=method,
                          feather=args.feather, report=report, **options)
    if not args.quiet:
        for w in caught:
            print(f"transfer: note: {args.src}: {w.message}", file=sys.stderr)
    return result


def _space(args):
    from .spaces import check_space

    return check_space(args.color_space, args.ocio_config)


def _read_source(path, space=None):
    """The image of ``path`` in display sRGB (:mod:`transfer.spaces`), checked, and what
    :meth:`~transfer.spaces.Space.from_display` needs to give a result the file's space."""
    from .image import channels, check_array
    from .io import read_image

    img, residual = read_image(path), None
    if space is not None and not space.display:
        img, residual = space.to_display(img)
    img = check_array(img, str(path))  # problems named by file, not "src"
    if channels(img) in (2, 4) and not (img[..., -1] > 0).any():  # named by file, not "src"
        raise InputError(f"{path}: is fully transparent (no pixel has alpha > 0)")
    return img, residual


def _read(path, space=None):
    return _read_source(path, space)[0]


# With several sources, the references (or the LUT) are read once for all of them.
@functools.lru_cache(maxsize=None)
def _references(paths: tuple, space=None) -> tuple:  # a tuple: the cached value cannot be changed
    from .image import channels, is_gray

    refs = []
    for r in paths:
        ref = _read(r, space)
        if channels(ref) in (1, 2) or is_gray(ref):
            raise InputError(f"{r}: is a grayscale image; references must be in color")
        refs.append(ref)
    return tuple(refs)


@functools.lru_cache(maxsize=None)
def _read_lut(path):
    from .classical.cube import read_cube

    return read_cube(path)


def run(args) -> Path:
    """One source: read and checked, its outputs planned, transferred, the outputs written
    together (all or none)."""
    from concurrent.futures import ThreadPoolExecutor

    from .io import image_encoder

    space = _space(args)
    with ThreadPoolExecutor(1) as pool:  # the references decoded beside the source (no GIL held)
        refs_read = pool.submit(_references, tuple(args.refs), space)
        src, residual = _read_source(args.src, space)
        method = _method(args, src)  # the source's problems come first
        _check_options_apply(args, method)
        if args.weights and not Path(args.weights).is_file():
            raise InputError(f"{args.weights}: --weights names no file" + (
                " (a folder)" if Path(args.weights).is_dir() else ""))
        refs = refs_read.result()
    outputs, out_path, lut_path = _plan_outputs(args, method)  # after the inputs: their problems come first
    chain = getattr(args, "chain", None)  # --temporal: what the previous frame left
    report = {}
    with outputs:
        masks = None
        if args.src_mask or args.ref_masks:
            masks = _region_maps(args, src, refs, report.setdefault("region_colors", {}))
        wanted = report if args.report else None
        compute = _colorize if method in COLORIZERS else _neural if method == "neural" else _classical
        result, frame = compute(args, method, src, refs, masks, chain, wanted)
        outputs.add(out_path, image_encoder(out_path, space.from_display(result, residual)))
        if lut_path:
            outputs.add(lut_path, _lut_encoder(args, method, src, refs))
        if args.report:
            for name, img in _pictures(args, method, src, refs, result, report, masks).items():
                outputs.add(Path(args.report) / name, image_encoder(name, img))
        outputs.commit()
    if chain is not None:  # what the next frame needs from this one
        chain.update(frame=frame, shape=src.shape[:2])
    return out_path


def _method(args, src) -> str:
    """The method asked for, or the default for the source (colorization for a gray one)."""
    from .image import is_gray

    gray = is_gray(src)
    method = args.method or ("exemplar" if gray else DEFAULT_METHOD)
    if gray and method not in COLORIZERS:
        raise InputError(f"{args.src}: is a grayscale image; --method {method} needs a color source "
                         f"(gray sources are colorized: --method {' or '.join(COLORIZERS)})")
    if not gray and method in COLORIZERS:
        raise InputError(f"{args.src}: is in color; --method {method} colorizes gray images "
                         f"(use --method {DEFAULT_METHOD} to recolor)")
    return method


def _plan_outputs(args, method: str):
    """The run's outputs (the result, --save-lut, --report), checked before any work."""
    from .io import Outputs
    from .report import check_report_folder

    outputs = Outputs([args.src, *(args.refs or [args.lut]), *_mask_paths(args)],
                      overwrite=args.overwrite)
    out_path = outputs.claim(_output_path(args, method))
    lut_path = outputs.claim(_lut_output_path(args)) if getattr(args, "save_lut", None) else None
    if getattr(args, "report", None):
        check_report_folder(args.report, taken=[*outputs.inputs, *outputs.claimed],
                            overwrite=args.overwrite)
    return outputs, out_path, lut_path


def _deep_options(args) -> dict:
    """The options of the methods on deep correspondences."""
    options = dict(backbone=args.backbone, weights=args.weights, device=args.device,
                   max_size=args.max_size, ref_scale=args.ref_scale, context=args.context,
                   seed=args.seed, strength=args.strength, progress=False if args.quiet else None)
    if args.solver:
        options["solver"] = args.solver
    if args.levels:
        options["levels"] = args.levels
    return options


def _classical_options(args, method: str) -> dict:
    options = {"weights": args.ref_weights, "strength": args.strength}
    if method == "idt":
        options.update(seed=args.seed, iterations=args.iterations,
                       progress=False if args.quiet else None)
    if method == "reinhard":
        options["space"] = args.space
    return options


# Each method's run returns (result, frame): with --temporal, ``frame`` is what the next
# frame takes as ``previous`` (else None).


def _colorize_options(args, method: str) -> dict:
    options = {"seed": args.seed, "strength": args.strength}
    if method in ("exemplar", "semantic"):
        options.update(_deep_options(args), passes=args.passes, classifier=args.classifier)
    if method == "semantic":
        options.update(classes=args.classes, class_map=_class_map(args.class_map))
    return options


def _neural_options(args) -> dict:
    return dict(_deep_options(args),
                warm_start={"on": True, "off": False}.get(args.warm_start, args.warm_start))


def _method_options(args, method: str) -> dict:
    """The keyword arguments of ``method`` from the command line."""
    if method in COLORIZERS:
        return _colorize_options(args, method)
    if method == "neural":
        return _neural_options(args)
    options = _classical_options(args, method)
    if method == "idt":
        options["regrain"] = not args.no_regrain
    return options


def _colorize(args, method, src, refs, masks, chain, report):
    from .colorization.methods import colorize, colorize_frame

    options = dict(_colorize_options(args, method), report=report)
    if chain is None:
        return colorize(src, refs, method=method, **options), None
    _check_frame_size(args, src, chain)
    if chain.get("frame"):
        options.pop("ref_scale", None)  # the first frame's scales
    return colorize_frame(src, refs, method=method, previous=chain.get("frame"),
                          temporal=args.temporal, **options)


def _neural(args, method, src, refs, masks, chain, report):
    from .neural.pipeline import neural_frame, neural_transfer

    options = _neural_options(args)
    if chain is not None:
        _check_frame_size(args, src, chain)
        if chain.get("frame"):
            options.pop("ref_scale")  # the first frame's scales
    if masks:  # the neural transfer over the whole source, blended in by the mask
        report = {} if report is None and chain is not None else report
        if chain is not None:
            previous = chain.get("frame")
            options.update(previous=previous, temporal=args.temporal,
                           ref_scale=previous.ref_scales if previous else args.ref_scale)
        result = _regional(args, src, refs, masks[0], None, method, options, report)
        return result, None if chain is None else report["frame"]
    if chain is None:
        return neural_transfer(src, refs, **options, report=report), None
    return neural_frame(src, refs, previous=chain.get("frame"), temporal=args.temporal,
                        report=report, **options)


def _classical(args, method, src, refs, masks, chain, report):
    from .classical import methods as classical

    options = _method_options(args, method)
    if masks:
        options.pop("progress", None)
        return _regional(args, src, refs, *masks, method, options, report), None
    if chain is not None:  # the look the previous frames left
        from .classical.frames import classical_frame_look

        options.pop("progress", None)
        return classical_frame_look(src, refs, method=method, previous=chain.get("frame"),
                                    temporal=args.temporal, **options)
    return classical.METHODS[method](src, refs, **options), None


def _lut_encoder(args, method, src, refs):
    """--save-lut: the transfer fitted again (a few ms; IDT 0.1-0.2 s), as a map of colors."""
    from .classical.cube import cube_encoder
    from .classical.lut import fit_lut

    options = _classical_options(args, method)
    options.pop("progress", None)
    lut = fit_lut(src, refs, method=method, size=args.lut_size, **options)
    names = ", ".join(Path(r).name for r in args.refs)
    return cube_encoder(lut, title=f"transfer {method}: {Path(args.src).name} -> {names}")


def _pictures(args, method, src, refs, result, report, masks) -> dict:
    """--report: the pictures by file name."""
    from .report import colorize_report_pictures, report_pictures

    names = [Path(r).name for r in args.refs]
    if method in COLORIZERS:
        return colorize_report_pictures(report, src=src, refs=refs, result=result, ref_names=names)
    shown = report["result"] if method == "neural" and not masks else result
    return report_pictures(src, refs, shown, report, ref_names=names)


def _check_frame_size(args, src, chain) -> None:
    """--temporal with a local method: this frame must have the previous one's size (after a
    frame that failed, a new chain starts: ``chain`` is then empty)."""
    shape = chain.get("shape")
    if shape is not None and tuple(src.shape[:2]) != tuple(shape):
        raise InputError(f"{args.src}: is {src.shape[1]}x{src.shape[0]}, the previous frame "
                         f"{shape[1]}x{shape[0]}: --temporal needs the frames of one shot, of one size")


def _lut_output_path(args) -> Path:
    """Where --save-lut writes."""
    from .classical.lut import check_size

    lut = Path(args.save_lut)
    if lut.suffix.lower() != ".cube":
        raise InputError(f"{lut}: --save-lut writes a .cube file; name it *.cube")
    if args.lut_size is not None:
        check_size(args.lut_size, "--lut-size")
    return lut


def run_lut(args) -> Path:
    """--lut: the source through a .cube LUT."""
    from .image import channels
    from .io import image_encoder
    from .classical.lut import apply_lut

    _check_options_apply(args, "lut")
    if args.method:
        raise InputError("--lut applies a LUT to the source; --method does not go with it")
    lut = _read_lut(args.lut)
    space = _space(args)
    src, residual = _read_source(args.src, space)
    if channels(src) in (1, 2):
        raise InputError(f"{args.src}: is a grayscale image; a LUT maps RGB colors")
    outputs, out_path, _ = _plan_outputs(args, "lut")
    with outputs:
        result = space.from_display(apply_lut(src, lut, strength=args.strength), residual)
        outputs.add(out_path, image_encoder(out_path, result))
        outputs.commit()
    return out_path


def main(argv=None) -> int:
    """The command line; returns the exit status."""
    try:
        return _main(argv)
    except KeyboardInterrupt:
        print("transfer: interrupted", file=sys.stderr)
        return 130


def _main(argv) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.list_methods:
        for name in sorted(METHOD_HELP):
            print(f"{name:10s} {METHOD_HELP[name]}")
        return 0
    _check_usage(parser, args)
    try:
        args.src = _sources(args.src, ordered=args.temporal is not None)
        _space(args)
    except InputError as exc:
        return _error(exc)
    if _is_job(args):
        return _run_job(parser, args)
    if len(args.src) > 1:
        if args.out and not NUMBERED.fullmatch(args.out):
            parser.error("--out is for one source; with several, give --out-dir, a numbered --out "
                         "(frame_%04d.png) or nothing")
        for flag, dest in (("--save-lut", "save_lut"), ("--report", "report")):
            if getattr(args, dest):
                parser.error(f"{flag} is for one source; with several, give --out-dir (or nothing)")
    if args.temporal is not None and len(args.src) < 2:
        parser.error("--temporal is for several sources: the frames of one shot, in order")
    if args.out_dir:
        stems = [Path(src).stem for src in args.src]
        twice = next((stem for stem in stems if stems.count(stem) > 1), None)
        if twice is not None:  # their results would have one name in --out-dir
            parser.error(f"two sources are named {twice!r}: their results would overwrite each other in --out-dir")
        if Path(args.out_dir).exists() and not Path(args.out_dir).is_dir():
            return _error(f"{args.out_dir}: --out-dir is a file, not a folder")
    _references.cache_clear()
    _read_lut.cache_clear()
    if len(args.src) > 1:  # refused options, a bad reference or LUT: one error, not one per source
        try:
            if args.method:
                _check_options_apply(args, args.method)
            if args.refs:
                _references(tuple(args.refs), _space(args))
            else:
                _read_lut(args.lut)
        except InputError as exc:
            return _error(exc)
    return _run_all(args)


def _check_usage(parser, args) -> None:
    """Refuses options that do not go together (exit 2 through the parser)."""
    if not args.src or not (args.refs or args.lut):
        parser.error("--src and --refs (or --lut) are required")
    if args.refs and args.lut:
        parser.error("--lut applies a LUT instead of a transfer: give --refs or --lut, not both")
    if args.out and args.out_dir:
        parser.error("--out names the result, --out-dir its folder: give one of them")
    if args.out and args.format:
        parser.error("--format is for results named by transfer; --out names its format by its extension")
    if args.lut_size is not None and not args.save_lut:
        parser.error("--lut-size is the grid of --save-lut; give --save-lut too")
    if args.levels and len(set(args.levels)) != len(args.levels):
        parser.error(f"--levels must be distinct, coarsest first; got {' '.join(map(str, args.levels))}")
    if args.temporal is not None and not 0 <= args.temporal <= 1:
        parser.error(f"--temporal must be in [0, 1], got {args.temporal:g}")
    from .video import is_video

    if args.codec and not (args.out and is_video(args.out)) and not any(map(is_video, args.src)):
        parser.error("--codec is the codec of a video --out (.mov .mp4 .mkv)")
    folders = [s for s in args.src if Path(s).is_dir()]
    if folders and not (args.out_dir or (args.out and (NUMBERED.fullmatch(args.out) or is_video(args.out)))):
        parser.error(f"--src {folders[0]} is a folder: give --out-dir or a numbered --out for the "
                     "results (beside the sources, they would be taken as sources next time)")


def _is_job(args) -> bool:
    """Whether the run is a job of frames (:mod:`transfer.batch`): a video in or out, a
    cluster, or a resumed job."""
    from .video import is_video

    return (any(map(is_video, args.src)) or bool(args.out and is_video(args.out))
            or args.workers is not None or args.scheduler is not None or args.resume)


def _run_job(parser, args) -> int:
    """A job of frames through :func:`transfer.batch.run`; exit 0 when every frame was
    written, 2 when some failed for bad input (each named), 1 on an output error."""
    from . import batch
    from .video import is_video

    for dest in IMAGE_OPTIONS:
        if getattr(args, dest):
            parser.error(f"--{dest.replace('_', '-')} is for single images, not for a job of "
                         "frames (a video, --workers, --scheduler, --resume)")
    out = args.out or args.out_dir
    if out is None and not (len(args.src) == 1 and is_video(args.src[0])):
        parser.error("a job of frames needs --out-dir, a numbered --out or a video --out")
    try:
        frames = batch.frames_of(args.src)
        method = "lut" if args.lut else args.method or batch.default_method(frames)
        _check_options_apply(args, method)
        if out is None:  # beside the clip, as for an image
            src = Path(args.src[0])
            out = str(src.with_name(f"{src.stem}.{method}{src.suffix}"))
        options = {"strength": args.strength} if args.lut else _method_options(args, method)
        report = batch.run(
            args.src, args.refs, out=out, method=method, lut=args.lut, temporal=args.temporal,
            options=options, color_space=args.color_space,
            ocio_config=args.ocio_config, codec=args.codec, fmt=args.format, rate=args.rate,
            workers=args.workers, scheduler=args.scheduler, resume=args.resume,
            overwrite=args.overwrite, progress=False if args.quiet else None)
    except (InputError, CudaUnavailableError) as exc:
        return _error(exc)
    except OutputError as exc:
        print(f"transfer: error: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # internal error (a task's, from a worker): short, traceback on request
        if os.environ.get("TRANSFER_DEBUG"):
            raise
        print(f"transfer: internal error: {type(exc).__name__}: {exc} (set TRANSFER_DEBUG=1 for the "
              "traceback; --resume goes on from the frames written)", file=sys.stderr)
        return 1
    return _job_status(args, report, out)


def _job_status(args, report, out) -> int:
    """The failed frames by name on stderr; the exit status of a job."""
    from .video import is_video

    for name, why in report.failed:
        print(f"transfer: error: {name}: {why}" if name not in why else f"transfer: error: {why}",
              file=sys.stderr)
    if report.failed:
        print(f"transfer: {len(report.failed)} of {report.frames} frames failed"
              + (f"; {out} not encoded (--resume after fixing them)" if is_video(out) else ""),
              file=sys.stderr)
        return 2
    if not args.quiet:
        print(report.video or out)
    return 0


def _error(exc) -> int:
    print(f"transfer: error: {exc}", file=sys.stderr)
    return 2


def _run_all(args) -> int:
    """Every source, one after the other: a bad one is reported, the others still done."""
    failed = 0
    chain = {} if args.temporal is not None else None
    bar = None
    if len(args.src) > 1 and not args.quiet:
        from tqdm import tqdm

        bar = tqdm(total=len(args.src), desc="frames" if chain is not None else "images",
                   unit="img", disable=None)  # on a terminal only
    for number, src in enumerate(args.src, 1):
        job = argparse.Namespace(**{**vars(args), "src": src, "chain": chain,
                                    "out": args.out and _numbered(args.out, number)})
        try:
            out = run_lut(job) if args.lut else run(job)
        except (InputError, TypeError, CudaUnavailableError) as exc:
            _error(exc)
            failed += 1
            if chain is not None:  # the next frame starts a new chain
                chain.clear()
            continue
        except KeyboardInterrupt:
            raise
        except OutputError as exc:  # a full disk: the next sources would fail alike
            print(f"transfer: error: {exc}", file=sys.stderr)
            return 1
        except Exception as exc:  # internal error: short message, traceback only on request
            if os.environ.get("TRANSFER_DEBUG"):
                raise
            print(f"transfer: internal error: {type(exc).__name__}: {exc} "
                  "(set TRANSFER_DEBUG=1 for the traceback)", file=sys.stderr)
            return 1
        finally:
            if bar is not None:
                bar.update(1)
        if not args.quiet:
            if bar is not None:
                bar.write(str(out), file=sys.stdout)
            else:
                print(out)
    if bar is not None:
        bar.close()
    if failed and len(args.src) > 1:
        print(f"transfer: {failed} of {len(args.src)} sources failed", file=sys.stderr)
    return 2 if failed else 0
