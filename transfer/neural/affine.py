"""Local affine color models (Neural Color Transfer, algorithm.md section 4) and the
edge-aware weighted-least-squares upsampling of their coefficients.

The neural transfer fits, per Lab channel, an affine map ``T_p(c) = a_p c + b_p`` for every
pixel p of the source, so that ``T(S)`` follows the guidance G where the match is confident,
varies smoothly where the source is smooth, and agrees across pixels of similar color in the
same semantic cluster (which carries colors into regions the references do not show).
Everything here works on Lab scaled to [0, 1] per channel (:func:`lab_to_unit`).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ..errors import InputError


def lab_to_unit(lab: np.ndarray) -> np.ndarray:
    """CIELab (L in [0, 100], a and b in about [-128, 127]) -> each channel in [0, 1]."""
    out = np.empty(lab.shape, np.float32)
    out[..., 0] = lab[..., 0] / 100.0
    out[..., 1:] = (lab[..., 1:] + 128.0) / 255.0
    return out


def unit_to_lab(unit: np.ndarray) -> np.ndarray:
    """Inverse of :func:`lab_to_unit`."""
    out = np.empty(unit.shape, np.float32)
    out[..., 0] = unit[..., 0] * 100.0
    out[..., 1:] = unit[..., 1:] * 255.0 - 128.0
    return out


def apply_affine(models, src_rgb: np.ndarray, *, device: str = "cpu") -> np.ndarray:
    """The color models ``models`` = (a, b), each (h, w, 3) on any grid, applied to the float
    sRGB image ``src_rgb`` (H, W, 3): a and b sampled bilinearly at each pixel, the result
    a x Lab + b in the models' space (:func:`lab_to_unit`), clipped, as float sRGB (H, W, 3).
    One pass (csrc/affine/affine_kernel.h), with no full-size copy of the models."""
    from .._native import check_device

    a, b = models
    if a.shape != b.shape or a.ndim != 3 or a.shape[2] != 3:
        raise InputError(f"apply_affine: a {a.shape} and b {b.shape} must both be (h, w, 3)")
    kernels = check_device(device, "apply_affine")
    return kernels.apply_affine(np.concatenate([a, b], axis=2, dtype=np.float32),
                                np.ascontiguousarray(src_rgb, dtype=np.float32))


def box_affine(src: np.ndarray, guide: np.ndarray, *, radius: int = 1, eps: float = 1e-4,
               max_gain: float = 4.0):
    """Warm start of the solve from box statistics over (2 radius + 1)^2 windows:
    a0 = sigma_G / (sigma_S + eps), b0 = mu_G - a0 mu_S, per channel (algorithm.md). A small
    eps keeps a0 = 1 where G follows S (a larger one starts textured areas flattened, which
    100 CG iterations do not undo); a0 is capped at ``max_gain`` where S is nearly flat."""
    from scipy.ndimage import uniform_filter

    size = (2 * radius + 1, 2 * radius + 1, 1)
    s, g = src.astype(np.float64), guide.astype(np.float64)
    mu_s, mu_g = uniform_filter(s, size, mode="nearest"), uniform_filter(g, size, mode="nearest")
    var_s = np.maximum(uniform_filter(s * s, size, mode="nearest") - mu_s**2, 0)
    var_g = np.maximum(uniform_filter(g * g, size, mode="nearest") - mu_g**2, 0)
    a0 = np.minimum(np.sqrt(var_g) / (np.sqrt(var_s) + eps), max_gain)
    return a0, mu_g - a0 * mu_s


def _grid_edges(h: int, w: int):
    """Index pairs (p, q) of the 4-neighbour edges of an h x w grid, each edge once."""
    idx = np.arange(h * w, dtype=np.int32 if h * w < 2**31 else np.int64).reshape(h, w)  # memory
    right = (idx[:, :-1].ravel(), idx[:, 1:].ravel())
    down = (idx[:-1, :].ravel(), idx[1:, :].ravel())
    return np.concatenate([right[0], down[0]]), np.concatenate([right[1], down[1]])


def laplacian(n: int, p: np.ndarray, q: np.ndarray, weight: np.ndarray) -> sp.csr_matrix:
    """Graph Laplacian L with x^T L x = sum_e weight_e (x_p - x_q)^2."""
    # the degrees summed first: one diagonal entry per node, so that the COO -> CSR
    # conversion has no duplicates to merge (ten times faster at a million nodes)
    degree = np.bincount(p, weight, n) + np.bincount(q, weight, n)
    nodes = np.arange(n, dtype=np.result_type(p, q))
    rows = np.concatenate([p, q, nodes])
    cols = np.concatenate([q, p, nodes])
    vals = np.concatenate([-weight, -weight, degree])
    return sp.csr_matrix((vals, (rows, cols)), shape=(n, n))


def smoothness_edges(luminance: np.ndarray, lambda_l: float):
    """Local term: 4-neighbour edges weighted lambda_l / (|dL|^1.2 + 1e-4). The energy sums
    over every pixel and each of its neighbours, so every edge appears twice."""
    h, w = luminance.shape
    p, q = _grid_edges(h, w)
    lum = luminance.ravel().astype(np.float64)
    weight = 2.0 * lambda_l / (np.abs(lum[p] - lum[q]) ** 1.2 + 1e-4)
    return p, q, weight


def nonlocal_edges(lab: np.ndarray, clusters: np.ndarray, lambda_nl: float, k: int = 8):
    """Non-local term: each pixel to its k nearest pixels in Lab (CIELab units) within its
    cluster, weighted (lambda_nl / k) exp(1 - d / 3)."""
    from scipy.spatial import cKDTree

    colors = lab.reshape(-1, 3).astype(np.float64)
    labels = clusters.ravel()
    ps, qs, ds = [], [], []
    for c in np.unique(labels):
        members = np.flatnonzero(labels == c)
        if len(members) < 2:
            continue
        kk = min(k, len(members) - 1)
        d, j = cKDTree(colors[members]).query(colors[members], k=kk + 1, workers=-1)
        ps.append(np.repeat(members, kk))
        qs.append(members[j[:, 1:]].ravel())  # column 0 is the pixel itself
        ds.append(d[:, 1:].ravel())
    if not ps:
        empty = np.zeros(0, np.int64)
        return empty, empty, np.zeros(0)
    d = np.concatenate(ds)
    return np.concatenate(ps), np.concatenate(qs), (lambda_nl / k) * np.exp(1.0 - d / 3.0)


def solve_systems(lap: sp.spmatrix, block: np.ndarray, rhs: np.ndarray, x0: np.ndarray, *,
                  rtol: float, maxiter: int) -> np.ndarray:
    """Solves the k systems (L + B_c) x_c = b_c that share the sparse matrix ``lap`` (n x n)
    by Jacobi-preconditioned conjugate gradient, all at once, in C++ (``_C.pcg``: each
    system takes scipy.sparse.linalg.cg's steps and stops where cg would, reading ``lap``
    once per step for all of them). ``rhs`` and ``x0`` are (n, m, k): m unknowns per node,
    coupled through ``block`` (n, m, m, k), whose [i, u, v, c] is system c's entry between
    unknowns u and v of node i; ``lap`` applies to each unknown. Returns x (n, m, k)."""
    from .._native import _C

    lap = sp.csr_matrix(lap)  # duplicate entries are fine: the kernel adds them up
    n, m, k = rhs.shape
    per_call = max(1, 16 // m)  # the kernel takes m k <= 16 values per node
    x = np.empty((n, m, k))
    indptr = lap.indptr.astype(np.int64, copy=False)
    indices = lap.indices.astype(np.int32, copy=False)
    values = lap.data.astype(np.float64, copy=False)
    for c0 in range(0, k, per_call):
        part = slice(c0, min(k, c0 + per_call))
        xc = np.array(x0[..., part], dtype=np.float64, order="C")  # a copy: solved in place
        _C.pcg(indptr, indices, values, np.ascontiguousarray(block[..., part], dtype=np.float64),
               np.ascontiguousarray(rhs[..., part], dtype=np.float64), xc, float(rtol), int(maxiter))
        x[..., part] = xc
    return x


#: The solvers of :func:`local_affine` and :func:`wls_smooth`: "cg", conjugate gradient with
#: the Jacobi preconditioner (:func:`solve_systems`), stopped after ``iterations`` steps at
#: the latest; "multigrid", conjugate gradient preconditioned by a multigrid V-cycle on the
#: pixel grid (:func:`solve_grid`), which reaches a tight tolerance in far fewer steps, each
#: dearer (docs/performance.md says where it is faster).
SOLVERS = ("cg", "multigrid")


def check_solver(solver: str, device: str = "cpu") -> str:
    if solver not in SOLVERS:
        raise InputError(f"unknown solver {solver!r}; expected one of {', '.join(SOLVERS)}")
    if device == "cuda" and solver != "multigrid":
        raise InputError(f"the {solver!r} solver runs on the CPU only; solver='multigrid' runs on CUDA")
    return solver


def grid_weights(h: int, w: int, weight: np.ndarray):
    """The weights of :func:`_grid_edges`' edges (right ones, then down ones) as the (h, w)
    maps ``wx`` (to the right neighbour) and ``wy`` (to the one below) of :func:`solve_grid`."""
    wx, wy = np.zeros((h, w)), np.zeros((h, w))
    wx[:, :-1] = weight[: h * (w - 1)].reshape(h, w - 1)
    wy[:-1] = weight[h * (w - 1):].reshape(h - 1, w)
    return wx, wy


def solve_grid(wx: np.ndarray, wy: np.ndarray, block: np.ndarray, rhs: np.ndarray, x0: np.ndarray,
               *, nonlocal_lap: sp.spmatrix | None = None, rtol: float, maxiter: int,
               device: str = "cpu") -> np.ndarray:
    """Solves the k systems (L + L_nl + B_c) x_c = b_c of an h x w pixel grid, L the
    4-neighbour Laplacian of the edge weights ``wx``, ``wy`` (h, w) and L_nl an optional
    sparse Laplacian (the non-local term), by conjugate gradient preconditioned with a
    multigrid V-cycle (``_C.multigrid``; csrc/solve/multigrid_kernel.h), each system to
    |r| < ``rtol`` |b|. Shapes as :func:`solve_systems`. ``device="cuda"``: the cycles and
    steps on the GPU (``_cuda.multigrid``; the grids are built on the host). Returns x
    (n, m, k)."""
    from .._native import check_device

    kernels = check_device(device, "the multigrid solve")
    n, m, k = rhs.shape
    csr = None
    if nonlocal_lap is not None and nonlocal_lap.nnz:
        lap = sp.csr_matrix(nonlocal_lap)
        csr = (lap.indptr.astype(np.int64), lap.indices.astype(np.int32), lap.data.astype(np.float64))
    per_call = 6 // m  # the kernel takes m k <= 6 values per node
    x = np.empty((n, m, k))
    wx, wy = (np.ascontiguousarray(v, dtype=np.float64) for v in (wx, wy))
    for c0 in range(0, k, per_call):
        part = slice(c0, min(k, c0 + per_call))
        xc = np.array(x0[..., part], dtype=np.float64, order="C")
        kernels.multigrid(wx, wy, np.ascontiguousarray(block[..., part], dtype=np.float64),
                     np.ascontiguousarray(rhs[..., part], dtype=np.float64), xc, csr, float(rtol),
                     int(maxiter), True)
        x[..., part] = xc
    return x


def local_affine(src_unit, guide_unit, confidence, *, nu: float = 1.0, lambda_l: float = 0.125,
                 lambda_nl: float = 2.0, clusters=None, src_lab=None, iterations: int = 100,
                 tol: float = 1e-6, x0=None, solver: str = "cg", device: str = "cpu",
                 prior=0.0):
    """Per-pixel affine color models (a, b) per Lab channel, minimising

        sum_p nu w_p (a_p S_p + b_p - G_p)^2
      + sum_p nu prior |(a, b)_p - (a0, b0)_p|^2
      + sum_p sum_{q in N4(p)} lambda_l / (|L_S(p) - L_S(q)|^1.2 + 1e-4) |(a, b)_p - (a, b)_q|^2
      + sum_p sum_{q in K(p)} (lambda_nl / 8) exp(1 - d_pq / 3) |(a, b)_p - (a, b)_q|^2

    by conjugate gradient on the normal equations (the three channels at once; ``solver``:
    :data:`SOLVERS`), warm-started from box statistics.

    Parameters
    ----------
    src_unit, guide_unit : (h, w, 3) float
        Source and guidance in Lab scaled to [0, 1] (:func:`lab_to_unit`).
    confidence : (h, w) float in (0, 1]
        Data weight w (match confidence).
    nu : float
        Data weight scale (full-resolution area / level area in the paper).
    clusters : (h, w) int, optional
        Semantic clusters for the non-local term (none: no non-local term).
    src_lab : (h, w, 3) float, optional
        Source in CIELab units, for the non-local distances (default: from src_unit).
    x0 : (a, b), optional
        Starting point instead of the box statistics.
    prior : float or (h, w) float
        Weight of the pull toward the start (a0, b0) (0: none), everywhere or per pixel.
    iterations, tol : the most steps, and the relative residual that stops the solve
    solver : {'cg', 'multigrid'}
    device : {'cpu', 'cuda'}; 'cuda' with solver='multigrid' only

    Returns
    -------
    a, b : (h, w, 3) float32
    """
    h, w = np.shape(src_unit)[:2]
    terms = dict(nu=nu, lambda_l=lambda_l, lambda_nl=lambda_nl, clusters=clusters, src_lab=src_lab,
                 x0=x0, prior=prior)
    if check_solver(solver, device) == "multigrid":
        (_, _, weight), lap_nl, block, rhs, start = affine_terms(src_unit, guide_unit, confidence, **terms)
        x = solve_grid(*grid_weights(h, w, weight), block, rhs, start, nonlocal_lap=lap_nl, rtol=tol,
                       maxiter=iterations, device=device)
    else:
        x = solve_systems(*affine_system(src_unit, guide_unit, confidence, **terms), rtol=tol,
                          maxiter=iterations)
    return (x[:, 0].reshape(h, w, 3).astype(np.float32), x[:, 1].reshape(h, w, 3).astype(np.float32))


def affine_system(src_unit, guide_unit, confidence, *, nu: float, lambda_l: float,
                  lambda_nl: float, clusters=None, src_lab=None, x0=None, prior=0.0):
    """The normal equations of :func:`local_affine` as (lap, block, rhs, start) for
    :func:`solve_systems`: per channel c the unknowns (a, b) of every pixel,
    [[w S^2 + L, w S], [w S, w + L]] (a, b) = (w S G, w G), with L the smoothness and
    non-local Laplacian (shared by the channels) and w = nu x confidence (with ``prior``, nu
    prior added to the diagonal and nu prior (a0, b0) to the right-hand side)."""
    (p, q, weight), lap_nl, block, rhs, start = affine_terms(
        src_unit, guide_unit, confidence, nu=nu, lambda_l=lambda_l, lambda_nl=lambda_nl,
        clusters=clusters, src_lab=src_lab, x0=x0, prior=prior)
    lap = laplacian(len(rhs), p, q, weight)
    if lap_nl is not None:
        lap = lap + lap_nl
    return lap, block, rhs, start


def affine_terms(src_unit, guide_unit, confidence, *, nu: float, lambda_l: float,
                 lambda_nl: float, clusters=None, src_lab=None, x0=None, prior=0.0):
    """The terms of :func:`local_affine`'s normal equations: the smoothness edges
    ``(p, q, weight)`` (:func:`smoothness_edges`), the non-local Laplacian (or None), and
    ``block``, ``rhs`` and the start as :func:`affine_system`'s."""
    s = np.asarray(src_unit, dtype=np.float64)
    g = np.asarray(guide_unit, dtype=np.float64)
    wgt = np.asarray(confidence, dtype=np.float64)
    if s.ndim != 3 or s.shape[2] != 3 or g.shape != s.shape or wgt.shape != s.shape[:2]:
        raise InputError(f"local_affine: src {s.shape}, guide {g.shape} and confidence {wgt.shape} "
                         "must be (h, w, 3), (h, w, 3) and (h, w)")
    h, w = s.shape[:2]
    n = h * w
    edges = smoothness_edges(s[..., 0], lambda_l)
    lap_nl = None
    if clusters is not None and lambda_nl > 0:
        lab = unit_to_lab(s.astype(np.float32)) if src_lab is None else src_lab
        p2, q2, w2 = nonlocal_edges(lab, np.asarray(clusters), lambda_nl)
        lap_nl = laplacian(n, p2, q2, w2)
    a0, b0 = box_affine(s, g) if x0 is None else x0
    dw = np.broadcast_to(nu * wgt.reshape(n, 1), (n, 3))
    sc, gc = s.reshape(n, 3), g.reshape(n, 3)
    block = np.stack([np.stack([dw * sc * sc, dw * sc], 1), np.stack([dw * sc, dw], 1)], 1)
    start = np.stack([np.asarray(a0, np.float64).reshape(n, 3), np.asarray(b0, np.float64).reshape(n, 3)], 1)
    rhs = np.stack([dw * sc * gc, dw * gc], 1)
    if np.any(prior):  # nu prior |x - start|^2, prior a number or an (h, w) map
        pull = nu * np.broadcast_to(np.asarray(prior, np.float64), (h, w)).reshape(n, 1, 1)
        block = block + pull[..., None] * np.eye(2)[None, :, :, None]
        rhs = rhs + pull * start
    return edges, lap_nl, block, rhs, start


