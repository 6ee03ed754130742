"""Local affine color models and WLS smoothing (building blocks of the neural transfer)."""

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.ndimage import gaussian_filter
from scipy.sparse.linalg import spsolve

from transfer.neural import affine as la
from transfer.errors import InputError

from conftest import requires_cuda, rng


@pytest.fixture(scope="module")
def smooth_src():
    return np.clip(gaussian_filter(rng(0).random((40, 50, 3)), (3, 3, 0)) * 2 - 0.5, 0, 1)


def energy(a, b, s, g, w, nu, lambda_l, extra_edges=()):
    """The energy of algorithm.md section 4, written out directly (all channels)."""
    total = np.sum(nu * w[..., None] * (a * s + b - g) ** 2)
    lum = s[..., 0]
    for axis in (0, 1):  # each 4-neighbour pair, seen from both sides
        dl = np.abs(np.diff(lum, axis=axis)) ** 1.2 + 1e-4
        da, db = np.diff(a, axis=axis), np.diff(b, axis=axis)
        total += 2 * np.sum(lambda_l / dl[..., None] * (da**2 + db**2))
    fa, fb = a.reshape(-1, 3), b.reshape(-1, 3)
    for p, q, wt in extra_edges:
        total += np.sum(wt[:, None] * ((fa[p] - fa[q]) ** 2 + (fb[p] - fb[q]) ** 2))
    return total


def test_recovers_a_global_affine_map(smooth_src):
    g = 0.7 * smooth_src + 0.1
    a, b = la.local_affine(smooth_src, g, np.ones(smooth_src.shape[:2]), iterations=2000, tol=1e-12)
    np.testing.assert_allclose(a, 0.7, atol=1e-4)
    np.testing.assert_allclose(b, 0.1, atol=1e-4)


def test_solution_minimises_the_energy(smooth_src):
    r = rng(1)
    s = smooth_src[:12, :15]
    g = np.clip(s * 0.5 + 0.3 + r.normal(0, 0.05, s.shape), 0, 1)
    w = r.uniform(0.1, 1.0, s.shape[:2])
    clusters = (s[..., 0] > s[..., 0].mean()).astype(int)
    lab = la.unit_to_lab(s.astype(np.float32))
    a, b = la.local_affine(s, g, w, nu=2.0, clusters=clusters, iterations=5000, tol=1e-13)
    edges = [la.nonlocal_edges(lab, clusters, 2.0)]
    e0 = energy(a, b, s, g, w, 2.0, 0.125, edges)
    # the gradient vanishes: moving any single coefficient a little raises the energy
    for _ in range(20):
        y, x, c = r.integers(0, 12), r.integers(0, 15), r.integers(0, 3)
        for arr in (a, b):
            for step in (1e-3, -1e-3):
                moved = arr.astype(np.float64).copy()
                moved[y, x, c] += step
                args = (moved, b, s, g, w) if arr is a else (a, moved, s, g, w)
                assert energy(*args, 2.0, 0.125, edges) >= e0 - 1e-9


def test_cg_agrees_with_a_direct_solve(smooth_src):
    s = smooth_src[:10, :12]
    g = np.clip(0.4 * s + 0.2 + 0.1 * np.sin(s * 9), 0, 1)
    w = np.full(s.shape[:2], 0.5)
    a, b = la.local_affine(s, g, w, iterations=10000, tol=1e-14)
    n = 120
    p, q, wt = la.smoothness_edges(s[..., 0], 0.125)
    lap = la.laplacian(n, p, q, wt)
    for c in range(3):
        sc, gc = s[..., c].ravel(), g[..., c].ravel()
        dw = 0.5 * np.ones(n)
        system = sp.bmat([[sp.diags(dw * sc * sc) + lap, sp.diags(dw * sc)],
                          [sp.diags(dw * sc), sp.diags(dw) + lap]], format="csc")
        x = spsolve(system, np.concatenate([dw * sc * gc, dw * gc]))
        np.testing.assert_allclose(a[..., c].ravel(), x[:n], atol=1e-4)
        np.testing.assert_allclose(b[..., c].ravel(), x[n:], atol=1e-4)


