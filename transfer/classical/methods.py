"""Classical global color transfers: the fast baselines.

Every function takes a source image and one or several references and returns the source
recolored, under the dtype policy of :mod:`transfer.image`. Several references act through
their pooled color distribution, each reference weighted by ``weights`` (equal by default,
whatever the image sizes). ``strength`` blends between the source (0) and the full transfer
(1). Pixels with alpha 0 are left out of the statistics; alpha is carried through.

* :func:`reinhard`: mean and standard deviation per CIELab channel (Reinhard et al. 2001).
* :func:`histogram`: per-channel CDF matching in RGB.
* :func:`mkl`: Monge-Kantorovich linear map between color covariances (Pitie & Kokaram 2007).
* :func:`idt`: iterative distribution transfer, matching the full 3-D color distribution by
  1-D transfers along rotated axes (Pitie et al. 2005), with optional grain reduction (2007).
"""

from __future__ import annotations

import numpy as np

from .._native import _C
from ..errors import InputError
from ..image import (Image, check_seed, check_strength, color_image, color_references, finish,
                     reference_weights, tensors_in_out)

_EPS = 1e-8

#: Most that Reinhard's and MKL's maps stretch the source's spread, per channel or direction.
#: A flat or nearly flat source (one color, a clear sky under a mask, a 1x1 image) has no
#: spread to stretch: its colors go to the reference's mean (moved by their own small
#: offsets from the source's) instead of to noise amplified without bound.
MAX_GAIN = 10.0


def checked_inputs(src, refs, weights, strength):
    """The source and the references as checked :class:`~transfer.image.Image` objects (those
    with a weight > 0), their normalised weights and the strength."""
    s = color_image(src, "src")
    rs = color_references(refs)
    w = reference_weights(weights, len(rs))
    used = w > 0  # a reference with weight 0 takes no part at all (not even in IDT's ranges)
    return s, [r for r, u in zip(rs, used) if u], w[used], check_strength(strength)


def _moments(x: np.ndarray):
    """Mean (3,) and covariance (3, 3), in float64, of (N, 3) float32 samples."""
    return _C.moments(np.ascontiguousarray(x))


def _pooled(moments, weights):
    """Mean and covariance of the mixture of distributions given by (mean, cov) pairs."""
    mu = sum(w * m for w, (m, _) in zip(weights, moments))
    second = sum(w * (c + np.outer(m, m)) for w, (m, c) in zip(weights, moments))
    return mu, second - np.outer(mu, mu)


# ---- Reinhard -----------------------------------------------------------------------------------


@tensors_in_out
def reinhard(src, refs, *, weights=None, strength: float = 1.0, space: str = "lab") -> np.ndarray:
    """Reinhard et al. (2001) color transfer: match the mean and standard deviation of each
    channel of a decorrelated color space: CIELab (default), or the paper's l-alpha-beta.

    Parameters
    ----------
    src : ndarray, (H, W, 3) or (H, W, 4)
        Image to recolor: uint8, uint16, or float in [0, 1].
    refs : ndarray or sequence of ndarrays
        Reference image(s), any supported dtype and size.
    weights : sequence of float, optional
        Relative weight of each reference in the pooled statistics (default equal).
    strength : float in [0, 1]
        0 returns the source, 1 the full transfer.
    space : {'lab', 'lalphabeta'}
        Where the statistics are matched: CIELab (D65), or l-alpha-beta, the paper's space
        (Ruderman et al. 1998: the logarithm of LMS cone responses to linear sRGB,
        decorrelated; :func:`lalphabeta`).

    Returns
    -------
    ndarray
        Same shape as ``src``; dtype per the dtype policy.

    Raises
    ------
    TypeError, ValueError
        Bad dtype, shape, values, weights, strength or space (the message names the argument).
    """
    check_space(space)
    s, rs, w, strength = checked_inputs(src, refs, weights, strength)
    if space == "lab":
        lab = _lab(s)
        fit = _reinhard_fit(s.visible(lab), rs, w)
        if s.dtype == np.uint8 and strength == 1.0:  # the same bytes, without float images
            return _C.lab_affine_u8(np.ascontiguousarray(s.raw), *fit)
        out = _C.lab_affine_to_srgb(lab, *fit)
    else:
        lab = lalphabeta(s.rgb)
        scale, shift = _reinhard_fit(s.visible(lab), rs, w, space)
        out = lalphabeta_to_rgb(lab * scale + shift)
    return finish(s, out, strength)


