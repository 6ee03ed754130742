"""Image arrays: validation and the dtype policy shared by every method.

Dtype policy
------------
* ``uint8`` in -> ``uint8`` out, ``uint16`` in -> ``uint16`` out (rounded, clipped).
* floating point in, with values in [0, 1] -> ``float32`` out, clipped to [0, 1].
* Shapes: ``(H, W, 3)`` RGB or ``(H, W, 4)`` RGBA. An alpha channel is carried through to
  the output untouched, and pixels with alpha 0 are left out of every color statistic.
* Gray images (``(H, W)``, ``(H, W, 1)``, gray + alpha) are refused by the color transfers
  with a message that says so.
* Torch tensors (on any device) are taken wherever arrays are; a function whose image comes
  as a tensor returns a tensor on that tensor's device (:func:`tensors_in_out`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from .errors import InputError

#: Float images may stray this far outside [0, 1] (rounding in earlier processing); they are
#: clipped. Anything further out is refused rather than silently clipped.
FLOAT_RANGE_TOLERANCE = 1e-3


def is_tensor(x) -> bool:
    """Whether ``x`` is a torch tensor (without importing torch)."""
    return type(x).__module__.startswith("torch") and hasattr(x, "detach")


def _as_arrays(x):
    """A torch tensor (or a list or tuple holding some) as NumPy arrays; anything else as is."""
    if is_tensor(x):
        x = x.detach().cpu()
        return (x.float() if str(x.dtype) == "torch.bfloat16" else x).numpy()
    if isinstance(x, (list, tuple)) and any(is_tensor(v) for v in x):
        return type(x)(_as_arrays(v) for v in x)
    return x


def tensors_in_out(fn):
    """Lets the image function ``fn`` take torch tensors, on any device, wherever it takes
    arrays (the source, the references, masks); when its first argument is a tensor, its
    result comes back as a tensor on that tensor's device. NumPy in, NumPy out."""

    @functools.wraps(fn)
    def wrapped(*args, **kwargs):
        out = fn(*map(_as_arrays, args), **{k: _as_arrays(v) for k, v in kwargs.items()})
        if args and is_tensor(args[0]) and isinstance(out, np.ndarray):
            import torch

            return torch.from_numpy(np.ascontiguousarray(out)).to(args[0].device)
        return out

    return wrapped


@dataclass
class Image:
    """A validated image: float32 RGB in [0, 1], the alpha channel, and the input dtype."""

    rgb: np.ndarray  # (H, W, 3) float32, C-contiguous
    alpha: np.ndarray | None  # (H, W) in the input dtype, or None
    dtype: np.dtype
    raw: np.ndarray  # the validated input array, as given

    def visible(self, values: np.ndarray) -> np.ndarray:
        """(N, C) rows of ``values`` (laid on this image's H x W grid) at the visible pixels
        (alpha > 0)."""
        flat = values.reshape(-1, values.shape[-1])
        return flat if self.alpha is None else flat[self.alpha.reshape(-1) > 0]

    def pixels(self) -> np.ndarray:
        """(N, 3) float32 colors of the visible pixels."""
        return self.visible(self.rgb)


def _describe(img) -> str:
    return f"shape {tuple(img.shape)} and dtype {img.dtype}"


def check_array(img, name: str, *, scene_linear: bool = False) -> np.ndarray:
    """Checks type, dtype, emptiness and values; returns ``img`` as an ndarray. With
    ``scene_linear``, float values outside [0, 1] are allowed (not NaN or infinite)."""
    if not isinstance(img, np.ndarray):
        if hasattr(img, "__array__") and not isinstance(img, (str, bytes)):
            img = np.asarray(img)
        else:
            raise TypeError(f"{name} must be a NumPy array, got {type(img).__name__}")
    if not img.dtype.isnative:  # big-endian data (FITS, raw buffers): the same values, native
        img = img.astype(img.dtype.newbyteorder("="))
    if img.dtype == np.bool_ or not (img.dtype in (np.uint8, np.uint16) or img.dtype.kind == "f"):
        raise TypeError(
            f"{name} has dtype {img.dtype}; expected uint8, uint16 or floating point in [0, 1]"
        )
    if img.ndim not in (2, 3):
        raise InputError(f"{name} has {_describe(img)}; expected (H, W, 3) RGB or (H, W, 4) RGBA")
    if img.shape[0] == 0 or img.shape[1] == 0:
        raise InputError(f"{name} is empty ({_describe(img)})")
    if img.dtype.kind == "f":
        if not np.isfinite(img).all():
            raise InputError(f"{name} contains NaN or infinite values")
        lo, hi = float(img.min()), float(img.max())
        if not scene_linear and (lo < -FLOAT_RANGE_TOLERANCE or hi > 1 + FLOAT_RANGE_TOLERANCE):
            raise InputError(
                f"{name} is floating point with values in [{lo:g}, {hi:g}]; float images must "
                "lie in [0, 1] (divide 8-bit data by 255, or pass uint8; scene-linear images: "
                "color_space='linear' or --color-space linear)"
            )
    return img


def channels(img: np.ndarray) -> int:
    return 1 if img.ndim == 2 else img.shape[2]


def to_float(img: np.ndarray) -> np.ndarray:
    """Any supported dtype -> float32 in [0, 1] (same shape)."""
    if img.dtype == np.uint8:
        return img.astype(np.float32) * np.float32(1 / 255)
    if img.dtype == np.uint16:
        return img.astype(np.float32) * np.float32(1 / 65535)
    return np.clip(img, 0, 1).astype(np.float32, copy=False)


