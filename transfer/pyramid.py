"""The image pyramid that the deep pipelines share: working sizes, resampling, and the
per-level constants of the coarse-to-fine matching.

Level L of a backbone's features has one cell per ``STRIDES[L]`` pixels of its input; the
neural transfer, the colorization and the reference-scale search all match level by level,
coarsest first.
"""

from __future__ import annotations

import numpy as np

#: Pixels per feature cell at each level (both backbones).
STRIDES = {5: 16, 4: 8, 3: 4, 2: 2, 1: 1}


def search_radius(level: int, max_len: int) -> int:
    """Random-search radius of PatchMatch at a level, in the level's cells (the authors'
    schedule); ``max_len`` is the longest side of the images, in cells of that level."""
    return max(1, {5: max_len // 16, 4: max_len // 32, 3: max_len // 64, 2: 32, 1: 32}[level])


def resize(img: np.ndarray, shape) -> np.ndarray:
    """Area-aware resize of an (H, W, C) float image to ``shape`` (anti-aliased downsampling);
    float32."""
    from skimage.transform import resize as sk_resize

    if img.shape[:2] == tuple(shape):
        return img.astype(np.float32)
    down = shape[0] < img.shape[0] or shape[1] < img.shape[1]
    return sk_resize(img, shape, order=1, anti_aliasing=down, preserve_range=True).astype(np.float32)


def working_shape(shape, max_size: int) -> tuple[int, int]:
    """(H, W) of an image of ``shape`` brought down to a longest side of ``max_size``."""
    h, w = shape[:2]
    scale = max_size / max(h, w)
    if scale >= 1:
        return h, w
    return max(1, round(h * scale)), max(1, round(w * scale))


def fit(rgb: np.ndarray, max_size: int) -> np.ndarray:
    """``rgb`` scaled down so that its longest side is at most ``max_size`` (the working
    size); unchanged when it already is."""
    shape = working_shape(rgb.shape, max_size)
    if shape == rgb.shape[:2]:
        return rgb
    return np.clip(resize(rgb, shape), 0, 1)


def resample_labels(labels: np.ndarray, shape) -> np.ndarray:
    """A label map resampled to ``shape`` by nearest cell."""
    h, w = shape
    cy = (np.arange(h) * labels.shape[0] // h)[:, None]
    cx = (np.arange(w) * labels.shape[1] // w)[None, :]
    return labels[cy, cx]
