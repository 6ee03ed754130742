"""The gray target and its colors: lightness kept, chroma composed within the sRGB gamut."""

from __future__ import annotations

import numpy as np

from .._native import _C
from ..color import srgb_to_lab
from ..errors import InputError
from ..image import (GRAY_TOLERANCE, as_reference_list, check_array, color_image, from_float, is_gray,
                     reference_names, to_float)

#: Most pseudo-classes of the semantic colorization (each needs enough cells at the coarsest
#: level to be a class at all; k-means' cost grows with the count).
MAX_CLASSES = 64


def gray_input(gray, name="gray"):
    """(H, W) luminance in [0, 1], the alpha channel or None, and the output dtype."""
    img = check_array(gray, name)
    alpha = None
    if img.ndim == 3 and img.shape[2] in (2, 4):
        alpha = img[..., -1].copy()
    if img.ndim == 3 and img.shape[2] >= 3:
        if not is_gray(img):
            raise InputError(f"{name} is not gray: its R, G and B differ by more than "
                             f"{GRAY_TOLERANCE * 255:.0f}/255 (use neural_transfer for color images)")
        lum = to_float(img[..., :3]).mean(axis=2)
    else:
        lum = to_float(img if img.ndim == 2 else img[..., 0])
    return np.ascontiguousarray(lum, dtype=np.float32), alpha, img.dtype


def color_refs(refs):
    ref_list = as_reference_list(refs)
    out = []
    for r, n in zip(ref_list, reference_names(len(ref_list))):
        if is_gray(np.asarray(r)):
            raise InputError(f"{n} is gray: a reference must have colors to give")
        out.append(color_image(r, n))
    return out


def gray_lightness(lum: np.ndarray) -> np.ndarray:
    """CIELab L of a gray image whose sRGB value is ``lum`` in every channel."""
    return srgb_to_lab(np.repeat(lum[..., None], 3, axis=2))[..., 0]


def compose(lightness: np.ndarray, ab: np.ndarray, *, tol: float = 0.15) -> np.ndarray:
    """sRGB image with CIELab lightness ``lightness`` and chroma ``ab``; where the color falls
    outside the gamut (clipping would change its lightness) the chroma is reduced until the
    lightness holds within ``tol`` (well inside 0.5 once the result is rounded to 8 bits)."""
    ab = np.array(ab, dtype=np.float32)
    lab = np.concatenate([lightness[..., None], ab], axis=2).astype(np.float32)
    rgb = _C.lab_to_srgb(lab)
    for _ in range(30):
        off = np.abs(srgb_to_lab(rgb)[..., 0] - lightness) > tol
        if not off.any():
            break
        ab[off] *= 0.8
        lab[..., 1:] = ab
        rgb[off] = _C.lab_to_srgb(np.ascontiguousarray(lab[off]))
    return rgb


def finish_gray(rgb, alpha, dtype):
    out = from_float(rgb, dtype if dtype in (np.uint8, np.uint16) else np.dtype(np.float32))
    if alpha is not None:
        out = np.concatenate([out, alpha[..., None].astype(out.dtype, copy=False)], axis=2)
    return out
