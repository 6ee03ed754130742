"""sRGB <-> CIELab conversions on the native kernels (CPU or CUDA).

Same constants and conventions as ``skimage.color.rgb2lab`` / ``lab2rgb`` (D65, 2 degree
observer); the results agree with scikit-image to 1e-4.
"""

from __future__ import annotations

import numpy as np

from ._native import _C, check_device
from .image import check_array, tensors_in_out, to_float


def _last_axis3(x: np.ndarray, name: str) -> None:
    if x.ndim < 1 or x.shape[-1] != 3:
        raise ValueError(f"{name} must have 3 channels in its last axis, got shape {x.shape}")


@tensors_in_out
def rgb2lab(rgb, *, device: str = "cpu") -> np.ndarray:
    """sRGB to CIELab.

    Parameters
    ----------
    rgb : ndarray, shape (..., 3)
        uint8, uint16 or float in [0, 1].
    device : {'cpu', 'cuda'}

    Returns
    -------
    lab : ndarray of float32, shape (..., 3)
        L in [0, 100], a and b roughly in [-128, 127].

    Raises
    ------
    TypeError, ValueError
        Wrong dtype, shape, or values out of range.
    transfer.errors.CudaUnavailableError
        ``device='cuda'`` without a CUDA build or GPU.
    """
    rgb = np.asarray(rgb)
    _last_axis3(rgb, "rgb")
    check_array(rgb.reshape(-1, 1, 3), "rgb")
    kernels = check_device(device, "rgb2lab")
    if device == "cpu" and rgb.dtype == np.uint8 and rgb.ndim >= 2:
        return kernels.srgb8_to_lab(np.ascontiguousarray(rgb))
    return kernels.srgb_to_lab(np.ascontiguousarray(to_float(rgb)))


@tensors_in_out
def lab2rgb(lab, *, device: str = "cpu") -> np.ndarray:
    """CIELab to sRGB float32 in [0, 1] (out-of-gamut colors are clipped, as in scikit-image).

    Parameters
    ----------
    lab : ndarray, shape (..., 3), float
    device : {'cpu', 'cuda'}

    Raises
    ------
    TypeError, ValueError
        Non-float input, wrong shape, NaN or infinite values.
    """
    lab = np.asarray(lab)
    _last_axis3(lab, "lab")
    if lab.dtype.kind != "f":
        raise TypeError(f"lab must be floating point, got {lab.dtype}")
    if not np.isfinite(lab).all():
        raise ValueError("lab contains NaN or infinite values")
    kernels = check_device(device, "lab2rgb")
    return kernels.lab_to_srgb(np.ascontiguousarray(lab, dtype=np.float32))


# ---- for the pipelines: float RGB already checked, no copies beyond the kernel's -----------------


def srgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """Float sRGB in [0, 1] (..., 3) -> float32 CIELab, without the checks of :func:`rgb2lab`
    (for arrays a pipeline made itself)."""
    return _C.srgb_to_lab(np.ascontiguousarray(rgb, dtype=np.float32))


def lab_to_srgb(lab: np.ndarray) -> np.ndarray:
    """CIELab (..., 3) -> float32 sRGB in [0, 1], without the checks of :func:`lab2rgb`."""
    return _C.lab_to_srgb(np.ascontiguousarray(lab, dtype=np.float32))


def gray_of(rgb: np.ndarray) -> np.ndarray:
    """The sRGB gray with the same CIELab lightness as ``rgb`` (what a B&W print shows)."""
    lab = srgb_to_lab(rgb)
    lab[..., 1:] = 0.0
    return _C.lab_to_srgb(lab).mean(axis=-1)


def gray3(rgb: np.ndarray) -> np.ndarray:
    """:func:`gray_of` as three equal channels (the input of the feature networks)."""
    return np.repeat(gray_of(rgb)[..., None], 3, axis=2)
