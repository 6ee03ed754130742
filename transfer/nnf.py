"""Nearest-neighbour fields between deep feature maps: PatchMatch on C++/CUDA, brute force
on torch, coarse-to-fine upsampling, and bidirectional-similarity (BDS) voting.

Feature maps are (C, H, W) float arrays (NumPy, or torch tensors). Inside, every feature
vector is L2-normalised over channels (zero vectors stay zero: no NaN), and the distance
between the patch at p in ``a`` and the patch at q in ``b`` is minus the mean cosine
similarity over the patch offsets that fall inside both maps (algorithm.md, section 2).

A :class:`Field` holds, for every pixel of ``a``, the (y, x) position of its match in ``b``
(int32, shape (H_a, W_a, 2)) and its patch distance (float32, shape (H_a, W_a)).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from . import _native
from ._native import _C
from .errors import InputError
from .image import is_tensor

BACKENDS = ("auto", "cpu", "cuda", "exact")

#: Arithmetic of the CPU backend's candidate comparisons (see :func:`patchmatch`).
PRECISIONS = ("auto", "float32", "bfloat16")

#: The precision of :func:`patchmatch` calls that give none (``precision=None``), among them
#: the neural transfer's and the colorization's: set it to "float32" for the same fields on
#: every machine (as ``torch.backends.cuda.matmul.allow_tf32`` sets torch's).
default_precision = "auto"

#: "auto" uses the exact search when |A| * |B| is at most this (it is then fast and optimal).
EXACT_AUTO_MAX = 1 << 22

_NORM_EPS = 1e-12


class Field(NamedTuple):
    """A nearest-neighbour field from map ``a`` to map ``b``."""

    nnf: np.ndarray  #: int32 (H_a, W_a, 2): (y, x) of each pixel's match in b
    dist: np.ndarray  #: float32 (H_a, W_a): minus the mean cosine similarity of the patches

    @property
    def similarity(self) -> np.ndarray:
        """Mean cosine similarity of each matched patch pair (= -dist)."""
        return -self.dist


# ---- validation and layout ----------------------------------------------------------------------


def _feature_map(x, name: str) -> np.ndarray:
    """(C, H, W) float32 NumPy array from a NumPy array or torch tensor, validated."""
    if is_tensor(x):
        x = x.detach().to("cpu").numpy()
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{name} must be a NumPy array or torch tensor of shape (C, H, W), "
                        f"got {type(x).__name__}")
    if x.dtype.kind != "f":
        raise TypeError(f"{name} has dtype {x.dtype}; feature maps must be floating point")
    if x.ndim != 3:
        raise InputError(f"{name} has shape {x.shape}; feature maps must have shape (C, H, W)")
    if 0 in x.shape:
        raise InputError(f"{name} is empty (shape {x.shape})")
    x = x.astype(np.float32, copy=False)
    if not np.isfinite(x).all():
        raise InputError(f"{name} contains NaN or infinite values")
    return x


_HUGE_PAGE = 2 << 20


def _huge_page_aligned(shape) -> np.ndarray:
    """An empty float32 array that starts on a 2 MiB boundary when it spans several.

    NumPy asks Linux for transparent huge pages on large buffers, but only the whole aligned
    2 MiB pages inside one get them; aligned, all of it does, and PatchMatch's scattered reads
    of the maps miss the TLB less: (64, 256, 256) 0.278 s against 0.301 s, (64, 512, 512)
    1.63 against 1.69 s (medians of five alternating rounds, Intel Xeon VM, 2026-11-23).
    """
    n = int(np.prod(shape)) * 4
    if n < 4 * _HUGE_PAGE:
        return np.empty(shape, np.float32)
    buf = np.empty(n + _HUGE_PAGE, np.uint8)
    start = -buf.ctypes.data % _HUGE_PAGE
    return buf[start:start + n].view(np.float32).reshape(shape)


def normalize(x: np.ndarray) -> np.ndarray:
    """(C, H, W) -> channel-last (H, W, C) float32 with unit-length (or zero) feature vectors."""
    hwc = _huge_page_aligned(x.shape[1:] + x.shape[:1])
    hwc[...] = np.moveaxis(x, 0, -1)
    norm = np.sqrt(np.einsum("hwc,hwc->hw", hwc, hwc, dtype=np.float64)).astype(np.float32)
    hwc /= np.maximum(norm, _NORM_EPS)[..., None]
    return hwc


def _pair(a, b):
    a, b = _feature_map(a, "a"), _feature_map(b, "b")
    if a.shape[0] != b.shape[0]:
        raise InputError(f"a has {a.shape[0]} channels and b has {b.shape[0]}; they must match")
    return a, b


def _half(patch_size) -> int:
    if int(patch_size) != patch_size or patch_size < 1 or patch_size % 2 == 0:
        raise InputError(f"patch_size must be a positive odd integer, got {patch_size!r}")
    return int(patch_size) // 2


def proportional_field(shape_a, shape_b) -> np.ndarray:
    """The field mapping a onto b by proportion: y_b = round(y_a (H_b - 1) / (H_a - 1))."""
    (ha, wa), (hb, wb) = shape_a, shape_b
    ys = np.rint(np.arange(ha) * ((hb - 1) / max(ha - 1, 1))).astype(np.int32)
    xs = np.rint(np.arange(wa) * ((wb - 1) / max(wa - 1, 1))).astype(np.int32)
    field = np.empty((ha, wa, 2), np.int32)
    field[..., 0] = ys[:, None]
    field[..., 1] = xs[None, :]
    return field


def _initial_field(init, shape_a, shape_b) -> np.ndarray:
    if init is None:
        return proportional_field(shape_a, shape_b)
    f = init.nnf if isinstance(init, Field) else np.asarray(init)
    if f.shape != (*shape_a, 2):
        raise InputError(f"init has shape {f.shape}; expected {(*shape_a, 2)} (H_a, W_a, 2)")
    if f.dtype.kind not in "iu":
        raise TypeError(f"init has dtype {f.dtype}; expected integer (y, x) positions")
    out = np.empty((*shape_a, 2), np.int32)
    out[..., 0] = np.clip(f[..., 0], 0, shape_b[0] - 1)
    out[..., 1] = np.clip(f[..., 1], 0, shape_b[1] - 1)
    return out


def _resolve_backend(backend: str, shape_a, shape_b) -> str:
    if backend not in BACKENDS:
        raise InputError(f"unknown device {backend!r}; expected one of {', '.join(BACKENDS)}")
    if backend == "auto":
        if shape_a[0] * shape_a[1] * shape_b[0] * shape_b[1] <= EXACT_AUTO_MAX:
            return "exact"
        return "cuda" if _native.cuda_available() else "cpu"
    if backend == "cuda":
        _native.require_cuda("patchmatch")
    return backend


# ---- PatchMatch -----------------------------------------------------------------------------------


def bfloat16_available() -> bool:
    """Whether the CPU backend can compare candidates in bfloat16 (this build, on a CPU with
    AVX512-BF16: AMD Zen 4 and later, Intel Sapphire Rapids and later)."""
    return bool(_C.bf16_supported())


def _use_bfloat16(precision: str, requested: str, backend: str) -> bool:
    """Whether the CPU kernel runs in bfloat16, for ``precision`` and the ``requested`` backend
    (resolved to ``backend``)."""
    if precision not in PRECISIONS:
        raise InputError(f"unknown precision {precision!r}; expected one of {', '.join(PRECISIONS)}")
    if precision == "bfloat16":
        if requested in ("cuda", "exact"):
            raise InputError(f"precision='bfloat16' is the CPU backend's; backend {requested!r} "
                             "computes in float32")
        if not bfloat16_available():
            raise InputError("precision='bfloat16' needs a CPU with AVX512-BF16 (AMD Zen 4, Intel "
                             "Sapphire Rapids or later); this one has none: use 'auto' or 'float32'")
        return backend == "cpu"
    return precision == "auto" and backend == "cpu" and bfloat16_available()


def patchmatch(a, b, *, patch_size: int = 3, iters: int = 10, radius: int | None = None,
               init=None, seed: int = 0, device: str = "auto", precision: str | None = None,
               backend: str | None = None) -> Field:
    """Approximate nearest-neighbour field from ``a`` to ``b`` by PatchMatch.

    Each iteration runs jump-flood propagation (steps 8, 4, 2, 1, each from the four
    neighbours, double-buffered) and then random search in windows of radius ``radius``,
    ``radius / 2``, ..., 1 around the current match. Random draws come from a counter-based
    generator keyed by (seed, iteration, pixel): the result is the same for a given seed
    whatever the number of threads.

    Parameters
    ----------
    a, b : (C, H, W) float arrays or torch tensors
        Feature maps with the same number of channels (normalised inside).
    patch_size : odd int
        Side of the square patches (3 in the paper).
    iters : int
        Iterations (10 in the paper).
    radius : int, optional
        Random-search radius in pixels of ``b``; None searches the whole map.
    init : Field or int array (H_a, W_a, 2), optional
        Field to start from (the previous level's, upsampled; a previous frame's). Default:
        the proportional mapping.
    seed : int
    device : {'auto', 'cpu', 'cuda', 'exact'}
        Where the search runs ('exact': the exact search, on the CPU). 'auto' takes 'exact'
        for small maps (|A| |B| <= 2^22), else 'cuda' where a GPU is available, else 'cpu'.
    backend
        The old name of ``device`` (deprecated).
    precision : {'auto', 'float32', 'bfloat16'}, optional
        Default :data:`default_precision` ('auto'). How the CPU compares candidates: on
        bfloat16 copies of the maps (products added in float32; faster, the same mean
        similarity to within 1e-4: docs/performance.md), or in float32. 'auto' takes
        bfloat16 where the CPU has AVX512-BF16 (:func:`bfloat16_available`), so fields can
        differ in a few pixels between machines; 'float32' gives the same field on every
        machine (and the CUDA kernel's). Either way ``dist`` holds the float32 distances of
        the field found.

    Returns
    -------
    Field

    Raises
    ------
    TypeError
        Non-float maps, non-integer init.
    transfer.InputError
        Wrong shapes, channel mismatch, empty maps, NaN/inf, bad options or init shape.
    transfer.CudaUnavailableError
        device='cuda' without a CUDA build or GPU.
    """
    backend = _native.device_option(device, backend, "patchmatch")
    a, b = _pair(a, b)
    half = _half(patch_size)
    if int(iters) != iters or iters < 0:
        raise InputError(f"iters must be a non-negative integer, got {iters!r}")
    shape_a, shape_b = a.shape[1:], b.shape[1:]
    if radius is None:
        radius = max(shape_b)
    if int(radius) != radius or radius < 0:
        raise InputError(f"radius must be a non-negative integer or None, got {radius!r}")
    field = _initial_field(init, shape_a, shape_b)
    requested, backend = backend, _resolve_backend(backend, shape_a, shape_b)
    bf16 = _use_bfloat16(default_precision if precision is None else precision, requested, backend)
    if backend == "exact":
        return exact(a, b, patch_size=patch_size)
    fa, fb = normalize(a), normalize(b)
    seed = int(seed) & 0xFFFFFFFFFFFFFFFF
    if backend == "cuda":
        nnf, dist = _native._cuda.patchmatch(fa, fb, field, half, int(iters), int(radius), seed)
        return Field(nnf, dist)
    dist, _ = _C.patchmatch(fa, fb, field, half, int(iters), int(radius), seed, bf16)
    return Field(field, dist)


def field_distances(a, b, field, *, patch_size: int = 3) -> np.ndarray:
    """Patch distances (H_a, W_a) of a given field (minus the mean cosine similarity)."""
    a, b = _pair(a, b)
    f = _initial_field(field, a.shape[1:], b.shape[1:])
    return _C.field_distances(normalize(a), normalize(b), f, _half(patch_size))


# ---- exact search -------------------------------------------------------------------------------


def _valid_counts(n_a: int, n_b: int, half: int):
    """counts[i, j] = number of offsets d in [-half, half] with i + d in A and j + d in B."""
    i = np.arange(n_a)[:, None]
    j = np.arange(n_b)[None, :]
    lo = np.maximum(np.maximum(-half, -i), -j)
    hi = np.minimum(np.minimum(half, n_a - 1 - i), n_b - 1 - j)
    return np.maximum(hi - lo + 1, 0).astype(np.float32)


def exact(a, b, *, patch_size: int = 3, max_chunk_bytes: int = 1 << 28) -> Field:
    """Exact nearest-neighbour field by brute force: every patch of ``a`` against every patch
    of ``b`` (one matrix product of the pixel features per chunk of rows, then the patch sums
    as shifted additions). Memory stays below about ``max_chunk_bytes``.

    The reference for testing PatchMatch, and the backend for small maps. Ties go to the
    first position in row-major order.
    """
    import torch

    a, b = _pair(a, b)
    half = _half(patch_size)
    fa, fb = normalize(a), normalize(b)
    ha, wa, c = fa.shape
    hb, wb, _ = fb.shape
    cy = torch.from_numpy(_valid_counts(ha, hb, half))  # (ha, hb)
    cx = torch.from_numpy(_valid_counts(wa, wb, half))  # (wa, wb)
    nnf = np.empty((ha, wa, 2), np.int32)
    dist = np.empty((ha, wa), np.float32)
    rows = max(1, int(max_chunk_bytes // (3 * 4 * wa * hb * wb)) - 2 * half)
    B = torch.from_numpy(fb.reshape(-1, c))
    with torch.inference_mode():
        for y0 in range(0, ha, rows):
            y1 = min(ha, y0 + rows)
            h0, h1 = max(0, y0 - half), min(ha, y1 + half)  # rows with the patch halo
            A = torch.from_numpy(fa[h0:h1].reshape(-1, c))
            S = (A @ B.T).reshape(h1 - h0, wa, hb, wb)
            acc = torch.zeros((y1 - y0, wa, hb, wb))
            for dy in range(-half, half + 1):
                ya0, ya1 = max(y0, -dy), min(y1, ha - dy)  # target rows with ya + dy inside A
                yb0, yb1 = max(0, -dy), min(hb, hb - dy)
                if ya0 >= ya1 or yb0 >= yb1:
                    continue
                for dx in range(-half, half + 1):
                    xa0, xa1 = max(0, -dx), min(wa, wa - dx)
                    xb0, xb1 = max(0, -dx), min(wb, wb - dx)
                    if xa0 >= xa1 or xb0 >= xb1:
                        continue
                    acc[ya0 - y0:ya1 - y0, xa0:xa1, yb0:yb1, xb0:xb1] += S[
                        ya0 + dy - h0:ya1 + dy - h0, xa0 + dx:xa1 + dx,
                        yb0 + dy:yb1 + dy, xb0 + dx:xb1 + dx]
            count = cy[y0:y1, None, :, None] * cx[None, :, None, :]
            mean = (acc / count).reshape(y1 - y0, wa, hb * wb)
            best, index = mean.max(dim=2)
            index = index.numpy()
            nnf[y0:y1, :, 0] = index // wb
            nnf[y0:y1, :, 1] = index % wb
            dist[y0:y1] = -best.numpy()
    return Field(nnf, dist)


# ---- coarse to fine -----------------------------------------------------------------------------


def match_both_ways(a, b, *, previous=None, radius: int | None = None, seed: int = 0,
                    device: str = "auto") -> tuple[Field, Field]:
    """PatchMatch fields ``a`` -> ``b`` and ``b`` -> ``a``: one level of the coarse-to-fine
    matching of the deep pipelines.

    ``previous`` is the coarser level's pair of fields (ab, ba), whose matches start this
    level's (upsampled by :func:`upsample`); None starts from the proportional mapping. The
    two searches draw from ``seed`` and ``seed + 1``.
    """
    init_ab = init_ba = None
    if previous is not None:
        prev_ab, prev_ba = (getattr(f, "nnf", f) for f in previous)
        init_ab = upsample(prev_ab, a.shape[1:], b.shape[1:], coarse_shape_b=prev_ba.shape[:2])
        init_ba = upsample(prev_ba, b.shape[1:], a.shape[1:], coarse_shape_b=prev_ab.shape[:2])
    f_ab = patchmatch(a, b, init=init_ab, radius=radius, seed=seed, device=device)
    f_ba = patchmatch(b, a, init=init_ba, radius=radius, seed=seed + 1, device=device)
    return f_ab, f_ba


def upsample(field, shape_a, shape_b, *, coarse_shape_b=None) -> np.ndarray:
    """A field between coarse maps carried to finer maps of shapes ``shape_a`` -> ``shape_b``.

    Every fine pixel takes its parent's match scaled to the finer ``b``, plus its own offset
    from its scaled parent; the result is clamped inside ``b``. ``coarse_shape_b`` is the
    coarse ``b``'s shape (default: ``b`` scales like ``a``). Returns int32 (H_a, W_a, 2).
    """
    f = field.nnf if isinstance(field, Field) else np.asarray(field)
    if f.ndim != 3 or f.shape[2] != 2:
        raise InputError(f"field has shape {f.shape}; expected (H, W, 2)")
    (ha, wa), (hb, wb) = tuple(shape_a), tuple(shape_b)
    hc, wc = f.shape[:2]
    say, sax = ha / hc, wa / wc
    if coarse_shape_b is None:
        sby, sbx = say, sax
    else:
        sby, sbx = hb / coarse_shape_b[0], wb / coarse_shape_b[1]
    ys, xs = np.arange(ha), np.arange(wa)
    py = np.minimum((ys / say).astype(int), hc - 1)  # parent rows / columns
    px = np.minimum((xs / sax).astype(int), wc - 1)
    parent = f[py[:, None], px[None, :]].astype(np.float64)
    out = np.empty((ha, wa, 2), np.int32)
    out[..., 0] = np.clip(np.floor(parent[..., 0] * sby + (ys - py * say)[:, None]), 0, hb - 1)
    out[..., 1] = np.clip(np.floor(parent[..., 1] * sbx + (xs - px * sax)[None, :]), 0, wb - 1)
    return out


# ---- voting -------------------------------------------------------------------------------------


def bds_vote(values, field_ab, field_ba, *, beta: float = 2.0, patch_size: int = 3,
             channel_axis: int = -1, device: str = "cpu") -> np.ndarray:
    """Bidirectional-similarity voting of ``values`` laid on ``b``'s grid onto ``a``'s grid.

    G(p) = (w_c * coherence votes + w_b * completeness votes) / (w_c N_c(p) + w_b N_b(p)),
    w_c = 1 / |A|, w_b = beta / |B| (algorithm.md, section 3): coherence votes come through
    ``field_ab`` (each pixel of a's patch around p votes b's value at its match shifted back),
    completeness votes through ``field_ba`` (each pixel r of b votes b's patch around r onto
    the patch around its match). beta = 0 is plain averaging of the coherence votes.

    Parameters
    ----------
    values : array, (H_b, W_b), (H_b, W_b, K), or (K, H_b, W_b) with channel_axis=0
        An image or a feature map of ``b``.
    field_ab, field_ba : Field or int arrays (H_a, W_a, 2) and (H_b, W_b, 2)
    device : {'cpu', 'cuda'}
        Where the votes are counted (the same per-pixel body, csrc/nnf/nnf_kernel.h).

    Returns
    -------
    float32 array on a's grid, in the layout of ``values``.
    """
    v = np.asarray(values)
    if v.dtype.kind not in "fiu":
        raise TypeError(f"values has dtype {v.dtype}; expected numbers")
    gray = v.ndim == 2
    if gray:
        v = v[..., None]
    elif v.ndim != 3:
        raise InputError(f"values has shape {v.shape}; expected (H, W), (H, W, K) or (K, H, W)")
    if not gray and channel_axis in (0, -3):
        v = np.moveaxis(v, 0, -1)
    v = np.ascontiguousarray(v, dtype=np.float32)
    fab = field_ab.nnf if isinstance(field_ab, Field) else np.asarray(field_ab)
    fba = field_ba.nnf if isinstance(field_ba, Field) else np.asarray(field_ba)
    if fba.shape != (*v.shape[:2], 2):
        raise InputError(f"field_ba has shape {fba.shape}; expected {(*v.shape[:2], 2)} for values "
                         f"of shape {values.shape}")
    if fab.ndim != 3 or fab.shape[2] != 2:
        raise InputError(f"field_ab has shape {fab.shape}; expected (H_a, W_a, 2)")
    if beta < 0:
        raise InputError(f"beta must be >= 0, got {beta!r}")
    kernels = _native.check_device(device, "bds_vote")
    out = kernels.bds_vote(v, np.ascontiguousarray(fab, dtype=np.int32),
                      np.ascontiguousarray(fba, dtype=np.int32), _half(patch_size), float(beta))
    if gray:
        return out[..., 0]
    return np.moveaxis(out, -1, 0) if channel_axis in (0, -3) else out
