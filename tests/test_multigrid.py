"""The grid multigrid (csrc/solve/multigrid_kernel.h): each body against the NumPy reference,
the solver against a direct solve, its convergence per step, and thread independence."""

import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from transfer import _reference
from transfer._native import _C
from transfer.errors import InputError
from transfer.neural import affine as la

from conftest import requires_cuda, rng


def grid(h, w, m, k, seed=0, *, edges=True):
    """Random edge-aware weights (a few edges almost cut, one node cut off entirely), extra,
    and SPD blocks B = C C^T + 0.01 I."""
    g = rng(seed)
    wx = g.uniform(0.0, 3.0, (h, w)) ** 3 + 1e-3
    wy = g.uniform(0.0, 3.0, (h, w)) ** 3 + 1e-3
    wx[:, -1] = 0
    wy[-1] = 0
    if edges and h > 2 and w > 2:  # node (1, 1) on its own
        wx[1, 0:2] = 0
        wy[0:2, 1] = 0
    extra = g.uniform(0, 1, (h, w))
    c = g.normal(size=(h * w, k, m, m))
    block = np.einsum("nkuw,nkvw->nuvk", c, c) + 0.01 * np.eye(m)[None, :, :, None]
    return wx, wy, extra, block


SHAPES = [(2, 3), (1, 6), (1, 1), (2, 1)]


