"""3-D look-up tables: a classical transfer kept as a grading look and applied to other images.

The classical methods map each color alike wherever it is in the image, so the transfer they
fit between a source and its references is a function of color alone. Sampled on a regular
RGB grid it becomes a 3-D LUT, which this module writes in the Adobe / Resolve ``.cube``
format (read by DaVinci Resolve, Premiere, Photoshop, OCIO and ffmpeg's ``lut3d`` filter) and
applies to images by trilinear interpolation (a C++ / CUDA kernel). Fitted once and applied
to every frame of a shot, one look gives every frame the same colors: no flicker from
statistics recomputed per frame.

* :func:`fit_lut`: the transfer of a classical method as a LUT.
* :func:`apply_lut`: a LUT applied to an image (dtype policy of :mod:`transfer.image`).
* :func:`write_cube`, :func:`read_cube`: the ``.cube`` file format.
* :func:`classical_frame`, :func:`classical_frames`: the frames of a shot recolored each
  with its own fit, blended with the running look of the frames before (a LUT).

A LUT is an array ``(N, N, N, 3)`` of float32 output RGB in [0, 1], indexed ``lut[r, g, b]``
by the input levels ``r / (N - 1)``, and so on.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ._native import _C, check_device
from .classical import METHODS, checked_inputs, color_map, fitted_map, regrain_image
from .errors import InputError
from .image import check_strength, color_image, finish
from .io import write_atomic
from .temporal import Look, chain, check_temporal, color_histogram, continuity

DEFAULT_SIZE = 33  # the usual size of grading LUTs (Resolve's default export)
FINE_SIZE = 65  # for per-channel curves and IDT's maps, which 33 points sample coarsely
MAX_SIZE = 256


def default_size(method: str) -> int:
    """The grid a method's look is kept on by default: 33 points per axis for the smooth maps
    (mkl's is affine, exact on any grid; reinhard's within 0.05 levels on average), 65 for
    histogram matching's curves and IDT's maps (mean error 0.41 -> 0.29 and 1.7 -> 0.94
    levels; docs/api.md)."""
    return FINE_SIZE if method in ("histogram", "idt") else DEFAULT_SIZE


def identity_lut(size: int = DEFAULT_SIZE) -> np.ndarray:
    """The LUT that changes nothing: ``lut[r, g, b] = (r, g, b) / (size - 1)``."""
    check_size(size)
    levels = np.linspace(0.0, 1.0, size, dtype=np.float32)
    return np.stack(np.meshgrid(levels, levels, levels, indexing="ij"), axis=-1)


def fit_lut(src, refs, *, method: str = "mkl", size: int | None = None, weights=None,
            strength: float = 1.0, iterations: int = 10, bins: int = 300,
            seed: int = 0, space: str = "lab") -> np.ndarray:
    """The transfer that a classical ``method`` fits between ``src`` and ``refs``, as a LUT.

    Parameters
    ----------
    src, refs, weights, strength
        As the classical methods (:func:`transfer.reinhard`); the statistics are the source's
        and the references', the strength blends each grid color with its transfer.
    method : {'mkl', 'reinhard', 'histogram', 'idt'}
        The classical method (the deep methods map a color differently at different places).
        ``idt`` without its grain reduction, which is spatial.
    size : int, optional
        Grid points per axis, 2-256; default :func:`default_size`: 33 for mkl and reinhard,
        65 for histogram and idt.
    iterations, bins, seed
        IDT's.
    space
        Reinhard's (:func:`transfer.reinhard`).

    Returns
    -------
    ndarray, (size, size, size, 3) float32
        Output colors in [0, 1], clipped as the methods clip their results.
    """
    size = default_size(method) if size is None else size
    check_size(size)
    strength = check_strength(strength)
    grid = identity_lut(size).reshape(-1, 3)
    mapped = np.clip(color_map(src, refs, method=method, weights=weights, iterations=iterations,
                               bins=bins, seed=seed, space=space)(grid), 0.0, 1.0)
    out = grid + np.float32(strength) * (mapped - grid)
    return out.astype(np.float32).reshape(size, size, size, 3)


def apply_lut(img, lut, *, strength: float = 1.0, device: str = "cpu") -> np.ndarray:
    """``img`` with each color replaced by the LUT's, interpolated trilinearly.

    ``img`` as the methods take it ((H, W, 3) or (H, W, 4); uint8, uint16 or float in [0, 1]);
    the result has its shape and dtype, and its alpha untouched. ``strength`` blends between
    the image (0) and the LUT's colors (1). ``device``: 'cpu' (C++, OpenMP) or 'cuda' (the same
    per-pixel code on the GPU, host arrays in and out).
    """
    lut = check_lut(lut, "lut")
    strength = check_strength(strength)
    kernels = check_device(device, "apply_lut")
    image = color_image(img, "img")
    if device == "cpu" and image.dtype == np.uint8 and strength == 1.0:  # the same values, in 8 bits
        return _C.apply_lut3d_u8(np.ascontiguousarray(image.raw), lut)
    return finish(image, kernels.apply_lut3d(image.rgb, lut), strength)


# ---- the frames of a shot -------------------------------------------------------------------------

#: Points per axis of the running look of :func:`classical_frame` (65: histogram matching's
#: and IDT's curves within about a level on average; docs/api.md).
LOOK_SIZE = 65


def classical_frame(src, refs, *, method: str = "mkl", previous: Look | None = None,
                    temporal: float = 0.9, report: dict | None = None, weights=None,
                    strength: float = 1.0, iterations: int = 10, bins: int = 300,
                    regrain: bool = True, seed: int = 0, space: str = "lab") -> np.ndarray:
    """A frame of a shot recolored by a classical method, consistently with the frames before.

    Fitted on each frame alone, a classical transfer follows the frame's statistics: when an
    object comes in or the camera pans, the map of colors moves, and the whole frame changes
    color (flicker). Here the frame's own map is blended with the running look of the frames
    before it (``previous``, a LUT) at a share of ``temporal`` times :func:`continuity`, which
    is 1 when the two frames' colors overlap as in one shot and 0 after a cut. The first frame
    (no ``previous``) and frames after a cut come out as the method alone gives them.

    Parameters
    ----------
    src, refs, weights, strength
        As :func:`transfer.reinhard`; frames of a shot may differ in size (the look is a map of
        colors).
    method : {'mkl', 'reinhard', 'histogram', 'idt'}
        The classical method.
    previous : transfer.temporal.Look, optional
        ``report["frame"]`` of the previous frame.
    temporal : float in [0, 1]
        Share of the running look where the frames are one shot (default 0.9; 1 keeps the first
        frame's look for the whole shot, 0 is each frame alone).
    report : dict, optional
        Filled with ``"frame"`` (the :class:`~transfer.temporal.Look` for the next frame) and
        ``"temporal"`` (the share of the look taken).
    iterations, bins, regrain, seed
        IDT's (:func:`transfer.idt`); its grain reduction applies to the blended colors.
    space
        Reinhard's.

    Returns
    -------
    ndarray
        As the method.
    """
    if method not in METHODS:
        raise InputError(f"unknown method {method!r}; expected one of {', '.join(sorted(METHODS))}")
    temporal = check_temporal(temporal)
    if previous is not None and not isinstance(previous, Look):
        raise TypeError("previous must be the Look of the preceding frame (report['frame'])")
    s, rs, w, strength = checked_inputs(src, refs, weights, strength)
    fit = fitted_map(s, rs, w, method, iterations=iterations, bins=bins, seed=seed, space=space)
    mapped = np.clip(fit(s.rgb.reshape(-1, 3)), 0.0, 1.0).reshape(s.rgb.shape)
    histogram = color_histogram(s.rgb, None if s.alpha is None else s.alpha > 0)
    share = 0.0 if previous is None else temporal * continuity(previous.histogram, histogram)
    if share > 0:
        carried = _C.apply_lut3d(s.rgb, previous.lut)
        mapped += np.float32(share) * (carried - mapped)
    if method == "idt" and regrain:
        mapped = regrain_image(s.rgb, mapped)
    if report is not None:  # the look for the next frame: only a caller that chains needs it
        look = np.clip(fit(identity_lut(LOOK_SIZE).reshape(-1, 3)), 0.0, 1.0).reshape(
            (LOOK_SIZE,) * 3 + (3,))
        if share > 0:
            look += np.float32(share) * (previous.lut - look)
        report.update(frame=Look(look.astype(np.float32), histogram), temporal=share)
    return finish(s, mapped, strength)


def classical_frames(frames, refs, *, method: str = "mkl", temporal: float = 0.9, **options):
    """The frames of one shot (an iterable of images, in order) recolored by a classical
    ``method`` without flicker: a generator of the results of :func:`classical_frame`, each
    frame given the previous one's look. ``options`` as :func:`classical_frame`'s."""
    return chain(classical_frame, frames, refs, temporal=temporal, scaled=False, method=method, **options)


def check_lut(lut, name: str = "lut") -> np.ndarray:
    """Validates a LUT array; returns it as C-contiguous float32."""
    if not hasattr(lut, "__array__"):
        raise TypeError(f"{name} must be an array of shape (N, N, N, 3), got {type(lut).__name__}")
    lut = np.asarray(lut)
    if lut.ndim != 4 or lut.shape[3] != 3 or not lut.shape[0] == lut.shape[1] == lut.shape[2]:
        raise InputError(f"{name} has shape {lut.shape}; expected (N, N, N, 3)")
    if lut.dtype.kind != "f":
        raise TypeError(f"{name} has dtype {lut.dtype}; expected floating point in [0, 1]")
    check_size(lut.shape[0], name)
    if not np.isfinite(lut).all():
        raise InputError(f"{name} holds NaN or infinite values")
    return np.ascontiguousarray(lut, dtype=np.float32)


def check_size(size, name: str = "size") -> None:
    if isinstance(size, bool) or int(size) != size or not 2 <= size <= MAX_SIZE:
        raise InputError(f"{name}: a LUT has 2 to {MAX_SIZE} points per axis, got {size!r}")


# ---- the .cube format -----------------------------------------------------------------------------


def write_cube(path, lut, *, title: str | None = None, overwrite: bool = False) -> Path:
    """Writes ``lut`` as a ``.cube`` file (atomically, as images are written).

    The values are clipped to [0, 1] and written with 6 decimals, red varying fastest, as the
    format asks. The title is written in ASCII (other characters as ``?``: grading software
    reads .cube files as ASCII).
    """
    return write_atomic(path, cube_encoder(lut, title=title), overwrite=overwrite)


def cube_encoder(lut, *, title: str | None = None):
    """The function that writes ``lut`` as a .cube file to the path it is given (for
    :class:`transfer.io.Outputs`)."""
    lut = check_lut(lut)
    size = lut.shape[0]
    lines = []
    if title:
        title = title.replace('"', "'").replace("\n", " ").encode("ascii", "replace").decode()
        lines.append(f'TITLE "{title}"')
    lines += [f"LUT_3D_SIZE {size}", "DOMAIN_MIN 0.0 0.0 0.0", "DOMAIN_MAX 1.0 1.0 1.0"]
    rows = np.clip(lut, 0.0, 1.0).transpose(2, 1, 0, 3).reshape(-1, 3)  # [b, g, r]: r fastest
    body = "\n".join(f"{r:.6f} {g:.6f} {b:.6f}" for r, g, b in rows.tolist())

    def encode(tmp):
        with open(tmp, "w", encoding="ascii", newline="\n") as f:
            f.write("\n".join(lines) + "\n" + body + "\n")

    return encode


def read_cube(path) -> np.ndarray:
    """Reads a 3-D ``.cube`` file into an ``(N, N, N, 3)`` float32 LUT.

    A domain other than [0, 1] is refused (this module's LUTs map [0, 1] colors), as are 1-D
    LUTs. Errors name the file and, where it helps, the line.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if data[:4096].translate(None, b"\t\n\r\f" + bytes(range(32, 256))):  # control bytes left
        raise InputError(f"{path}: cannot be read as a .cube text file (it holds binary data)")
    try:  # UTF-8 (a byte-order mark allowed); titles from older tools are often Latin-1
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    size, rows = None, []  # rows: (line number, text) of the values
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line[0].isdigit() or line[0] in "+-.":
            rows.append((number, line))
            continue
        key, _, rest = line.replace("\t", " ").partition(" ")
        if key == "TITLE":
            continue
        if key == "LUT_1D_SIZE":
            raise InputError(f"{path}: line {number}: a 1-D LUT; only 3-D LUTs are supported")
        if key == "LUT_3D_SIZE":
            if size is not None:
                raise InputError(f"{path}: line {number}: a second LUT_3D_SIZE")
            try:
                size = int(rest)
                check_size(size, "LUT_3D_SIZE")
            except ValueError as exc:
                raise InputError(f"{path}: line {number}: {exc}") from None
            continue
        if key in ("DOMAIN_MIN", "DOMAIN_MAX", "LUT_3D_INPUT_RANGE"):  # the last: Resolve's
            want = {"DOMAIN_MIN": [0.0] * 3, "DOMAIN_MAX": [1.0] * 3}.get(key, [0.0, 1.0])
            try:
                bounds = [float(v) for v in rest.split()]
            except ValueError:
                bounds = None
            if bounds != want:
                raise InputError(f"{path}: line {number}: {key} {rest.strip()}; only the domain "
                                 "[0, 1] is supported")
            continue
        raise InputError(f"{path}: line {number}: unexpected {line[:40]!r}")
    if size is None:
        raise InputError(f"{path}: no LUT_3D_SIZE line: not a 3-D .cube LUT")
    if len(rows) != size ** 3:
        raise InputError(f"{path}: LUT_3D_SIZE {size} needs {size ** 3} rows of values, found {len(rows)}")
    try:  # all rows at once; on a problem, row by row to name its line
        values = np.array(" ".join(line for _, line in rows).split(), dtype=np.float64)
    except ValueError:
        values = None
    if values is None or any(len(line.split()) != 3 for _, line in rows):
        for number, line in rows:
            try:
                numbers = [float(v) for v in line.split()]
            except ValueError:
                raise InputError(f"{path}: line {number}: unexpected {line[:40]!r}") from None
            if len(numbers) != 3:
                raise InputError(f"{path}: line {number}: expected three numbers, got {len(numbers)}")
    lut = values.astype(np.float32).reshape(size, size, size, 3).transpose(2, 1, 0, 3)  # [b, g, r] rows
    return check_lut(lut, str(path))
