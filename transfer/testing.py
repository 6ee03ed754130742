"""Helpers for tests and benchmarks: fixed feature extractors that need no weights file.

``conv_features`` is a fixed random convolutional layer pair (seeded), a stand-in for a deep
backbone when the real one is not the subject: like deep features, its responses survive a
color change better than raw pixels and are coherent across an image.
"""

from __future__ import annotations

import numpy as np


def conv_features(img: np.ndarray, channels: int, size, *, seed: int = 0,
                  gray: bool = False) -> np.ndarray:
    """(channels, H, W) float32 features of an RGB image at output size ``size`` = (H, W):
    two seeded 3x3 convolutions with ReLU on the image resized to 4x the output size, then
    4x4 average pooling. ``gray=True`` feeds them the locally contrast-normalised luminance
    instead of the colors, which makes the features robust to a change of colors."""
    import torch
    import torch.nn.functional as F

    h, w = size
    x = torch.from_numpy(np.ascontiguousarray(img, dtype=np.float32) / (255 if img.dtype == np.uint8 else 1))
    x = x.permute(2, 0, 1)[None]
    if gray:  # luminance with local contrast normalisation: robust to color changes
        x = (0.299 * x[:, :1] + 0.587 * x[:, 1:2] + 0.114 * x[:, 2:3])
        mean = F.avg_pool2d(x, 9, stride=1, padding=4, count_include_pad=False)
        var = F.avg_pool2d((x - mean) ** 2, 9, stride=1, padding=4, count_include_pad=False)
        x = ((x - mean) / (var.sqrt() + 0.02)).repeat(1, 3, 1, 1) * 0.25 + 0.5
    x = F.interpolate(x, size=(4 * h, 4 * w), mode="bilinear", align_corners=False, antialias=True)
    gen = torch.Generator().manual_seed(seed)
    w1 = torch.randn(32, 3, 3, 3, generator=gen) / np.sqrt(27)
    w2 = torch.randn(channels, 32, 3, 3, generator=gen) / np.sqrt(288)
    with torch.inference_mode():
        y = F.relu(F.conv2d(x - 0.5, w1, padding=1))
        y = F.relu(F.conv2d(y, w2, padding=1))
        y = F.avg_pool2d(y, 4)
    return y[0].numpy().astype(np.float32)
