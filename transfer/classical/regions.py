"""Region-by-region transfer: masks that say where to recolor, and which part of the
references colors which part of the source.

A *region map* is an (H, W) array laid on an image:

* integer labels (or ``bool``): 0 marks pixels to leave as they are, every other label a
  region; region k of the source takes the colors of region k of the references;
* a soft mask, float in [0, 1]: one region, the mask's value the share of the transfer
  (pixels >= 0.5 belong to the region when statistics are taken).

Each source region gets its own transfer, fitted between its pixels and the references'
pixels of the same label (:func:`transfer.classical.color_map`), and the results are blended
with weights that are the region maps feathered along the source's edges by a guided filter
(He, Sun & Tang 2010): a mask drawn roughly, or computed at a lower resolution, snaps to the
edges of the picture instead of leaving a seam or a halo where two transfers meet.
"""

from __future__ import annotations

import warnings

import numpy as np

from . import methods as classical
from .._native import _C
from ..errors import InputError
from ..image import (Image, as_reference_list, check_strength, color_image, color_references, finish,
                     reference_weights, tensors_in_out, to_float)

#: A region needs at least this many visible pixels in the source, and as many in the references
#: together, for its statistics to mean anything (see `regional` for what happens otherwise).
MIN_REGION_PIXELS = 16

#: Regularisation of the guided filter, for colors in [0, 1]: edges of a contrast well above
#: sqrt(eps) (about 0.03, 8 levels) stop the feathering, smaller ones do not.
GUIDED_EPS = 1e-3

UNMATCHED = ("keep", "global", "error")
METHODS = (*sorted(classical.METHODS), "neural")


# ---- Region maps --------------------------------------------------------------------------------


def region_map(regions, shape, name: str):
    """Validates a region map for an image of ``shape`` (H, W).

    Returns ``(labels, soft)``: int32 labels (H, W), and for a soft mask its float32 values
    (else None). A map of another size with the image's aspect ratio (within 1%) is resized:
    nearest label, or bilinear for soft masks."""
    if not isinstance(regions, np.ndarray):
        if not hasattr(regions, "__array__"):
            raise TypeError(f"{name} must be a NumPy array, got {type(regions).__name__}")
        regions = np.asarray(regions)
    if regions.ndim == 3 and regions.shape[2] == 1:
        regions = regions[..., 0]
    if regions.ndim != 2:
        raise InputError(f"{name} has shape {regions.shape}; expected (H, W) labels or mask")
    if regions.size == 0:
        raise InputError(f"{name} is empty (shape {regions.shape})")
    kind = regions.dtype.kind
    if kind not in "biuf":
        raise TypeError(f"{name} has dtype {regions.dtype}; expected integer labels, bool, or a "
                        "float mask in [0, 1]")
    if kind == "f":
        soft = regions.astype(np.float32)
        if not np.isfinite(soft).all() or soft.min() < 0 or soft.max() > 1:
            raise InputError(f"{name} is a float mask; its values must be finite and in [0, 1]")
    else:
        soft = None
        labels = regions.astype(np.int64)
        if labels.min() < 0:
            raise InputError(f"{name} has negative labels; use 0 for pixels to keep and 1, 2, ... "
                             "for regions")
        if labels.max() >= 2**31:
            raise InputError(f"{name} has labels of 2^31 or more")
    h, w = shape
    if regions.shape != (h, w):
        rh, rw = regions.shape
        if abs(rh * w - rw * h) > 0.01 * h * w:
            raise InputError(f"{name} is {rh} x {rw} (H x W) but its image is {h} x {w}, another "
                             "aspect ratio")
        from skimage.transform import resize

        if soft is not None:
            soft = resize(soft, (h, w), order=1, mode="edge", anti_aliasing=False).astype(np.float32)
        else:
            rows = np.minimum((np.arange(h) + 0.5) * rh / h, rh - 1).astype(np.intp)
            cols = np.minimum((np.arange(w) + 0.5) * rw / w, rw - 1).astype(np.intp)
            labels = labels[rows[:, None], cols[None, :]]
    if soft is not None:
        labels = (soft >= 0.5).astype(np.int64)
    return labels.astype(np.int32), soft


# ---- Mask files ---------------------------------------------------------------------------------