def _reinhard_fit(lab_src: np.ndarray, rs, w, space: str = "lab"):
    """Per-channel scale and shift (float32) from the source's visible pixels in ``space``."""
    mu_s, cov_s = _moments(lab_src)
    to_space = _lab if space == "lab" else (lambda r: lalphabeta(r.rgb))
    mu_r, cov_r = _pooled([_moments(r.visible(to_space(r))) for r in rs], w)
    std_r = np.sqrt(np.diag(cov_r))
    scale = std_r / np.maximum(np.maximum(np.sqrt(np.diag(cov_s)), std_r / MAX_GAIN), _EPS)
    shift = mu_r - mu_s * scale
    return scale.astype(np.float32), shift.astype(np.float32)


REINHARD_SPACES = ("lab", "lalphabeta")


def check_space(space) -> None:
    if space not in REINHARD_SPACES:
        raise InputError(f"unknown space {space!r}; expected one of {', '.join(REINHARD_SPACES)}")


# Reinhard et al.'s l-alpha-beta: linear RGB -> LMS cone responses (their matrix), log10,
# then the decorrelating rotation of Ruderman et al.
_RGB_TO_LMS = np.array([[0.3811, 0.5783, 0.0402], [0.1967, 0.7244, 0.0782], [0.0241, 0.1288, 0.8444]])
_LOG_LMS_TO_LAB = np.diag([3**-0.5, 6**-0.5, 2**-0.5]) @ np.array([[1, 1, 1], [1, 1, -2], [1, -1, 0]])
#: Cone responses are floored here before the logarithm (black has none): a linear level of
#: 1e-4, 0.1% of an 8-bit step above black.
LMS_FLOOR = 1e-4


def lalphabeta(rgb: np.ndarray) -> np.ndarray:
    """sRGB in [0, 1] (..., 3) -> l-alpha-beta (float32), as Reinhard et al. 2001."""
    rgb = np.asarray(rgb, np.float32)
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    lms = linear @ _RGB_TO_LMS.T.astype(np.float32)
    return (np.log10(np.maximum(lms, LMS_FLOOR)) @ _LOG_LMS_TO_LAB.T.astype(np.float32)).astype(np.float32)


def lalphabeta_to_rgb(lab: np.ndarray) -> np.ndarray:
    """Inverse of :func:`lalphabeta` (float32 sRGB, not clipped: out-of-gamut colors stay out)."""
    lms = 10.0 ** (np.asarray(lab, np.float32) @ np.linalg.inv(_LOG_LMS_TO_LAB).T.astype(np.float32))
    linear = np.maximum(lms @ np.linalg.inv(_RGB_TO_LMS).T.astype(np.float32), 0)
    return np.where(linear <= 0.0031308, linear * 12.92,
                    1.055 * linear ** (1 / 2.4) - 0.055).astype(np.float32)


def _lab(img: Image) -> np.ndarray:
    """CIELab of the whole image (8-bit images through the per-level linearisation table)."""
    if img.dtype == np.uint8:
        return _C.srgb8_to_lab(np.ascontiguousarray(img.raw))
    return _C.srgb_to_lab(img.rgb)


# ---- 1-D distribution transfer (shared by histogram matching and IDT) ---------------------------


def _reference_cdf(ref_counts, ref_weights) -> np.ndarray:
    """Pooled reference CDF at the bin edges (bins + 1 values from 0 to 1)."""
    bins = len(ref_counts[0])
    c_ref = np.zeros(bins + 1)
    for w, counts in zip(ref_weights, ref_counts):
        total = counts.sum()
        if total > 0:
            c_ref[1:] += w * np.cumsum(counts, dtype=np.float64) / total
    return c_ref / c_ref[-1]


