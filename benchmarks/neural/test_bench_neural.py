"""Neural color transfer at 512 x 512: end to end, and its stages on the same inputs.

Source: skimage astronaut; references: coffee, chelsea, rocket, flipped astronaut; all
512 x 512. The stages are those of the finest level (level 2: 256 x 256 cells), the one
that dominates: features, the two PatchMatch fields, BDS voting, the affine solve, and the
final WLS smoothing at 512 x 512. Targets: 1 reference <= 10 s, 4 references <= 25 s. Last,
the solves of the affine models and of the WLS run to convergence by each solver.
"""

import numpy as np
import pytest
from skimage import data
from skimage.transform import resize

import transfer
from transfer import _reference, features, nnf
from transfer.neural.affine import (affine_system, apply_affine, lab_to_unit, local_affine, solve_systems,
                                    wls_smooth)
from transfer.neural.pipeline import MULTIGRID_TOL, neural_transfer, unit_lab


def square(img, n=512):
    return (resize(img, (n, n), anti_aliasing=True) * 255).round().astype(np.uint8)


@pytest.fixture(scope="module")
def images():
    src = square(data.astronaut())
    refs = [square(x) for x in (data.coffee(), data.chelsea(), data.rocket(), data.astronaut()[::-1])]
    return src, refs


@pytest.fixture(scope="module")
def net():
    return features.backbone("effnet-lite0")


@pytest.fixture(scope="module")
def level2(images, net):
    src, refs = images
    fs = net.features(src, (2,))[2].numpy()
    fr = net.features(refs[0], (2,))[2].numpy()
    return fs, fr


def run(benchmark, group, name, fn, rounds=3):
    benchmark.group = group
    benchmark.name = name
    return benchmark.pedantic(fn, rounds=rounds, iterations=1, warmup_rounds=1)


@pytest.mark.parametrize("solver", ["multigrid", "cg"])
@pytest.mark.parametrize("k", [1, 4])
def test_end_to_end(benchmark, images, net, k, solver):
    """The default (the models solved to convergence by multigrid) against the earlier
    default, 300 Jacobi CG steps per level, in the same run."""
    src, refs = images
    run(benchmark, "neural-512-end-to-end", f"transfer neural, {k} reference(s), {solver} solver",
        lambda: neural_transfer(src, refs[:k], progress=False, solver=solver), rounds=2)


@pytest.mark.parametrize("chained", [False, True])
def test_frame_of_a_shot(benchmark, images, net, chained):
    """The next frame of a shot (the source moved 4 px), alone or chained to the previous
    frame (previous=..., the models carried along the optical flow). Both at the first
    frame's reference scale, so that only the carrying differs."""
    src, refs = images
    report = {}
    neural_transfer(src, refs[0], progress=False, report=report)
    scales, frame = report["ref_scales"], report["frame"]
    nxt = np.roll(src, 4, axis=1)
    previous = {"previous": frame} if chained else {}
    run(benchmark, "neural-512-frames", "next frame, " + ("chained (temporal 0.9)" if chained else "alone"),
        lambda: neural_transfer(nxt, refs[0], progress=False, ref_scale=scales, **previous), rounds=3)


def test_stage_features(benchmark, images, net):
    src, _ = images
    run(benchmark, "neural-512-stages", "features (effnet-lite0, all levels)",
        lambda: net.features(src, (5, 4, 3, 2)))


def test_stage_patchmatch(benchmark, level2):
    fs, fr = level2
    init = nnf.proportional_field(fs.shape[1:], fr.shape[1:])

    def both():
        nnf.patchmatch(fs, fr, init=init, radius=32, device="cpu")
        nnf.patchmatch(fr, fs, init=init, radius=32, device="cpu")

    run(benchmark, "neural-512-stages", "patchmatch both ways (level 2, 256x256x32, cold start)", both)


@pytest.mark.parametrize("device", ["cpu", "cuda"])
def test_stage_bds_vote(benchmark, level2, images, device):
    if device == "cuda" and not transfer.cuda_available():
        pytest.skip("needs a CUDA GPU")
    fs, fr = level2
    f_ab = nnf.patchmatch(fs, fr, radius=32, device="cpu")
    f_ba = nnf.patchmatch(fr, fs, radius=32, device="cpu")
    ref_small = lab_to_unit(np.zeros((256, 256, 3), np.float32))
    features_unit = nnf.normalize(fr)
    run(benchmark, "neural-512-stages", f"BDS voting of colors and features (level 2, {device}; "
        "NumPy in and out)",
        lambda: (nnf.bds_vote(ref_small, f_ab, f_ba, device=device),
                 nnf.bds_vote(features_unit, f_ab, f_ba, device=device)))