def wls_smooth(values, guide_luminance, *, lam: float, data_weight=None, alpha: float = 1.2,
               eps: float = 1e-4, iterations: int = 200, tol: float = 1e-6,
               solver: str = "cg", device: str = "cpu") -> np.ndarray:
    """Edge-aware weighted-least-squares smoothing (Farbman et al. 2008) of each channel of
    ``values`` (H, W, K), guided by ``guide_luminance`` (H, W): minimises
    sum_p d_p (u_p - v_p)^2 + lam sum_{p~q} (u_p - u_q)^2 / (|l_p - l_q|^alpha + eps),
    with d = ``data_weight`` ((H, W) or (H, W, K); default 1). Conjugate gradient
    (``solver``: :data:`SOLVERS`; ``device``: as :func:`local_affine`), started from
    ``values``."""
    v = np.asarray(values, dtype=np.float64)
    squeeze = v.ndim == 2
    if squeeze:
        v = v[..., None]
    h, w, k = v.shape
    if guide_luminance.shape != (h, w):
        raise InputError(f"wls_smooth: guide {guide_luminance.shape} does not match values {v.shape}")
    n = h * w
    p, q = _grid_edges(h, w)
    lum = np.asarray(guide_luminance, dtype=np.float64).ravel()
    weight = lam / (np.abs(lum[p] - lum[q]) ** alpha + eps)
    d = np.ones((h, w, k)) if data_weight is None else np.broadcast_to(
        np.asarray(data_weight, dtype=np.float64).reshape(h, w, -1), (h, w, k))
    # the k channels solved together (the Laplacian is shared)
    system = (d.reshape(n, 1, 1, k), (d * v).reshape(n, 1, k), v.reshape(n, 1, k))
    if check_solver(solver, device) == "multigrid":
        x = solve_grid(*grid_weights(h, w, weight), *system, rtol=tol, maxiter=iterations, device=device)
    else:
        x = solve_systems(laplacian(n, p, q, weight), *system, rtol=tol, maxiter=iterations)
    out = x.reshape(h, w, k).astype(np.float32)
    return out[..., 0] if squeeze else out