def _inverse_cdf(c_ref: np.ndarray, edges: np.ndarray, q: np.ndarray, side: str) -> np.ndarray:
    """Quantile function of the piecewise-linear CDF ``c_ref`` over ``edges`` at levels q.

    side='left': inf{y : F(y) >= q}, the limit from below at a plateau of F;
    side='right': inf{y : F(y) > q}, the limit from above (used where q < 1).
    """
    bins = len(edges) - 1
    j = np.searchsorted(c_ref, q, side=side)
    if side == "right":
        j = np.where(q >= 1.0, np.searchsorted(c_ref, q, side="left"), j)
    j = np.clip(np.maximum(j, np.searchsorted(c_ref, 0.0, side="right")), 1, bins)
    lower, upper = c_ref[j - 1], c_ref[j]
    step = np.where(upper > lower, upper - lower, 1.0)
    frac = np.clip(np.where(upper > lower, (q - lower) / step, 0.0), 0.0, 1.0)
    return edges[j - 1] + frac * (edges[1] - edges[0])


def cdf_transfer_map(src_counts: np.ndarray, ref_counts, ref_weights, lo: float, hi: float):
    """Monotone 1-D transfer map ``F_ref^-1(F_src(x))`` between binned distributions.

    Both CDFs are piecewise linear over the same ``bins`` equal bins of [lo, hi); so the map
    is affine inside each source bin, from ``left[k]`` at its lower edge to ``right[k]`` at its
    upper edge (one-sided limits, so that a bin next to an empty one keeps its own range and
    identical distributions give exactly the identity).

    Parameters
    ----------
    src_counts : (bins,) counts of the source.
    ref_counts : list of (bins,) counts, one per reference, pooled with ``ref_weights``.

    Returns
    -------
    left, right : (bins,) float64 arrays
    """
    bins = src_counts.shape[0]
    edges = np.linspace(lo, hi, bins + 1)
    c_src = np.concatenate([[0.0], np.cumsum(src_counts, dtype=np.float64)])
    c_src /= max(c_src[-1], 1.0)
    c_ref = _reference_cdf(ref_counts, ref_weights)
    return (_inverse_cdf(c_ref, edges, c_src[:-1], "right"),
            _inverse_cdf(c_ref, edges, c_src[1:], "left"))


def mid_quantile_map(src_counts: np.ndarray, ref_counts, ref_weights, lo: float, hi: float):
    """Transfer map at the bin centers, from each bin's mid quantile: the map for discrete
    levels (one level per bin), identity at every occupied level for identical inputs."""
    bins = src_counts.shape[0]
    edges = np.linspace(lo, hi, bins + 1)
    c_src = np.concatenate([[0.0], np.cumsum(src_counts, dtype=np.float64)])
    c_src /= max(c_src[-1], 1.0)
    return _inverse_cdf(_reference_cdf(ref_counts, ref_weights), edges,
                        0.5 * (c_src[:-1] + c_src[1:]), "left")


# ---- Histogram matching -------------------------------------------------------------------------

@tensors_in_out
def histogram(src, refs, *, weights=None, strength: float = 1.0) -> np.ndarray:
    """Per-channel histogram (CDF) matching in RGB.

    Each level of the source goes to the pooled reference quantile of its mid rank (so a
    reference equal to the source changes nothing). 8-bit sources are matched on their 256
    levels; 16-bit and float sources on 65536 levels per channel (float values are binned to
    the nearest 1/65535, below what any display shows).

    Parameters and return value as :func:`reinhard`.
    """
    s, rs, w, strength = checked_inputs(src, refs, weights, strength)
    at_levels, lo, hi = _histogram_fit(s, rs, w)
    if s.dtype == np.uint8 and strength == 1.0:
        lut = np.rint(np.clip(at_levels, 0.0, 1.0) * 255).astype(np.uint8)
        return _C.apply_lut_u8(np.ascontiguousarray(s.raw), lut)
    table = at_levels.astype(np.float32)  # constant over each level's bin
    out = _C.apply_bin_map(s.rgb.reshape(-1, 3), table, table, lo, hi)
    return finish(s, out.reshape(s.rgb.shape), strength)