#: A gray mask file with at most this many levels, none of them white, holds integer labels
#: (0, 1, 2, ... as exported by segmentation tools); otherwise it is a soft mask.
MAX_GRAY_LABELS = 64

#: In colored mask files, a color is a region where it fills whole 3 x 3 neighbourhoods
#: somewhere, at least this share of the file's pixels (and 16) of them; the others are the
#: blended edges of a drawing, or the ringing of a JPEG, and join the nearest region color.
REGION_INTERIOR_SHARE = 0.0005

#: Region colors this close (RGB distance) are one color shifted by lossy compression, and
#: are merged into the more frequent one. Palettes of segmentation tools keep their colors at
#: least about 30 apart.
SAME_COLOR_DISTANCE = 12


def region_maps_from_images(masks, names, colors: dict | None = None) -> list:
    """Region maps from mask images as read from files (:func:`transfer.io.read_image`).

    * If every mask is gray: a mask that reaches white (or has more than
      ``MAX_GRAY_LABELS`` levels, or is float) is a soft mask, its level over white the share
      of the transfer (black and white: region 1 where white); one with a few dark levels is
      a map of integer labels (0, 1, 2, ...).
    * If any mask has colors: every distinct color but black is a region, the same color
      the same region in every file (gray levels count as colors; soft masks as black or
      white). Colors that never fill a region's inside (the blended edges of a drawing, the
      ringing of a JPEG: :data:`REGION_INTERIOR_SHARE`) join the nearest region color, and
      region colors within :data:`SAME_COLOR_DISTANCE` of each other are one.

    Pixels with alpha 0 count as black. Returns one array per mask: float32 soft masks or
    int32 labels, ready for :func:`regional`. ``colors``, a dict, receives the color of each
    label read from colored masks (label -> (r, g, b)), for pictures of the regions.
    """
    parsed = [_mask_values(np.asarray(m), n) for m, n in zip(masks, names)]
    if all(kind != "color" for kind, _, _ in parsed):
        return [values for _, values, _ in parsed]
    keys = [_color_key(kind, values, name) for (kind, values, name) in parsed]
    palette = np.unique(np.concatenate([np.unique(k) for k in keys]))
    palette = palette[palette != 0]
    if colors is not None:
        colors.update({i + 1: (int(k) >> 16, (int(k) >> 8) & 255, int(k) & 255)
                       for i, k in enumerate(palette)})
    return [np.where(k == 0, 0, np.searchsorted(palette, k) + 1).astype(np.int32) for k in keys]


def _mask_values(img: np.ndarray, name: str):
    """(kind, values, name): kind 'soft' (float32 in [0, 1]), 'labels' (int32), or 'color'
    (packed 8-bit RGB keys, edge colors joined to region colors)."""
    if img.dtype.kind not in "uif" or img.ndim not in (2, 3) or img.size == 0:
        raise InputError(f"{name}: not a mask image (shape {img.shape}, dtype {img.dtype})")
    alpha = None
    if img.ndim == 3 and img.shape[2] in (2, 4):
        img, alpha = img[..., :-1], img[..., -1]
    if img.ndim == 3 and (img.shape[2] == 1 or (img == img[..., :1]).all()):
        img = img[..., 0]
    top = np.iinfo(img.dtype).max if img.dtype.kind in "ui" else 1.0
    hidden = None if alpha is None else alpha == 0
    if img.ndim == 2:
        levels = np.unique(img)
        if img.dtype.kind in "ui" and levels[-1] < top and len(levels) <= MAX_GRAY_LABELS:
            values, kind = img.astype(np.int32), "labels"
        else:
            if img.dtype.kind == "f" and not (np.isfinite(img).all() and img.min() >= 0 and img.max() <= 1):
                raise InputError(f"{name}: a float mask must have values in [0, 1]")
            values, kind = (img / top).astype(np.float32), "soft"
        if hidden is not None:
            values[hidden] = 0
        return kind, values, name
    if img.shape[2] != 3:
        raise InputError(f"{name}: a mask image must be gray or RGB, with or without alpha")
    c8 = (img >> 8 if img.dtype == np.uint16 else
          np.rint(np.clip(img, 0, 1) * 255) if img.dtype.kind == "f" else img).astype(np.int64)
    key = (c8[..., 0] << 16) | (c8[..., 1] << 8) | c8[..., 2]
    if hidden is not None:
        key[hidden] = 0
    return "color", _join_edge_colors(key), name


