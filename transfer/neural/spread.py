"""The color models of what the references show, spread to what they do not.

Where the references show only part of the source's scene, the matches of the rest point at
other content, and the guidance there is wrong; the local smoothness term reaches only a few
pixels from the shown part. The paper's answer is non-local: pixels of similar color take
similar models. Here that is done directly, over the whole image at once: the models are
averaged in the source's color space (a grid over Lab, splatted with each pixel's weight,
blurred, and read back at each pixel's color; a normalized convolution), weighted by how
surely each pixel is shown (:func:`shown`), and each pixel takes that average in the measure
it is not shown. A color no shown pixel has takes the weighted mean of all models.
"""

from __future__ import annotations

import numpy as np

#: Grid cells per Lab axis (in [0, 1]) and the blur, in cells, of :func:`spread_models`.
BINS, SIGMA = 16, 1.0

#: Per backbone, :func:`shown` is 0 below the first cosine similarity of the coarsest
#: level's matches and 1 from the second on: measured with effnet-lite0 on partial references
#: (docs/quality.md), content the references do not show has a median similarity of about
#: 0.25 there, content they show about 0.55. Not measured for other backbones: no spread.
SIMILARITY = {"effnet-lite0": (0.25, 0.5)}

#: With less weight than this share of the pixels fully shown, nothing is spread.
MIN_SHOWN = 1e-3


def shown(similarity: np.ndarray, backbone: str = "effnet-lite0") -> np.ndarray:
    """How surely the references show each pixel (0 to 1), from the cosine similarity of its
    match at the coarsest level, where deep features tell content apart best."""
    unshown, sure = SIMILARITY[backbone]
    return np.clip((similarity - unshown) / (sure - unshown), 0.0, 1.0)


def color_average(values: np.ndarray, colors: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Per pixel, the ``weight``-weighted average of ``values`` (h, w, k) over the pixels of
    similar ``colors`` (h, w, 3) in [0, 1]: a normalized convolution on a :data:`BINS`^3 grid
    (Gaussian of :data:`SIGMA` cells), read back trilinearly. Where no weighted pixel has a
    similar color, the weighted mean of all."""
    from scipy.ndimage import gaussian_filter, map_coordinates

    k = values.shape[-1]
    at = np.clip(colors.reshape(-1, 3).astype(np.float64), 0, 1) * (BINS - 1)
    cell = np.rint(at).astype(np.int64)
    flat = (cell[:, 0] * BINS + cell[:, 1]) * BINS + cell[:, 2]
    w = weight.reshape(-1).astype(np.float64)
    x = values.reshape(-1, k).astype(np.float64)
    grid = (BINS,) * 3
    den = gaussian_filter(np.bincount(flat, w, BINS**3).reshape(grid), SIGMA, mode="nearest")
    mean = (w[:, None] * x).sum(axis=0) / max(w.sum(), 1e-12)
    floor = 1e-3 * max(den.max(), 1e-12)  # where nothing is near: the mean of all
    out = np.empty_like(x)
    for c in range(k):
        num = gaussian_filter(np.bincount(flat, w * x[:, c], BINS**3).reshape(grid), SIGMA, mode="nearest")
        out[:, c] = map_coordinates((num + floor * mean[c]) / (den + floor), at.T, order=1, mode="nearest")
    return out.reshape(values.shape)


def spread_models(models, src_unit: np.ndarray, confidence: np.ndarray, sure: np.ndarray):
    """The models (a, b) (h, w, 3 each), each pixel's moved to the color average of the
    shown pixels' (weight (sure x confidence)^2) in the measure 1 - ``sure`` it is not shown.
    Where the references show nothing (a flat reference), the models are left as they are."""
    weight = (sure * confidence) ** 2
    if weight.sum() < MIN_SHOWN * weight.size:
        return models
    x = np.concatenate(models, axis=2)
    average = color_average(x, src_unit, weight)
    x = sure[..., None] * x + (1 - sure[..., None]) * average
    return x[..., :3].astype(np.float32), x[..., 3:].astype(np.float32)