def _histogram_fit(s: Image, rs, w):
    """Each channel's value at each level (3, levels), and the levels' bins' range."""
    levels = 256 if s.dtype == np.uint8 else 65536
    half = 0.5 / (levels - 1)  # one bin per level k / (levels - 1), centred on it
    lo, hi = [-half] * 3, [1.0 + half] * 3
    if s.dtype == np.uint8:  # count the 8-bit levels directly
        src_counts = _C.histogram(np.ascontiguousarray(s.visible(s.raw[..., :3])), 256,
                                  [-0.5] * 3, [255.5] * 3)
    else:
        src_counts = _C.histogram(s.pixels(), levels, lo, hi)
    ref_counts = [_C.histogram(r.pixels(), levels, lo, hi) for r in rs]
    at_levels = np.stack([mid_quantile_map(src_counts[c], [rc[c] for rc in ref_counts], w, -half,
                                           1.0 + half) for c in range(3)])
    return at_levels, lo, hi


# ---- Monge-Kantorovich linear -------------------------------------------------------------------


def mkl_matrix(cov_src: np.ndarray, cov_ref: np.ndarray) -> np.ndarray:
    """The linear map T with T cov_src T = cov_ref that moves colors least (Pitie & Kokaram
    2007, eq. 9): T = S^-1/2 (S^1/2 R S^1/2)^1/2 S^-1/2, computed by eigendecompositions."""
    ev_s, u_s = np.linalg.eigh(cov_src)
    d_s = np.sqrt(np.maximum(ev_s, _EPS))
    c = (d_s[:, None] * (u_s.T @ cov_ref @ u_s)) * d_s[None, :]
    ev_c, u_c = np.linalg.eigh(c)
    d_c = np.sqrt(np.maximum(ev_c, 0.0))
    inner = u_c @ np.diag(d_c) @ u_c.T
    d_inv = 1.0 / d_s
    return u_s @ ((d_inv[:, None] * inner) * d_inv[None, :]) @ u_s.T


@tensors_in_out
def mkl(src, refs, *, weights=None, strength: float = 1.0) -> np.ndarray:
    """Monge-Kantorovich linear color transfer in RGB (Pitie & Kokaram 2007): the affine map
    that gives the source the reference's mean and covariance while moving colors least.

    Parameters and return value as :func:`reinhard`.
    """
    s, rs, w, strength = checked_inputs(src, refs, weights, strength)
    t, offset = _mkl_fit(s, rs, w)
    out = s.rgb.reshape(-1, 3) @ t + offset
    return finish(s, out.reshape(s.rgb.shape), strength)


def _mkl_fit(s: Image, rs, w):
    """The affine map x -> x @ t + offset (float32) on row vectors of RGB."""
    mu_s, cov_s = _moments(s.pixels())
    mu_r, cov_r = _pooled([_moments(r.pixels()) for r in rs], w)
    t = mkl_matrix(cov_s, cov_r)
    gains, axes = np.linalg.eigh(t)  # t is symmetric: its eigenvalues are its stretches
    if gains.max() > MAX_GAIN:
        t = (axes * np.minimum(gains, MAX_GAIN)) @ axes.T
    t = t.astype(np.float32)
    offset = (mu_r - mu_s @ t.astype(np.float64)).astype(np.float32)
    return t, offset


# ---- Iterative distribution transfer ------------------------------------------------------------