@pytest.mark.parametrize("m, k", SHAPES)
@pytest.mark.parametrize("h, w", [(7, 9), (8, 6), (1, 5)])
def test_apply_and_relax_match_the_reference(m, k, h, w):
    wx, wy, extra, block = grid(h, w, m, k, seed=h * w + m)
    x = rng(1).normal(size=(h * w, m, k))
    f = rng(2).normal(size=(h * w, m, k))
    np.testing.assert_allclose(_C.grid_apply(wx, wy, extra, block, x),
                               _reference.grid_apply(wx, wy, extra, block, x), rtol=1e-12, atol=1e-12)
    for color in (0, 1):
        got = x.copy()
        _C.grid_relax(wx, wy, extra, block, f, got, color)
        np.testing.assert_allclose(got, _reference.grid_relax(wx, wy, extra, block, f, x, color),
                                   rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("h, w", [(7, 9), (8, 6), (2, 2), (5, 1)])
def test_transfer_operators_and_coarse_grid_match_the_reference(h, w):
    m, k = 2, 3
    wx, wy, extra, block = grid(h, w, m, k, seed=h + 10 * w)
    P = _reference.prolongation(wx, wy)
    np.testing.assert_allclose(P.sum(axis=1), 1.0)  # every row interpolates
    hc, wc = (h + 1) // 2, (w + 1) // 2
    r = rng(3).normal(size=(h, w, 6))
    np.testing.assert_allclose(_C.grid_restrict(wx, wy, r), (P.T @ r.reshape(h * w, 6)).reshape(hc, wc, 6),
                               rtol=1e-12, atol=1e-12)
    e = rng(4).normal(size=(hc, wc, 6))
    x = rng(5).normal(size=(h, w, 6))
    got = x.copy()
    _C.grid_prolong(wx, wy, e, got)
    np.testing.assert_allclose(got, x + (P @ e.reshape(hc * wc, 6)).reshape(h, w, 6), rtol=1e-12, atol=1e-12)
    for a, b in zip(_C.grid_coarsen(wx, wy, extra, block), _reference.grid_coarsen(wx, wy, extra, block)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def dense_system(wx, wy, block, lap_nl, c):
    """System c's whole matrix (unknown-major), for a direct solve."""
    h, w = wx.shape
    n, m = block.shape[:2]
    p, q = la._grid_edges(h, w)
    lap = la.laplacian(n, p, q, np.concatenate([wx[:, :-1].ravel(), wy[:-1].ravel()])) + lap_nl
    return sp.bmat([[(lap if u == v else 0 * lap) + sp.diags(block[:, u, v, c]) for v in range(m)]
                    for u in range(m)], format="csc")


@pytest.mark.parametrize("m, k", [(2, 3), (1, 6)])
def test_solver_matches_a_direct_solve_with_a_nonlocal_term(m, k):
    h, w = 23, 30
    wx, wy, _, block = grid(h, w, m, k, seed=11, edges=False)
    n = h * w
    lap_nl = random_nonlocal(n, 12)
    rhs = rng(12).normal(size=(n, m, k))
    x = la.solve_grid(wx, wy, block, rhs, np.zeros((n, m, k)), nonlocal_lap=lap_nl, rtol=1e-11, maxiter=500)
    for c in range(k):
        want = spla.spsolve(dense_system(wx, wy, block, lap_nl, c), rhs[..., c].T.ravel())
        np.testing.assert_allclose(x[..., c], want.reshape(m, n).T, rtol=1e-7, atol=1e-8)


def poisson(h, w, data=1e-2):
    wx, wy = np.ones((h, w)), np.ones((h, w))
    wx[:, -1] = 0
    wy[-1] = 0
    return wx, wy, np.full((h * w, 1, 1, 1), data)


def test_v_cycle_reduces_the_residual_tenfold_per_cycle_on_a_smooth_problem():
    """The plain multigrid iteration on a 4-neighbour Laplacian with a small data term
    (odd and even sizes): every cycle cuts the residual by 8x or more."""
    for h, w in ((129, 100), (64, 77)):
        wx, wy, block = poisson(h, w)
        b = rng(6).normal(size=(h * w, 1, 1))
        steps, history = _C.multigrid(wx, wy, block, b, np.zeros_like(b), None, 1e-9, 30, False)
        rates = history[1:] / history[:-1]
        assert steps <= 12 and rates.max() < 0.125, rates


def test_solver_converges_on_an_edge_aware_problem_where_jacobi_cg_does_not():
    """The WLS system of a photo's lightness (weights 0.1 / (|dL|^1.2 + 1e-4), 1e3 in flat
    areas, 0.1 across edges): the multigrid-preconditioned solve reaches 1e-8 in under 80
    steps; Jacobi-preconditioned CG is still far off after 300."""
    from skimage import data
    from skimage.color import rgb2gray
    from skimage.transform import resize

    h = w = 128
    lum = resize(rgb2gray(data.astronaut()), (h, w))
    p, q = la._grid_edges(h, w)
    weight = 0.1 / (np.abs(lum.ravel()[p] - lum.ravel()[q]) ** 1.2 + 1e-4)
    wx, wy = la.grid_weights(h, w, weight)
    block = np.full((h * w, 1, 1, 1), 1e-2)
    b = rng(7).normal(size=(h * w, 1, 1))
    steps, history = _C.multigrid(wx, wy, block, b, np.zeros_like(b), None, 1e-8, 200, True)
    assert steps < 80 and history[-1] < 1e-8
    x = la.solve_systems(la.laplacian(h * w, p, q, weight), block, b, np.zeros_like(b), rtol=1e-8, maxiter=300)
    residual = b[:, 0, 0] - (la.laplacian(h * w, p, q, weight) @ x[:, 0, 0] + 1e-2 * x[:, 0, 0])
    assert np.linalg.norm(residual) > 1e-4 * np.linalg.norm(b)


def random_nonlocal(n, seed):
    g = rng(seed)
    p, q = g.integers(0, n, 4 * n), g.integers(0, n, 4 * n)
    keep = p != q
    return la.laplacian(n, p[keep], q[keep], g.uniform(0.1, 1.0, keep.sum()))


def test_v_cycle_with_a_nonlocal_term_converges():
    """The plain multigrid iteration with random non-local edges on every grid (their
    Jacobi half of the smoother is l1-weighted; a random graph, the hard case): the residual falls
    by 0.8 or less per cycle."""
    h, w = 60, 70
    wx, wy, _, block = grid(h, w, 2, 3, seed=13, edges=False)
    lap = sp.csr_matrix(random_nonlocal(h * w, 14))
    csr = (lap.indptr.astype(np.int64), lap.indices.astype(np.int32), lap.data)
    b = rng(15).normal(size=(h * w, 2, 3))
    steps, history = _C.multigrid(wx, wy, block, b, np.zeros_like(b), csr, 1e-8, 60, False)
    rates = history[1:] / history[:-1]
    assert history[-1] < 1e-6 and rates.max() < 0.8, rates


# 180 x 190: several chunks of the fixed-order sums, the coarse grids small enough to run on
# one thread; 260 x 258: the first coarse grid (and its non-local edges) built in parallel too
@pytest.mark.parametrize("h, w, maxiter", [(180, 190, 100), (260, 258, 6)])
def test_solver_is_thread_independent(threads, h, w, maxiter):
    wx, wy, _, block = grid(h, w, 2, 3, seed=8, edges=False)
    rhs = rng(9).normal(size=(h * w, 2, 3))
    lap_nl = random_nonlocal(h * w, 16)
    runs = []
    for t in (1, 2):
        threads(t)
        runs.append(la.solve_grid(wx, wy, block, rhs, np.zeros_like(rhs), nonlocal_lap=lap_nl, rtol=1e-8,
                                  maxiter=maxiter))
    np.testing.assert_array_equal(runs[0], runs[1])


def test_local_affine_and_wls_give_the_converged_solution_with_either_solver():
    g = rng(10)
    s = g.uniform(0, 1, (40, 50, 3))
    guide = np.clip(s * 0.8 + 0.1 + 0.05 * g.normal(size=s.shape), 0, 1)
    conf = g.uniform(0.05, 1, (40, 50))
    clusters = (s[..., 0] > 0.5).astype(int)
    kw = dict(nu=2.0, clusters=clusters, iterations=20000, tol=1e-12)
    for want, got in zip(la.local_affine(s, guide, conf, **kw), la.local_affine(s, guide, conf, solver="multigrid", **kw)):
        np.testing.assert_allclose(got, want, atol=1e-5)
    values = g.uniform(0, 1, (40, 50, 4))
    np.testing.assert_allclose(la.wls_smooth(values, s[..., 0], lam=1.0, solver="multigrid", tol=1e-12, iterations=1000),
                               la.wls_smooth(values, s[..., 0], lam=1.0, tol=1e-12, iterations=20000), atol=1e-5)
    with pytest.raises(InputError, match="unknown solver 'amg'"):
        la.wls_smooth(values, s[..., 0], lam=1.0, solver="amg")


def test_multigrid_rejects_bad_shapes():
    wx, wy, extra, block = grid(6, 6, 2, 3)
    rhs = np.zeros((36, 2, 3))
    with pytest.raises(ValueError, match="multigrid takes"):
        _C.multigrid(wx, wy, np.zeros((36, 2, 2, 4)), np.zeros((36, 2, 4)), np.zeros((36, 2, 4)), None, 1e-6, 10)
    with pytest.raises(ValueError, match="x must be"):
        _C.multigrid(wx, wy, block, rhs, np.zeros((36, 2, 3), np.float32), None, 1e-6, 10)
    with pytest.raises(ValueError, match="column index out of range"):
        bad = (np.array([0] * 36 + [1], np.int64), np.array([40], np.int32), np.array([1.0]))
        _C.multigrid(wx, wy, block, rhs, np.zeros_like(rhs), bad, 1e-6, 10)


@requires_cuda
@pytest.mark.parametrize("m, k", SHAPES)
def test_cuda_bodies_match_the_cpu(m, k):
    from transfer import _cuda

    h, w = 37, 52
    wx, wy, extra, block = grid(h, w, m, k, seed=17)
    x = rng(18).normal(size=(h * w, m, k))
    f = rng(19).normal(size=(h * w, m, k))
    np.testing.assert_allclose(_cuda.grid_apply(wx, wy, extra, block, x), _C.grid_apply(wx, wy, extra, block, x),
                               rtol=1e-12, atol=1e-12)
    for color in (0, 1):
        want = x.copy()
        _C.grid_relax(wx, wy, extra, block, f, want, color)
        np.testing.assert_allclose(_cuda.grid_relax(wx, wy, extra, block, f, x, color), want, rtol=1e-12, atol=1e-12)
    for a, b in zip(_cuda.grid_coarsen(wx, wy, extra, block), _C.grid_coarsen(wx, wy, extra, block)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    r = x.reshape(h, w, m * k)
    np.testing.assert_allclose(_cuda.grid_restrict(wx, wy, r), _C.grid_restrict(wx, wy, r), rtol=1e-12, atol=1e-12)
    e = rng(20).normal(size=((h + 1) // 2, (w + 1) // 2, m * k))
    want = r.copy()
    _C.grid_prolong(wx, wy, e, want)
    np.testing.assert_allclose(_cuda.grid_prolong(wx, wy, e, r), want, rtol=1e-12, atol=1e-12)


@requires_cuda
@pytest.mark.parametrize("krylov", [True, False])
def test_cuda_solver_matches_the_cpu(krylov):
    from transfer import _cuda

    h, w = 90, 110
    wx, wy, _, block = grid(h, w, 2, 3, seed=21, edges=False)
    lap = sp.csr_matrix(random_nonlocal(h * w, 22))
    csr = (lap.indptr.astype(np.int64), lap.indices.astype(np.int32), lap.data)
    b = rng(23).normal(size=(h * w, 2, 3))
    x_cpu, x_gpu = np.zeros_like(b), np.zeros_like(b)
    steps_cpu, hist_cpu = _C.multigrid(wx, wy, block, b, x_cpu, csr, 1e-9, 200, krylov)
    steps_gpu, hist_gpu = _cuda.multigrid(wx, wy, block, b, x_gpu, csr, 1e-9, 200, krylov)
    assert abs(steps_cpu - steps_gpu) <= 1 and hist_gpu[-1] < 1e-9
    np.testing.assert_allclose(x_gpu, x_cpu, rtol=1e-6, atol=1e-8)


def test_the_cg_solver_refuses_cuda():
    s = rng(24).uniform(0, 1, (8, 8, 3))
    with pytest.raises(InputError, match="runs on the CPU only"):
        la.local_affine(s, s, np.ones((8, 8)), device="cuda")


def test_prior_pulls_the_models_toward_their_start():
    """local_affine's prior: 0 is the plain energy; a huge one gives the start back; in
    between, the solution of the energy with the term (checked against the plain system with
    nu prior added to its diagonal and nu prior start to its right-hand side)."""
    g = rng(25)
    s = g.uniform(0, 1, (20, 24, 3))
    guide = np.clip(1 - s + 0.05 * g.normal(size=s.shape), 0, 1)
    conf = g.uniform(0.1, 1, (20, 24))
    start = (np.full(s.shape, 0.5), np.full(s.shape, 0.2))
    kw = dict(nu=2.0, iterations=5000, tol=1e-12, x0=start, solver="multigrid")
    a, b = la.local_affine(s, guide, conf, prior=1e9, **kw)
    np.testing.assert_allclose(a, 0.5, atol=1e-5)
    np.testing.assert_allclose(b, 0.2, atol=1e-5)
    lap, block, rhs, x0 = la.affine_system(s, guide, conf, nu=2.0, lambda_l=0.125, lambda_nl=2.0, x0=start)
    block = block + 2.0 * 0.1 * np.eye(2)[None, :, :, None]
    want = la.solve_systems(lap, block, rhs + 2.0 * 0.1 * x0, x0, rtol=1e-12, maxiter=20000)
    a, b = la.local_affine(s, guide, conf, prior=0.1, **kw)
    np.testing.assert_allclose(a, want[:, 0].reshape(s.shape), atol=1e-5)
    np.testing.assert_allclose(b, want[:, 1].reshape(s.shape), atol=1e-5)
    # a map: the same weight everywhere is the number; a huge one on the left half holds it
    np.testing.assert_allclose(la.local_affine(s, guide, conf, prior=np.full((20, 24), 0.1), **kw)[0], a,
                               atol=1e-6)
    held = np.zeros((20, 24))
    held[:, :12] = 1e9
    a, b = la.local_affine(s, guide, conf, prior=held, **kw)
    np.testing.assert_allclose(a[:, :12], 0.5, atol=1e-5)
    assert np.abs(a[:, 12:] - 0.5).mean() > 0.05
