"""What the pixels of an image are: display-referred sRGB, scene-linear Rec.709, or a color
space of an OpenColorIO config.

Every method computes on display-referred sRGB in [0, 1] (and CIELab from it). A
scene-linear image (an OpenEXR render, an ACEScg plate) is brought there and back around the
transfer by :class:`Space`:

1. to scene-linear Rec.709 (by the OCIO config's own processor for a named space);
2. each pixel divided by its peak where a channel exceeds 1 (a highlight keeps its hue and
   its ratio to white), and the values below 0 (out of the Rec.709 gamut) set aside;
3. the sRGB curve: display values in [0, 1], on which the method runs;
4. back in reverse order: the curve undone, the pixel multiplied by its peak again, the
   values below 0 added back, the config's inverse processor.

A pixel within [0, 1] comes back as the method made it; a highlight of 8 stays 8 times as
bright as the method's color for it: nothing is clipped through the conversion.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass

import numpy as np

from .errors import InputError

#: The spaces known without a config.
SPACES = ("srgb", "linear")

#: The scene-linear space the methods' conversion starts from, by OCIO's built-in name.
LINEAR_REC709 = "Linear Rec.709 (sRGB)"


def srgb_encode(linear: np.ndarray) -> np.ndarray:
    """The sRGB curve (IEC 61966-2-1) of linear values in [0, 1]."""
    x = np.clip(linear, 0.0, 1.0)
    return np.where(x <= 0.0031308, 12.92 * x, 1.055 * np.power(x, 1 / 2.4) - 0.055).astype(np.float32)


def srgb_decode(encoded: np.ndarray) -> np.ndarray:
    """The inverse of :func:`srgb_encode`."""
    x = np.clip(encoded, 0.0, 1.0)
    return np.where(x <= 0.04045, x / 12.92, np.power((x + 0.055) / 1.055, 2.4)).astype(np.float32)


@dataclass
class Residual:
    """What the display values leave out of a scene-linear image: each pixel's peak (>= 1)
    and its values below 0 (None where there are none), and the alpha channel."""

    peak: np.ndarray  # (H, W, 1) float32
    below: np.ndarray | None  # (H, W, 3) float32
    alpha: np.ndarray | None
    dtype: np.dtype


@dataclass(frozen=True)
class Space:
    """A color space of pixels: ``srgb`` (default), ``linear`` (scene-linear Rec.709), or the
    name of a space in an OpenColorIO ``config`` (a file, an ``ocio://`` built-in config, or
    the ``OCIO`` environment variable's when None)."""

    name: str = "srgb"
    config: str | None = None

    def __post_init__(self):
        if self.name not in SPACES:
            _processors(self.name, self.config)  # an unknown name or config, refused now

    @property
    def display(self) -> bool:
        """Whether the pixels are already the methods' display sRGB (nothing to convert)."""
        return self.name == "srgb"

    def to_display(self, img: np.ndarray) -> tuple[np.ndarray, Residual | None]:
        """``img`` (H, W, 3 or 4) as display sRGB float32 in [0, 1] (alpha kept), with what
        :meth:`from_display` needs to restore the rest."""
        if self.display:
            return img, None
        img = np.asarray(img)
        if img.ndim != 3 or img.shape[2] not in (3, 4):
            raise InputError(f"a {self.name} image must be RGB or RGBA; got shape {img.shape}")
        rgb = _linear(img[..., :3]).copy()
        if not np.isfinite(rgb).all():
            raise InputError("the image contains NaN or infinite values")
        if self.name != "linear":
            _processors(self.name, self.config)[0].applyRGB(rgb)
        below = np.minimum(rgb, 0.0)
        np.maximum(rgb, 0.0, out=rgb)
        peak = np.maximum(rgb.max(axis=2, keepdims=True), 1.0)
        alpha = img[..., 3] if img.shape[2] == 4 else None
        shown = srgb_encode(rgb / peak)
        if alpha is not None:
            shown = np.concatenate([shown, np.clip(_linear(alpha), 0, 1)[..., None]], axis=2)
        return shown, Residual(peak, below if below.any() else None, alpha, img.dtype)

    def from_display(self, shown: np.ndarray, residual: Residual | None) -> np.ndarray:
        """The inverse of :meth:`to_display`: a method's result (on the same grid) in this
        space, float32 (float16 for a half-float source)."""
        if residual is None:
            return shown
        rgb = srgb_decode(_linear(np.asarray(shown)[..., :3])) * residual.peak
        if residual.below is not None:
            rgb += residual.below
        if self.name != "linear":
            rgb = np.ascontiguousarray(rgb, dtype=np.float32)
            _processors(self.name, self.config)[1].applyRGB(rgb)
        if residual.alpha is not None:
            rgb = np.concatenate([rgb, _linear(residual.alpha)[..., None]], axis=2)
        dtype = residual.dtype if residual.dtype == np.float16 else np.float32
        return rgb.astype(dtype, copy=False)


def _linear(a: np.ndarray) -> np.ndarray:
    """Pixel values as float32 (integers as fractions of their top value)."""
    if a.dtype == np.uint8:
        return a.astype(np.float32) / 255
    if a.dtype == np.uint16:
        return a.astype(np.float32) / 65535
    if a.dtype.kind != "f":
        raise InputError(f"pixels of dtype {a.dtype}; expected uint8, uint16 or float")
    return np.ascontiguousarray(a, dtype=np.float32)


def check_space(name, config=None) -> Space:
    """``name`` (a :class:`Space`, or its name) as a :class:`Space`; InputError naming what is
    wrong (an unknown name, a config that cannot be read)."""
    if isinstance(name, Space):
        return name
    if not isinstance(name, str) or not name:
        raise InputError(f"color_space must be a name, got {name!r}")
    return Space(name, config)


@functools.lru_cache(maxsize=16)
def _processors(name: str, config: str | None):
    """The OCIO CPU processors from ``name`` to scene-linear Rec.709 and back."""
    try:
        import PyOpenColorIO as ocio
    except ImportError:
        raise InputError(f"color space {name!r}: OpenColorIO spaces need the opencolorio package "
                         f"(pip install opencolorio); without it: {', '.join(SPACES)}") from None
    source = config or os.environ.get("OCIO")
    if not source:
        raise InputError(f"unknown color space {name!r}: expected {' or '.join(SPACES)}, or an "
                         "OpenColorIO space with a config (--ocio-config or the OCIO variable)")
    try:
        cfg = ocio.Config.CreateFromFile(source)
    except Exception as exc:  # OCIO's own exception: the file's problem in its words
        raise InputError(f"{source}: not a readable OpenColorIO config ({exc})") from None
    if cfg.getColorSpace(name) is None:
        names = [cs.getName() for cs in cfg.getColorSpaces()]
        raise InputError(f"{source}: has no color space {name!r} (it has: {', '.join(names[:12])}"
                         f"{', ...' if len(names) > 12 else ''})")
    try:  # through the config's interchange roles, to OCIO's built-in Rec.709 linear
        forward = ocio.Config.GetProcessorToBuiltinColorSpace(cfg, name, LINEAR_REC709)
        inverse = ocio.Config.GetProcessorFromBuiltinColorSpace(LINEAR_REC709, cfg, name)
    except Exception:
        if cfg.getColorSpace(LINEAR_REC709) is None:
            raise InputError(f"{source}: cannot convert {name!r} to scene-linear Rec.709: the config "
                             f"has neither the aces_interchange role nor a {LINEAR_REC709!r} space") from None
        forward = cfg.getProcessor(name, LINEAR_REC709)
        inverse = cfg.getProcessor(LINEAR_REC709, name)
    return forward.getDefaultCPUProcessor(), inverse.getDefaultCPUProcessor()


def in_space(method, src, refs, *, color_space="srgb", ocio_config=None, **options):
    """``method(src, refs, **options)`` (any transfer of this package) on images whose pixels
    are in ``color_space`` (see :class:`Space`); the result in the same space. Scene-linear
    values above 1 and below 0 pass through (module docstring)."""
    space = check_space(color_space, ocio_config)
    if space.display:
        return method(src, refs, **options)
    from .image import as_reference_list

    shown, residual = space.to_display(src)
    refs = [space.to_display(r)[0] for r in as_reference_list(refs)]
    return space.from_display(method(shown, refs, **options), residual)