# The rotations of Pitie et al.'s reference code (optimised to cover the sphere of axes);
# further iterations use random rotations drawn from the seed.
PITIE_ROTATIONS = np.array(
    [
        [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]],
        [[0.333333, 0.666667, 0.666667], [0.666667, 0.333333, -0.666667], [-0.666667, 0.666667, -0.333333]],
        [[0.577350, 0.211297, 0.788682], [-0.577350, 0.788668, 0.211352], [0.577350, 0.577370, -0.577330]],
        [[0.577350, 0.408273, 0.707092], [-0.577350, -0.408224, 0.707121], [0.577350, -0.816497, 0.000029]],
        [[0.332572, 0.910758, 0.244778], [-0.910887, 0.242977, 0.333536], [-0.244295, 0.333890, -0.910405]],
        [[0.243799, 0.910726, 0.333376], [0.910699, -0.333174, 0.244177], [-0.333450, -0.244075, 0.910625]],
    ]
)


def idt_rotations(iterations: int, seed: int) -> np.ndarray:
    """(iterations, 3, 3) float32 rotations: Pitie's six, then seeded random ones."""
    from scipy.stats import special_ortho_group

    rots = list(PITIE_ROTATIONS[:iterations])
    if iterations > len(rots):
        extra = special_ortho_group.rvs(3, size=iterations - len(rots), random_state=seed)
        rots.extend(np.asarray(extra).reshape(-1, 3, 3))
    return np.asarray(rots, dtype=np.float32).reshape(iterations, 3, 3)


@tensors_in_out
def idt(
    src,
    refs,
    *,
    weights=None,
    strength: float = 1.0,
    iterations: int = 10,
    bins: int = 300,
    regrain: bool = True,
    seed: int = 0,
    progress=None,
) -> np.ndarray:
    """Iterative distribution transfer (Pitie, Kokaram & Dahyot 2005): match the whole 3-D RGB
    distribution of the reference(s) by repeated 1-D transfers along rotated axes.

    Parameters
    ----------
    src, refs, weights, strength
        As :func:`reinhard`.
    iterations : int
        Number of rotations (Pitie's first six, then random rotations from ``seed``).
    bins : int
        Histogram bins of each 1-D transfer.
    regrain : bool
        Apply the grain reduction of Pitie et al. (2007), which keeps the source's gradients
        and removes the noise that stretching a distribution creates. It is a spatial
        solve over the whole image, so (unlike the statistics) it also sees the colors of
        fully transparent pixels next to visible ones.
    seed : int
        Seed of the random rotations; the result is reproducible for a given seed.
    progress : bool, optional
        Show a progress bar (default: when stderr is a terminal).

    Returns
    -------
    ndarray
        As :func:`reinhard`.
    """
    from ..progress import progress_bar

    s, rs, w, strength = checked_inputs(src, refs, weights, strength)
    bar = progress_bar(int(iterations) + bool(regrain), progress, "idt")
    _, x, inverse = _idt_fit(s, rs, w, iterations, bins, seed, bar)
    out = np.clip(x if inverse is None else x[inverse], 0.0, 1.0).reshape(s.rgb.shape)
    if regrain:
        out = regrain_image(s.rgb, out)
    if bar is not None:
        bar.close()
    return finish(s, out, strength)