def test_unconfident_region_takes_the_model_of_its_surroundings(smooth_src):
    g = 0.6 * smooth_src + 0.2
    w = np.ones(smooth_src.shape[:2])
    g_bad = g.copy()
    g_bad[10:20, 10:20] = rng(2).random((10, 10, 3))  # garbage guidance...
    w[10:20, 10:20] = 1e-6  # ...with no confidence
    a, b = la.local_affine(smooth_src, g_bad, w, iterations=3000, tol=1e-12)
    fitted = a * smooth_src + b
    assert np.abs(fitted[10:20, 10:20] - g[10:20, 10:20]).max() < 0.02


def test_bad_shapes():
    with pytest.raises(InputError, match="must be"):
        la.local_affine(np.zeros((4, 4, 3)), np.zeros((4, 5, 3)), np.ones((4, 4)))


def test_lab_unit_round_trip():
    lab = np.stack([rng(3).uniform(0, 100, 50), rng(4).uniform(-128, 127, 50),
                    rng(5).uniform(-128, 127, 50)], -1).astype(np.float32)
    unit = la.lab_to_unit(lab)
    assert unit.min() >= 0 and unit.max() <= 1
    np.testing.assert_allclose(la.unit_to_lab(unit), lab, atol=1e-4)


def test_wls_keeps_constants_and_edges():
    h, w = 30, 40
    lum = np.zeros((h, w))
    lum[:, 20:] = 1.0  # a step edge in the guide
    np.testing.assert_allclose(la.wls_smooth(np.full((h, w, 2), 0.3), lum, lam=1.0), 0.3, atol=1e-5)
    noisy = lum * 0.8 + 0.1 + rng(6).normal(0, 0.05, (h, w))
    out = la.wls_smooth(noisy, lum, lam=1.0)
    assert out[:, :19].std() < 0.3 * noisy[:, :19].std()  # smoothed inside the regions
    step = out[:, 21:].mean() - out[:, :19].mean()
    assert step > 0.6  # the edge survives (0.8 in the data)...
    blind = la.wls_smooth(noisy, np.zeros((h, w)), lam=1.0)  # ...where a flat guide erases it
    assert blind[:, 21:].mean() - blind[:, :19].mean() < 0.2


def test_wls_fills_where_data_weight_is_zero():
    h, w = 20, 20
    lum = np.zeros((h, w))
    values = np.full((h, w), 0.5)
    values[8:12, 8:12] = 5.0  # values that must not count
    weight = np.ones((h, w))
    weight[8:12, 8:12] = 0.0
    out = la.wls_smooth(values, lum, lam=1.0, data_weight=weight)
    np.testing.assert_allclose(out, 0.5, atol=1e-4)


def random_systems(n, m, k, seed):
    """k SPD systems sharing a random graph Laplacian, with per-node m x m blocks that are
    symmetric positive definite (B = C C^T + 0.1 I, random C)."""
    g = rng(seed)
    p, q = g.integers(0, n, 6 * n), g.integers(0, n, 6 * n)
    keep = p != q
    lap = la.laplacian(n, p[keep], q[keep], g.uniform(0.1, 2.0, keep.sum()))
    c = g.normal(size=(n, k, m, m))
    block = np.einsum("nkuw,nkvw->nuvk", c, c) + 0.1 * np.eye(m)[None, :, :, None]
    return lap, block, g.normal(size=(n, m, k)), g.normal(size=(n, m, k))


@pytest.mark.parametrize("m, k", [(2, 3), (1, 6), (1, 1), (3, 2), (1, 16)])
@pytest.mark.parametrize("maxiter", [4, 60])
def test_solve_systems_matches_scipy_cg_per_system(m, k, maxiter):
    """The batched C++ solver takes cg's steps: the same iterates after a few steps (far
    from converged) and after many; (3, 2) and (1, 16) run the kernel's generic shape."""
    from transfer import _reference

    lap, block, rhs, x0 = random_systems(300, m, k, seed=m * 10 + k)
    if k > 1:
        rhs[..., -1] = 0  # a system with b = 0 gives x = 0 (cg returns b)
    got = la.solve_systems(lap, block, rhs, x0, rtol=1e-6, maxiter=maxiter)
    want = _reference.solve_systems(lap, block, rhs, x0, rtol=1e-6, maxiter=maxiter)
    np.testing.assert_allclose(got, want, rtol=1e-8, atol=1e-10)
    assert k == 1 or not got[..., -1].any()
    if maxiter == 4:  # not converged: the start matters, so this compares real iterates
        assert np.abs(got - la.solve_systems(lap, block, rhs, 0 * x0, rtol=1e-6, maxiter=4)).max() > 1e-3


