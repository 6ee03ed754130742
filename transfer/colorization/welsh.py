"""Colorization by luminance statistics (Welsh et al. 2002), the classical baseline."""

from __future__ import annotations

import numpy as np

from ..color import srgb_to_lab
from ..image import check_count, check_seed
from .gray import color_refs, compose, finish_gray, gray_input, gray_lightness


def welsh(gray, refs, *, samples: int = 200, seed: int = 0) -> np.ndarray:
    """Colorization by luminance and neighbourhood-statistics matching (Welsh et al. 2002).

    The references' luminance is remapped to the target's mean and standard deviation; about
    ``samples`` jittered-grid samples per reference are compared with every target pixel by
    0.5 |dL| + 0.5 |d std5x5|, and the best sample gives its chroma.
    """
    from scipy.ndimage import uniform_filter
    from scipy.spatial import cKDTree

    samples = check_count("samples", samples)
    seed = check_seed(seed)
    lum, alpha, dtype = gray_input(gray)
    lightness = gray_lightness(lum)
    rng = np.random.default_rng(seed)

    def local_std(x):
        m = uniform_filter(x, 5, mode="reflect")
        return np.sqrt(np.maximum(uniform_filter(x * x, 5, mode="reflect") - m * m, 0))

    t_mean, t_std = lightness.mean(), lightness.std()
    keys, chroma = [], []
    for r in color_refs(refs):
        lab = srgb_to_lab(r.rgb)
        L = lab[..., 0]
        L = (L - L.mean()) / max(L.std(), 1e-6) * t_std + t_mean
        sd = local_std(L)
        h, w = L.shape
        side = max(1, int(np.sqrt(h * w / samples)))
        ys = np.arange(side // 2, h, side)
        xs = np.arange(side // 2, w, side)
        yy, xx = np.meshgrid(ys, xs, indexing="ij")
        yy = np.clip(yy + rng.integers(-(side // 2), side // 2 + 1, yy.shape), 0, h - 1).ravel()
        xx = np.clip(xx + rng.integers(-(side // 2), side // 2 + 1, xx.shape), 0, w - 1).ravel()
        keys.append(np.stack([L[yy, xx], sd[yy, xx]], axis=1) * 0.5)
        chroma.append(lab[yy, xx, 1:])
    tree = cKDTree(np.concatenate(keys))
    query = np.stack([lightness.ravel(), local_std(lightness).ravel()], axis=1) * 0.5
    _, idx = tree.query(query, k=1, p=1)
    ab = np.concatenate(chroma)[idx].reshape(*lightness.shape, 2)
    return finish_gray(compose(lightness, ab), alpha, dtype)