def from_float(x: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """float in [0, 1] -> ``dtype`` under the dtype policy (rounding and clipping)."""
    x = np.clip(x, 0, 1)  # a new array: scaled and rounded in place below
    if dtype in (np.uint8, np.uint16):
        top = 255 if dtype == np.uint8 else 65535
        x *= x.dtype.type(top)
        return np.rint(x, out=x).astype(dtype)
    return x.astype(np.float32, copy=False)


def color_image(img, name: str) -> Image:
    """Validates an RGB(A) image and splits it under the dtype policy."""
    img = check_array(img, name)
    c = channels(img)
    if c in (1, 2):
        raise InputError(
            f"{name} is grayscale ({_describe(img)}); color transfer needs RGB or RGBA "
            "images (a gray source is colorized, not recolored)"
        )
    if c not in (3, 4):
        raise InputError(f"{name} has {c} channels ({_describe(img)}); expected 3 (RGB) or 4 (RGBA)")
    rgb = np.ascontiguousarray(to_float(img[..., :3]))
    alpha = img[..., 3].copy() if c == 4 else None
    if alpha is not None and not (alpha > 0).any():
        raise InputError(f"{name} is fully transparent: no pixel has alpha > 0")
    return Image(rgb=rgb, alpha=alpha, dtype=img.dtype, raw=img)


def as_reference_list(refs) -> list:
    """One image, or a sequence (or 4-D stack) of images -> list of images."""
    if isinstance(refs, np.ndarray):
        return list(refs) if refs.ndim == 4 else [refs]
    if isinstance(refs, (list, tuple)):
        if not refs:
            raise InputError("refs is empty: give at least one reference image")
        return list(refs)
    if hasattr(refs, "__array__"):
        return [refs]
    raise TypeError(f"refs must be an image or a sequence of images, got {type(refs).__name__}")


def reference_names(n: int) -> list:
    """How messages name the references: ``ref`` alone, else ``refs[i]``."""
    return ["ref"] if n == 1 else [f"refs[{i}]" for i in range(n)]


def color_references(refs) -> list:
    """Each reference checked as a color image (:func:`color_image`), named as
    :func:`reference_names` says."""
    ref_list = as_reference_list(refs)
    return [color_image(r, n) for r, n in zip(ref_list, reference_names(len(ref_list)))]


def reference_weights(weights: Sequence[float] | None, n: int) -> np.ndarray:
    """Normalised per-reference weights (equal when ``weights`` is None)."""
    if weights is None:
        return np.full(n, 1.0 / n)
    w = np.asarray(weights, dtype=np.float64).reshape(-1)
    if w.size != n:
        raise InputError(f"weights has {w.size} values for {n} reference(s)")
    if not np.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
        raise InputError("weights must be finite, non-negative and not all zero")
    return w / w.sum()


def finish(src: Image, out_rgb: np.ndarray, strength: float) -> np.ndarray:
    """Blends the result with the source by ``strength``, restores alpha and the dtype."""
    if strength != 1.0:
        out_rgb = src.rgb + np.float32(strength) * (np.clip(out_rgb, 0, 1) - src.rgb)
    out = from_float(out_rgb, src.dtype)
    if src.alpha is not None:
        out = np.concatenate([out, src.alpha[..., None].astype(out.dtype, copy=False)], axis=2)
    return out


def check_strength(strength) -> float:
    try:
        s = float(strength)
    except (TypeError, ValueError):
        s = float("nan")
    if not np.isfinite(s) or s < 0 or s > 1:
        raise InputError(f"strength must be in [0, 1], got {strength!r}")
    return s


def check_weight(name: str, value) -> float:
    """A weight option: a finite number >= 0."""
    try:
        w = float(value)
    except (TypeError, ValueError):
        w = float("nan")
    if not np.isfinite(w) or w < 0:
        raise InputError(f"{name} must be a finite number >= 0, got {value!r}")
    return w


def check_seed(seed) -> int:
    """A random seed: a whole number from 0 to 2**32 - 1 (what NumPy's generators take)."""
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**32:
        raise InputError(f"seed must be a whole number from 0 to 2**32 - 1, got {seed!r}")
    return int(seed)


def check_count(name: str, value, low: int = 1, high: int | None = None) -> int:
    """A count option: a whole number in [low, high]."""
    ok = not isinstance(value, (bool, np.bool_)) and isinstance(value, (int, np.integer))
    if not ok or value < low or (high is not None and value > high):
        bound = f"from {low} to {high}" if high is not None else f">= {low}"
        raise InputError(f"{name} must be an integer {bound}, got {value!r}")
    return int(value)


#: R, G and B within this of each other (on [0, 1]) count as gray.
GRAY_TOLERANCE = 2.0 / 255.0


def is_gray(img: np.ndarray, tol: float = GRAY_TOLERANCE) -> bool:
    """True for one-channel images and for RGB(A) images whose channels agree within ``tol``."""
    img = np.asarray(img)
    if img.ndim == 2 or img.shape[2] in (1, 2):
        return True
    # a sparse look first: a color photo shows its colors on a coarse grid already
    return _channels_agree(img[::16, ::16], tol) and _channels_agree(img, tol)


def _channels_agree(img: np.ndarray, tol: float) -> bool:
    r, g, b = img[..., 0], img[..., 1], img[..., 2]
    spread = np.maximum(np.maximum(r, g), b) - np.minimum(np.minimum(r, g), b)
    if img.dtype in (np.uint8, np.uint16):  # in levels, without a float copy
        top = 255 if img.dtype == np.uint8 else 65535
        return bool(spread.max() <= tol * top + 1e-9)
    return bool(spread.max() <= tol)