def _join_edge_colors(key: np.ndarray) -> np.ndarray:
    """Packed colors -> the same with edge colors and compression shifts joined to region
    colors (see :func:`region_maps_from_images`)."""
    colors, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
    inverse = inverse.reshape(key.shape)
    # pixels whose 3 x 3 neighbourhood has their color only (the border cannot tell: it is not)
    inside = np.zeros(key.shape, bool)
    if min(key.shape) >= 3:
        core = key[1:-1, 1:-1]
        same = np.ones(core.shape, bool)
        for dy in (0, 1, 2):
            for dx in (0, 1, 2):
                same &= key[dy:dy + core.shape[0], dx:dx + core.shape[1]] == core
        inside[1:-1, 1:-1] = same
    interior = np.bincount(inverse[inside], minlength=len(colors))
    region = interior >= max(16, REGION_INTERIOR_SHARE * key.size)
    if not region.any():  # a mask too small or too busy for insides: its commonest color
        region = counts == counts.max()
    rgb = np.stack([(colors >> s) & 255 for s in (16, 8, 0)], axis=1).astype(np.float64)
    # near-duplicates among the region colors join the more frequent one, then every color
    # the nearest remaining region color
    order = np.flatnonzero(region)[np.argsort(-counts[region], kind="stable")]
    kept = []
    for i in order:
        if not kept or np.sqrt(((rgb[kept] - rgb[i]) ** 2).sum(axis=1)).min() > SAME_COLOR_DISTANCE:
            kept.append(i)
    kept = np.array(kept)
    near = ((rgb[:, None] - rgb[kept][None]) ** 2).sum(-1).argmin(axis=1)
    return colors[kept][near][inverse]


def _color_key(kind: str, values: np.ndarray, name: str) -> np.ndarray:
    if kind == "color":
        return values
    if kind == "soft":
        return np.where(values >= 0.5, 0xFFFFFF, 0).astype(np.int64)
    if values.max() > 255:
        raise InputError(f"{name}: a gray label map with labels above 255 cannot be matched to "
                         "colored masks; give all masks as labels or all as colors")
    return values.astype(np.int64) * 0x010101


# ---- Feathering ---------------------------------------------------------------------------------


def guided_filter(guide: np.ndarray, p: np.ndarray, radius: int, eps: float = GUIDED_EPS,
                  subsample: int = 1) -> np.ndarray:
    """Guided filter with a color guide (He, Sun & Tang 2010, their eq. 19-21).

    ``guide`` (H, W, 3) float in [0, 1]; ``p`` (H, W) or (H, W, K), each channel filtered
    alone. Windows of (2 radius + 1)^2 pixels, the edge pixels repeated past the border. In
    every window the output is an affine function of the guide's colors fitted to ``p`` by
    ridge regression (``eps``), averaged over the windows that cover a pixel: it follows ``p``
    but takes its edges from the guide. ``subsample`` > 1 fits the affine functions on an
    image that much smaller and applies them at full size (the fast guided filter, He & Sun
    2015)."""
    from scipy.ndimage import uniform_filter

    squeeze = p.ndim == 2
    p = np.ascontiguousarray(p[..., None] if squeeze else p, dtype=np.float32)
    full = np.ascontiguousarray(guide, dtype=np.float32)
    h, w = full.shape[:2]
    if subsample > 1:
        small = (max(1, round(h / subsample)), max(1, round(w / subsample)))
        g, p = _C.resize_bilinear(full, *small), _C.resize_bilinear(p, *small)
        radius = max(1, round(radius / subsample))
    else:
        g = full
    size = 2 * radius + 1

    def box(x):  # window means; 'nearest' keeps a constant constant at the border
        return uniform_filter(x, size, mode="nearest")

    gc = [g[..., i] for i in range(3)]
    mean_g = [box(c) for c in gc]

    def cov(x, mean_x, i):  # window covariance of x with the guide's channel i
        return box(x * gc[i]) - mean_x * mean_g[i]

    # The guide's window covariance plus eps I, inverted in closed form (symmetric 3 x 3).
    xx, xy, xz = cov(gc[0], mean_g[0], 0) + eps, cov(gc[1], mean_g[1], 0), cov(gc[2], mean_g[2], 0)
    yy, yz, zz = cov(gc[1], mean_g[1], 1) + eps, cov(gc[2], mean_g[2], 1), cov(gc[2], mean_g[2], 2) + eps
    i00, i01, i02 = yy * zz - yz * yz, xz * yz - xy * zz, xy * yz - xz * yy
    i11, i12, i22 = xx * zz - xz * xz, xy * xz - xx * yz, xx * yy - xy * xy
    det = xx * i00 + xy * i01 + xz * i02
    inv = [[i00, i01, i02], [i01, i11, i12], [i02, i12, i22]]
    out = np.empty((h, w, p.shape[2]), np.float32)
    for k in range(p.shape[2]):  # one channel at a time: full-size temporaries stay small
        pk = p[..., k]
        mean_p = box(pk)
        c = [cov(pk, mean_p, i) for i in range(3)]
        a = [(inv[i][0] * c[0] + inv[i][1] * c[1] + inv[i][2] * c[2]) / det for i in range(3)]
        coeffs = np.stack([box(a[0]), box(a[1]), box(a[2]),
                           box(mean_p - a[0] * mean_g[0] - a[1] * mean_g[1] - a[2] * mean_g[2])], axis=-1)
        if subsample > 1:
            coeffs = _C.resize_bilinear(coeffs, h, w)
        out[..., k] = (coeffs[..., 0] * full[..., 0] + coeffs[..., 1] * full[..., 1]
                       + coeffs[..., 2] * full[..., 2] + coeffs[..., 3])
    return out[..., 0] if squeeze else out