def _idt_fit(s: Image, rs, w, iterations, bins, seed, bar=None):
    """Runs IDT on the source's colors. Returns ``(steps, x, inverse)``: each iteration's 1-D
    transfers ``(rotation, left, right, lo, hi)``, which :func:`_idt_replay` applies to any
    colors, the source's colors after them, and ``inverse`` as :func:`distinct_colors`'."""
    if int(iterations) != iterations or iterations < 1:
        raise InputError(f"iterations must be a positive integer, got {iterations!r}")
    if int(bins) != bins or not 2 <= bins <= 1 << 16:
        raise InputError(f"bins must be an integer in [2, 65536], got {bins!r}")
    seed = check_seed(seed)
    # IDT moves every pixel of one color alike, so it runs on the distinct colors with their
    # pixel counts as weights: the same result, on far fewer points for 8-bit photos.
    x, x_weights, inverse = distinct_colors(s)
    ref_colors = [distinct_colors(r)[:2] for r in rs]
    steps = []
    for rot in idt_rotations(int(iterations), seed):
        lo, hi = _C.idt_projected_range(x, x_weights, rot)
        flat = np.asarray(hi) - np.asarray(lo) <= 1e-6  # the source has one value along the axis
        for colors, counts in ref_colors:
            rlo, rhi = _C.idt_projected_range(colors, counts, rot)
            lo, hi = np.minimum(lo, rlo), np.maximum(hi, rhi)
        lo, hi = np.asarray(lo) - 1e-6, np.asarray(hi) + 1e-6
        src_counts = _C.idt_projected_histogram(x, x_weights, rot, int(bins), lo, hi)
        ref_counts = [_C.idt_projected_histogram(c, n, rot, int(bins), lo, hi) for c, n in ref_colors]
        # a flat axis (a source of one color) goes to the references' median, as histogram
        # matching takes it; the in-bin interpolation would spread one value over a bin's range
        maps = [(mid_quantile_map(src_counts[a], [rc[a] for rc in ref_counts], w, lo[a], hi[a]),) * 2
                if flat[a] else
                cdf_transfer_map(src_counts[a], [rc[a] for rc in ref_counts], w, lo[a], hi[a])
                for a in range(3)]
        left = np.stack([m[0] for m in maps]).astype(np.float32)
        right = np.stack([m[1] for m in maps]).astype(np.float32)
        steps.append((rot, left, right, lo, hi))
        _idt_replay(steps[-1:], x)
        if bar is not None:
            bar.update(1)
    return steps, x, inverse


def _idt_replay(steps, x: np.ndarray) -> None:
    """Moves the colors ``x`` ((N, 3) float32, C-contiguous) by IDT's steps, in place."""
    for rot, left, right, lo, hi in steps:
        _C.idt_update(x, rot, left, right, lo, hi, 1.0)


#: Images with at least this many pixels are reduced to their distinct colors (below it the
#: 2^24-entry color table costs more than it saves).
DISTINCT_COLORS_MIN_PIXELS = 1 << 17


def distinct_colors(img: Image):
    """The colors of ``img`` as weighted points for distribution transfers.

    Returns ``(colors, weights, inverse)``: float32 colors (n, 3), int64 weights (number of
    visible pixels of each color; 0 for colors seen only under alpha 0), and ``inverse`` with
    ``colors[inverse]`` giving back every pixel (None when ``colors`` already are the pixels).
    8-bit images with many pixels are reduced to their distinct colors; other images keep one
    point per pixel.
    """
    flat = img.rgb.reshape(-1, 3)
    visible = None if img.alpha is None else img.alpha.reshape(-1) > 0
    if img.dtype != np.uint8 or len(flat) < DISTINCT_COLORS_MIN_PIXELS:
        weights = np.ones(len(flat), np.int64) if visible is None else visible.astype(np.int64)
        return flat.copy(), weights, None  # a copy: IDT updates the colors in place
    raw = img.raw.reshape(-1, img.raw.shape[-1])
    ids, counts, inverse = _C.distinct_colors_u8(np.ascontiguousarray(raw))
    levels = np.stack([ids >> 16, (ids >> 8) & 255, ids & 255], axis=1)
    colors = levels.astype(np.float32) * np.float32(1 / 255)  # exactly image.to_float's values
    return colors, counts, inverse


# ---- Grain reduction ----------------------------------------------------------------------------

_REGRAIN_ITERATIONS = (4, 16, 32, 64, 64, 64)


def regrain_image(original: np.ndarray, transferred: np.ndarray, *, smoothness: float = 1.0):
    """Grain reduction of Pitie et al. (2007): an image with the colors of ``transferred`` and
    the gradients of ``original``, solved coarse to fine (float32 RGB in [0, 1] in and out)."""
    out = _regrain_level(original, transferred, _REGRAIN_ITERATIONS, 0, smoothness)
    return np.clip(out, 0.0, 1.0)