@pytest.fixture(scope="module")
def affine_inputs(images):
    src, refs = images
    s = resize(unit_lab(src.astype(np.float32) / 255), (256, 256), anti_aliasing=True)
    g = resize(unit_lab(refs[0].astype(np.float32) / 255), (256, 256), anti_aliasing=True)
    conf = np.full((256, 256), 0.5)
    clusters = (np.arange(256 * 256).reshape(256, 256) // 6554) % 10
    return s, g, conf, clusters


@pytest.mark.parametrize("solver", ["multigrid", "cg"])
def test_stage_affine_solve(benchmark, affine_inputs, solver):
    s, g, conf, clusters = affine_inputs
    kw = (dict(solver="multigrid", tol=MULTIGRID_TOL, iterations=1000) if solver == "multigrid"
          else dict(iterations=300))
    name = f"multigrid CG to {MULTIGRID_TOL:g}" if solver == "multigrid" else "300 Jacobi CG iterations"
    run(benchmark, "neural-512-stages", f"local affine solve (level 2, {name})",
        lambda: local_affine(s, g, conf, nu=4.0, lambda_l=0.02, clusters=clusters, **kw))


@pytest.mark.parametrize("solver", ["transfer _C.pcg, 3 channels at once", "scipy cg per channel"])
def test_affine_cg(benchmark, affine_inputs, solver):
    """The conjugate gradient of the affine solve alone (level 2's system, 300 steps): the
    C++ kernel against scipy.sparse.linalg.cg, one channel at a time (the reference, and the
    previous implementation), on the same system."""
    s, g, conf, clusters = affine_inputs
    system = affine_system(s, g, conf, nu=4.0, lambda_l=0.02, lambda_nl=2.0, clusters=clusters)
    solve = solve_systems if solver.startswith("transfer") else _reference.solve_systems
    x = run(benchmark, "neural-512-affine-cg", solver,
            lambda: solve(*system, rtol=1e-6, maxiter=300))
    benchmark.extra_info["max_abs_vs_scipy"] = float(
        np.abs(x - _reference.solve_systems(*system, rtol=1e-6, maxiter=300)).max())


def test_stage_wls(benchmark, images):
    src, _ = images
    unit = unit_lab(src.astype(np.float32) / 255)
    coef = np.concatenate([np.ones_like(unit), np.zeros_like(unit)], axis=2)
    coef += np.random.default_rng(0).normal(0, 0.05, coef.shape).astype(np.float32)
    run(benchmark, "neural-512-stages", "WLS smoothing of 6 coefficient maps (512x512)",
        lambda: wls_smooth(coef, unit[..., 0], lam=0.096, iterations=100))


@pytest.mark.parametrize("device", ["cpu", "cuda"])
def test_stage_apply_4k(benchmark, images, device):
    """The final models (a 1024 x 576 grid, the working size of a 3840 x 2160 source) applied
    to the 4K source in one pass (apply_affine); NumPy in and out."""
    if device == "cuda" and not transfer.cuda_available():
        pytest.skip("needs a CUDA GPU")
    g = np.random.default_rng(0)
    src = resize(images[0], (2160, 3840), order=1).astype(np.float32)
    a, b = g.uniform(0.5, 1.5, (576, 1024, 3)), g.uniform(-0.2, 0.2, (576, 1024, 3))
    run(benchmark, "neural-4k-apply", f"affine models applied at 3840x2160 ({device})",
        lambda: apply_affine((a, b), src, device=device))


@pytest.mark.parametrize("solver", ["cg", "multigrid", "multigrid on CUDA"])
@pytest.mark.parametrize("system", ["affine, no non-local term", "affine with non-local term", "WLS 512x512"])
def test_converged_solve(benchmark, images, affine_inputs, system, solver):
    """Each solve to the same relative residual 1e-4: Jacobi-preconditioned CG against CG
    preconditioned by the grid multigrid V-cycle (``solver="multigrid"``), on the CPU and,
    where a GPU is present, on it (the grids built on the host, included)."""
    device = "cuda" if solver.endswith("CUDA") else "cpu"
    if device == "cuda" and not transfer.cuda_available():
        pytest.skip("needs a CUDA GPU")
    kw = dict(iterations=50000, tol=1e-4, solver=solver.split()[0], device=device)
    s, g, conf, clusters = affine_inputs
    if system.startswith("affine"):
        cl = clusters if "with" in system else None
        fn = lambda: local_affine(s, g, conf, nu=4.0, lambda_l=0.02, clusters=cl, **kw)  # noqa: E731
    else:
        unit = unit_lab(images[0].astype(np.float32) / 255)
        coef = np.concatenate([np.ones_like(unit), np.zeros_like(unit)], axis=2)
        coef += np.random.default_rng(0).normal(0, 0.05, coef.shape).astype(np.float32)
        fn = lambda: wls_smooth(coef, unit[..., 0], lam=0.096, **kw)  # noqa: E731
    run(benchmark, f"neural-converged-{system}", solver, fn, rounds=1)
