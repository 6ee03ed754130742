"""Pseudo-classes of deep features: joint k-means (the non-local term's semantic clusters,
the semantic colorization's classes)."""

from __future__ import annotations

import numpy as np


def kmeans_classes(feature_maps, k: int, seed: int) -> list:
    """Pseudo-classes: joint k-means of the L2-normalised feature vectors of one or several
    (C, h, w) maps; returns one (h, w) class map per input (seeded: reproducible)."""
    from scipy.cluster.vq import kmeans2

    from ..nnf import normalize

    flat = [normalize(f).reshape(-1, f.shape[0]) for f in feature_maps]
    samples = np.concatenate(flat).astype(np.float64)
    _, labels = kmeans2(samples, max(1, min(k, len(samples))), minit="++", seed=seed)
    out, start = [], 0
    for f, x in zip(feature_maps, flat):
        out.append(labels[start:start + len(x)].reshape(f.shape[1:]))
        start += len(x)
    return out