def _regrain_level(original, transferred, iterations, level, smoothness):
    h, w = original.shape[:2]
    h2, w2 = (h + 1) // 2, (w + 1) // 2
    if len(iterations) > 1 and h2 > 20 and w2 > 20:
        def resized(a, shape):  # bilinear, as Pitie's imresize(..., 'bilinear')
            return _C.resize_bilinear(np.ascontiguousarray(a, dtype=np.float32), *shape)

        small = resized(original, (h2, w2))
        coarse = _regrain_level(small, resized(transferred, (h2, w2)), iterations[1:], level + 1,
                                smoothness)
        # Unlike Pitie's code, which upsamples the coarse solution itself, carry up only its
        # difference from the original: the fine level starts with all of the original's
        # detail, which its few iterations could not restore (a reference equal to the source
        # then comes back unchanged instead of blurred).
        out = original + resized(coarse - small, (h, w))
    else:
        # The coarsest level starts from the transferred colors (Pitie's code starts from the
        # original): its few iterations cannot carry the colors far, so small images kept
        # much of the source's colors (a flat 64 x 64 source: 70 levels off in the mean,
        # 128 x 128: 26). Photos of 512 pixels and more change by under 0.02 levels.
        out = transferred
    out = np.array(out, dtype=np.float32, order="C")  # a copy: solved in place
    _C.regrain_solve_level(out, np.ascontiguousarray(original), np.ascontiguousarray(transferred),
                           iterations[0], level, smoothness)
    return out


METHODS = {"reinhard": reinhard, "histogram": histogram, "mkl": mkl, "idt": idt}


def color_map(src, refs, *, method: str = "mkl", weights=None, iterations: int = 10,
              bins: int = 300, seed: int = 0, space: str = "lab"):
    """The transfer that ``method`` fits between ``src`` and ``refs``, as a function of color.

    Every classical method maps each color alike wherever it is in the image, so its transfer
    can be applied to other images or colors (a grading look, the frames of a shot; see
    :mod:`transfer.classical.lut`). ``iterations``, ``bins`` and ``seed`` are IDT's (its grain reduction
    looks at the image, not the color, and is not part of the map), ``space`` Reinhard's.

    Returns
    -------
    callable
        ``f(rgb)``: float32 RGB in [0, 1], shape (N, 3) -> the transferred colors (N, 3),
        float32, not clipped. On the source's own colors it gives what the method does to the
        source (for ``histogram``, at the source's levels: 256 for 8-bit sources, else 65536).
    """
    if method not in METHODS:
        raise InputError(f"unknown method {method!r}; expected one of {', '.join(sorted(METHODS))}")
    s, rs, w, _ = checked_inputs(src, refs, weights, 1.0)
    return fitted_map(s, rs, w, method, iterations=iterations, bins=bins, seed=seed, space=space)


def fitted_map(s: Image, rs, w, method: str, *, iterations: int = 10, bins: int = 300, seed: int = 0,
               space: str = "lab"):
    """:func:`color_map` on validated images: the references ``rs`` with a weight > 0 each,
    their normalised weights ``w``. Statistics come from the visible pixels (alpha > 0), so
    an ``Image`` whose alpha is a region mask fits that region (:mod:`transfer.classical.regions`)."""
    if method == "reinhard":
        check_space(space)
        if space == "lalphabeta":
            scale, shift = _reinhard_fit(s.visible(lalphabeta(s.rgb)), rs, w, space)
            return lambda x: lalphabeta_to_rgb(lalphabeta(x) * scale + shift)
        scale, shift = _reinhard_fit(s.visible(_lab(s)), rs, w)
        return lambda x: _C.lab_affine_to_srgb(_C.srgb_to_lab(x), scale, shift)
    if method == "histogram":
        at_levels, lo, hi = _histogram_fit(s, rs, w)
        table = at_levels.astype(np.float32)
        return lambda x: _C.apply_bin_map(np.ascontiguousarray(x), table, table, lo, hi)
    if method == "mkl":
        t, offset = _mkl_fit(s, rs, w)
        return lambda x: x @ t + offset
    steps = _idt_fit(s, rs, w, iterations, bins, seed)[0]

    def replay(x):
        x = np.array(x, dtype=np.float32, order="C")  # a copy: moved in place
        _idt_replay(steps, x)
        return x

    return replay