def test_solve_systems_is_thread_independent_and_converges(threads):
    """40,000 nodes: several chunks of the kernel's fixed-order sums, so two threads split
    the work; the result is the same to the bit, and at a tight tolerance it solves the
    systems (residual checked directly)."""
    lap, block, rhs, x0 = random_systems(40000, 2, 3, seed=7)
    runs = []
    for n in (1, 2):
        threads(n)
        runs.append(la.solve_systems(lap, block, rhs, x0, rtol=1e-10, maxiter=2000))
    np.testing.assert_array_equal(runs[0], runs[1])
    x = runs[0]
    for c in range(3):
        ax = np.stack([lap @ x[:, u, c] + sum(block[:, u, v, c] * x[:, v, c] for v in range(2))
                       for u in range(2)], axis=1)
        assert np.linalg.norm(ax - rhs[..., c]) <= 1e-9 * np.linalg.norm(rhs[..., c])


def test_solve_systems_rejects_bad_shapes():
    lap, block, rhs, x0 = random_systems(20, 2, 3, seed=1)
    from transfer._native import _C

    csr = sp.csr_matrix(lap)
    with pytest.raises(ValueError, match="block must have shape"):
        _C.pcg(csr.indptr.astype(np.int64), csr.indices.astype(np.int32), csr.data, block[:, :1],
               rhs, x0.copy(), 1e-6, 10)
    with pytest.raises(ValueError, match="column index out of range"):
        bad = csr.indices.astype(np.int32)
        bad[0] = 20
        _C.pcg(csr.indptr.astype(np.int64), bad, csr.data, block, rhs, x0.copy(), 1e-6, 10)


def test_wls_leaves_its_inputs_alone():
    values = rng(3).random((16, 16, 2))
    before = values.copy()
    la.wls_smooth(values, rng(4).random((16, 16)), lam=1.0)
    np.testing.assert_array_equal(values, before)


def random_models(g, hm, wm):
    return g.uniform(0.5, 1.5, (hm, wm, 3)).astype(np.float32), g.uniform(-0.2, 0.2, (hm, wm, 3)).astype(np.float32)


@pytest.mark.parametrize("grid", [(13, 17), (50, 70), (1, 1)])
def test_apply_affine_matches_reference(grid, threads):
    from transfer import _reference as ref
    from transfer.neural.pipeline import unit_lab, unit_rgb

    g = rng(21)
    src = g.random((50, 70, 3)).astype(np.float32)
    a, b = random_models(g, *grid)
    expected = ref.apply_affine(np.concatenate([a, b], axis=2), src)
    runs = []
    for n in (1, 2):
        threads(n)
        runs.append(la.apply_affine((a, b), src))
        np.testing.assert_allclose(runs[-1], expected, atol=1e-4)
    np.testing.assert_array_equal(runs[0], runs[1])
    # to the bit the steps it fuses: the models resized, applied in unit Lab, back to sRGB
    from transfer import _C

    full = [_C.resize_bilinear(np.ascontiguousarray(m), 50, 70) for m in (a, b)]
    np.testing.assert_array_equal(runs[0], unit_rgb(np.clip(full[0] * unit_lab(src) + full[1], 0, 1)))


def test_apply_affine_bad_input():
    a, b = random_models(rng(22), 4, 5)
    with pytest.raises(InputError, match="must both be"):
        la.apply_affine((a, b[:3]), np.zeros((8, 8, 3), np.float32))
    with pytest.raises(ValueError, match="src must have shape"):
        la.apply_affine((a, b), np.zeros((8, 8), np.float32))


@requires_cuda
def test_apply_affine_on_cuda_matches_cpu(astronaut):
    """The same body: the CPU's colors to float rounding (the GPU fuses multiply-adds)."""
    a, b = random_models(rng(23), 32, 32)
    src = astronaut.astype(np.float32) / 255
    np.testing.assert_allclose(la.apply_affine((a, b), src, device="cuda"), la.apply_affine((a, b), src),
                               rtol=0, atol=1e-5)
