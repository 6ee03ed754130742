"""3-D look-up tables: a classical transfer kept as a grading look and applied to other images.

The classical methods map each color alike wherever it is in the image, so the transfer they
fit between a source and its references is a function of color alone. Sampled on a regular
RGB grid it becomes a 3-D LUT, applied to images by trilinear interpolation (a C++ / CUDA
kernel); :mod:`transfer.classical.cube` reads and writes it as a ``.cube`` file.

A LUT is an array ``(N, N, N, 3)`` of float32 output RGB in [0, 1], indexed ``lut[r, g, b]``
by the input levels ``r / (N - 1)``, and so on.
"""

from __future__ import annotations

import numpy as np

from .._native import _C, check_device
from ..errors import InputError
from ..image import check_strength, color_image, finish, tensors_in_out
from .methods import color_map

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


@tensors_in_out
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


@tensors_in_out
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
