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


def make_clip(path, images, frames: int, *, size=(160, 96), rate: int = 24, audio: bool = True):
    """Writes a video of one shot per image in ``images`` (RGB arrays), each ``frames`` frames
    of a slow pan across the image at ``size`` (width, height), with a sine tone as audio
    (AAC) when ``audio``; the codec by the extension (:mod:`transfer.video`). Returns the path."""
    import av

    from .pyramid import resize
    from .video import CODECS, codec_of

    width, height = size
    name, pix_fmt, options, _ = CODECS[codec_of(path)]
    with av.open(str(path), "w") as out:
        video = out.add_stream(name, rate=rate, options=dict(options))
        video.width, video.height, video.pix_fmt = width, height, pix_fmt
        sound = out.add_stream("aac", rate=48000) if audio else None
        for img in images:
            scale = max(1.25 * width / img.shape[1], 1.25 * height / img.shape[0])
            big = resize(img, (int(img.shape[0] * scale + 0.5), int(img.shape[1] * scale + 0.5)))
            for i in range(frames):
                x = int((big.shape[1] - width) * i / max(1, frames - 1))
                crop = np.ascontiguousarray(big[: height, x: x + width, :3])
                crop = np.clip(crop, 0, 255).astype(np.uint8) if crop.dtype != np.uint8 else crop
                out.mux(video.encode(av.VideoFrame.from_ndarray(crop, format="rgb24")))
        out.mux(video.encode(None))
        if sound is not None:
            seconds = len(images) * frames / rate
            t = np.arange(int(48000 * seconds)) / 48000
            tone = (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
            for start in range(0, tone.size, 1024):
                chunk = av.AudioFrame.from_ndarray(tone[None, start: start + 1024], format="flt",
                                                   layout="mono")
                chunk.sample_rate, chunk.pts = 48000, start
                out.mux(sound.encode(chunk))
            out.mux(sound.encode(None))
    return path