def feather_radius(shape, feather) -> int:
    """``feather`` in pixels; 'auto': 1% of the longer side (at least 2)."""
    if isinstance(feather, str):
        if feather != "auto":
            raise InputError(f"feather must be a number of pixels >= 0 or 'auto', got {feather!r}")
        return max(2, round(0.01 * max(shape)))
    try:
        r = float(feather)
    except (TypeError, ValueError):
        r = float("nan")
    if not np.isfinite(r) or r < 0 or r != int(r):
        raise InputError(f"feather must be a whole number of pixels >= 0 or 'auto', got {feather!r}")
    return int(r)


def blend_weights(guide: np.ndarray, index: np.ndarray, count: int, radius: int,
                  soft: np.ndarray | None = None) -> np.ndarray:
    """Blending weights (count, H, W) of the regions, summing to 1 at every pixel.

    ``index`` (H, W) gives each pixel's region, 0 for pixels left as they are; with ``soft``
    (one region), its values are the region's share instead. Feathered by the guided filter
    (``radius`` 0: as given), then clipped to [0, 1] and normalised; shares under 1e-3 are
    dropped, so that each region's transfer is only evaluated where it shows."""
    if soft is not None:
        weights = np.stack([1 - soft, soft])
    else:
        weights = (index[None] == np.arange(count)[:, None, None]).astype(np.float32)
    if radius > 0:
        # The filter is linear and keeps constants, so the weights still sum to 1 before the
        # clipping. Wide radii fit the filter's models on a smaller image (a window of at
        # least 9 x 9 pixels there): 0.2 s instead of 2.6 s at 2048 x 2048 with 3 regions, and
        # weights within 3e-4 on average of the full filter's.
        weights = np.moveaxis(guided_filter(guide, np.moveaxis(weights, 0, -1), radius,
                                            subsample=max(1, radius // 4)), -1, 0)
    weights = np.clip(weights, 0, 1)
    weights[weights < 1e-3] = 0
    total = weights.sum(axis=0)
    # Clipping can leave no weight where every share was below 1e-3: keep the pixel's own region.
    empty = total == 0
    if empty.any():
        weights[:, empty] = index[empty][None] == np.arange(count)[:, None]
        total[empty] = 1
    return (weights / total).astype(np.float32)


# ---- The transfer -------------------------------------------------------------------------------


def _restricted(img: Image, mask: np.ndarray) -> Image:
    """``img`` with only its visible pixels inside ``mask`` visible (the same arrays, another
    alpha): the classical fits take their statistics from the visible pixels."""
    if img.alpha is not None:
        mask = mask & (img.alpha > 0)
    return Image(rgb=img.rgb, alpha=mask, dtype=img.dtype, raw=img.raw)


def _visible(img: Image) -> np.ndarray:
    return np.ones(img.rgb.shape[:2], bool) if img.alpha is None else img.alpha > 0


@tensors_in_out
def regional(src, refs, src_regions, ref_regions=None, *, method: str = "mkl", feather="auto",
             unmatched: str = "keep", weights=None, strength: float = 1.0,
             report: dict | None = None, **options) -> np.ndarray:
    """Transfers colors region by region: region k of ``src`` takes the colors of region k of
    the references; label 0 of ``src_regions`` is left as it is.

    Parameters
    ----------
    src, refs, strength
        As :func:`transfer.reinhard`.
    weights
        As the method takes it: the references' weights (classical methods, as
        :func:`transfer.reinhard`), or the backbone's weights file (neural).
    src_regions : (H, W) array
        Region map of the source: integer labels (0: keep), ``bool``, or a float mask in
        [0, 1] (one region, the mask's value its share). Another size with the same aspect
        ratio is resized.
    ref_regions : sequence of region maps (or None entries), optional
        One per reference, the same kinds as ``src_regions``. None (default, or as an entry):
        every pixel of that reference serves every region, so that a mask of the source alone
        says where to recolor.
    method : {'histogram', 'idt', 'mkl', 'reinhard', 'neural'}
        The transfer fitted per region (classical methods). ``'neural'`` matches regions by
        itself: its result over the whole source is blended in by ``src_regions`` only (no
        ``ref_regions``).
    feather : int or 'auto'
        Radius in pixels of the guided filter that feathers the region maps along the
        source's edges ('auto': 1% of the longer side; 0: the maps as given).
    unmatched : {'keep', 'global', 'error'}
        A source region without pixels in any reference (or with under
        ``MIN_REGION_PIXELS``): left as it is with a warning, transferred from the whole
        references, or an error.
    report : dict, optional
        Filled with ``"weights"`` (regions + 1, H, W) (index 0: kept as is), ``"labels"`` (the
        label of each weight map, 0 first) and ``"unmatched"`` (labels left as they are).
    **options
        The method's own options: ``iterations``, ``bins``, ``seed``, ``regrain`` (idt),
        ``space`` (reinhard), or those of :func:`transfer.neural_transfer`.

    Returns
    -------
    ndarray
        Same shape as ``src``; dtype per the dtype policy.
    """
    if method not in METHODS:
        raise InputError(f"unknown method {method!r}; expected one of {', '.join(METHODS)}")
    if unmatched not in UNMATCHED:
        raise InputError(f"unmatched must be one of {', '.join(UNMATCHED)}, got {unmatched!r}")
    s = color_image(src, "src")
    strength = check_strength(strength)
    shape = s.rgb.shape[:2]
    radius = feather_radius(shape, feather)
    labels, soft = region_map(src_regions, shape, "src_regions")
    ref_list = as_reference_list(refs)
    if method == "neural":
        return _regional_neural(s, src, ref_list, labels, soft, ref_regions, radius, strength,
                                weights, report, options)
    allowed = {"idt": {"iterations", "bins", "seed", "regrain"}, "reinhard": {"space"}}.get(method, set())
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise TypeError(f"regional() got option(s) {', '.join(unknown)} that method {method!r} does not take")
    regrain = method == "idt" and bool(options.pop("regrain", True))
    rs = color_references(ref_list)
    maps, kept = _fit_regions(s, rs, labels, _reference_maps(ref_regions, rs),
                              reference_weights(weights, len(rs)), method, unmatched, options)
    out, blend, order = _blend_regions(s, labels, soft, maps, radius, regrain)
    if report is not None:
        report.update(weights=blend, labels=order, unmatched=kept)
    return finish(s, out, strength)


def _fit_regions(s, rs, labels, ref_labels, w, method, unmatched, options):
    """The method's map of colors fitted per region of the source, from the same region of
    the references: ``(label, map)`` pairs, and the labels left as they are."""
    visible = _visible(s)
    regions = [int(k) for k in np.unique(labels[visible]) if k != 0]
    maps, kept = [], []
    for k in regions:
        in_src = (labels == k) & visible
        n_src = int(in_src.sum())
        served = [None if ref_labels is None or m is None else m == k
                  for m in (ref_labels or [None] * len(rs))]
        use, n_ref = _serving(rs, served, w)
        if n_ref < MIN_REGION_PIXELS and unmatched == "global":  # from the whole references
            served = [None] * len(rs)
            use, n_ref = _serving(rs, served, w)
        if n_src < MIN_REGION_PIXELS or n_ref < MIN_REGION_PIXELS:
            if n_src >= MIN_REGION_PIXELS:  # a speck of the source is not worth a message
                message = (f"region {k} of the source has no pixels in any reference (or fewer "
                           f"than {MIN_REGION_PIXELS})")
                if unmatched == "error":
                    raise InputError(message)
                warnings.warn(f"{message}; it is left as it is", stacklevel=3)
            kept.append(k)
            continue
        region_refs = [r if m is None else _restricted(r, m) for r, m, u in zip(rs, served, use) if u]
        w_used = np.array([wi for wi, u in zip(w, use) if u])
        maps.append((k, classical.fitted_map(_restricted(s, in_src), region_refs,
                                             w_used / w_used.sum(), method, **options)))
    return maps, kept


def _blend_regions(s, labels, soft, maps, radius, regrain):
    """Each region's colors blended by the feathered region weights (the source's own where
    it is kept); ``(rgb, weights, labels of the weight maps)``."""
    shape = s.rgb.shape[:2]
    order = [0] + [k for k, _ in maps]  # weight map i belongs to label order[i]
    index = np.zeros(shape, np.int32)
    for i, (k, _) in enumerate(maps, start=1):
        index[labels == k] = i
    blend = blend_weights(s.rgb, index, len(order), radius, soft if maps else None)
    flat = s.rgb.reshape(-1, 3)
    out = flat * blend[0].reshape(-1, 1)
    for i, (_, f) in enumerate(maps, start=1):
        share = blend[i].reshape(-1)
        at = np.flatnonzero(share)
        out[at] += share[at, None] * np.clip(f(flat[at]), 0, 1)
    out = out.reshape(s.rgb.shape)
    if regrain and maps:  # a solve over the whole image: blended again, so that kept pixels stay
        regrained = classical.regrain_image(s.rgb, np.clip(out, 0, 1))
        keep = blend[0][..., None]  # (the convex form is exact where keep is 0 or 1)
        out = keep * s.rgb + (1 - keep) * regrained
    return out, blend, order


def _serving(rs, served, w):
    """Which references take part in a region (visible pixels in it and a weight > 0), and
    how many pixels they give it."""
    counts = [int(_visible(r).sum() if m is None else (m & _visible(r)).sum())
              for r, m in zip(rs, served)]
    use = [c > 0 and wi > 0 for c, wi in zip(counts, w)]
    return use, sum(c for c, u in zip(counts, use) if u)


def _reference_maps(ref_regions, rs):
    """The references' region maps as int32 labels (None: the whole reference)."""
    if ref_regions is None:
        return None
    if isinstance(ref_regions, np.ndarray) and ref_regions.ndim == 2:
        ref_regions = [ref_regions]
    if not isinstance(ref_regions, (list, tuple)):
        raise TypeError("ref_regions must be a sequence with one region map (or None) per reference")
    if len(ref_regions) != len(rs):
        raise InputError(f"ref_regions has {len(ref_regions)} maps for {len(rs)} reference(s)")
    return [None if m is None else region_map(m, r.rgb.shape[:2], f"ref_regions[{i}]")[0]
            for i, (m, r) in enumerate(zip(ref_regions, rs))]


def _regional_neural(s, src, ref_list, labels, soft, ref_regions, radius, strength, weights,
                     report, options):
    """The neural transfer blended in by the source's region map (all regions alike)."""
    from ..neural.pipeline import neural_transfer

    if ref_regions is not None:
        raise InputError("ref_regions: the neural method finds the corresponding regions by "
                         "itself; region maps of the references are for the classical methods")
    index = (labels > 0).astype(np.int32) * _visible(s)
    blend = blend_weights(s.rgb, index, 2, radius, soft)
    result = to_float(neural_transfer(src, ref_list, weights=weights, report=report, **options)[..., :3])
    out = s.rgb * blend[0][..., None] + result * blend[1][..., None]
    if report is not None:
        report.update(weights=blend, labels=[0, 1], unmatched=[])
    return finish(s, out, strength)
