"""Colorization of a 512 x 512 gray photo (astronaut) from one 512 x 512 color reference (an
overlapping view): end to end per method, and the stages of the exemplar method.
Target: exemplar <= 10 s."""

import inspect

import numpy as np
import pytest
from skimage import data
from skimage.transform import resize

from transfer import features, nnf
from transfer.colorization.methods import colorize
from transfer.colorization.exemplar import exemplar, propagate
from transfer.colorization.gray import gray_lightness
from transfer.color import gray_of
from transfer.neural.scale import reference_scale

PROPAGATION = inspect.signature(exemplar).parameters["propagation"].default


def square(img, n=512):
    return (resize(img, (n, n), anti_aliasing=True) * 255).round().astype(np.uint8)


@pytest.fixture(scope="module")
def images():
    truth = square(data.astronaut()[:460, :460])
    gray = (np.clip(gray_of(truth.astype(np.float32) / 255), 0, 1) * 255).round().astype(np.uint8)
    return gray, square(data.astronaut()[52:, 52:])


def run(benchmark, group, name, fn, rounds=3):
    benchmark.group, benchmark.name = group, name
    return benchmark.pedantic(fn, rounds=rounds, iterations=1, warmup_rounds=1)


@pytest.mark.parametrize("method", ["exemplar", "semantic", "welsh"])
def test_end_to_end(benchmark, images, method):
    gray, ref = images
    run(benchmark, "colorize-512-end-to-end", f"transfer colorize {method}",
        lambda: colorize(gray, ref, method=method))


def test_end_to_end_one_pass(benchmark, images):
    gray, ref = images
    run(benchmark, "colorize-512-end-to-end", "transfer colorize exemplar, passes=1",
        lambda: colorize(gray, ref, passes=1))


def test_end_to_end_without_scale_search(benchmark, images):
    gray, ref = images
    run(benchmark, "colorize-512-end-to-end", "transfer colorize exemplar, ref_scale=1 (no scale search)",
        lambda: colorize(gray, ref, ref_scale=1))


def test_stage_reference_scale(benchmark, images):
    gray, ref = images
    net = features.backbone("effnet-lite0")
    g3 = np.repeat(gray[..., None], 3, axis=2).astype(np.float32) / 255
    rgb = ref.astype(np.float32) / 255
    run(benchmark, "colorize-512-stages", "reference scale search (ref_scale='auto', 4 candidates)",
        lambda: reference_scale(net, g3, rgb))


def test_stage_features(benchmark, images):
    gray, ref = images
    net = features.backbone("effnet-lite0")
    g3 = np.repeat(gray[..., None], 3, axis=2)
    run(benchmark, "colorize-512-stages", "features of target and reference (levels 5-2)",
        lambda: (net.features(g3, (5, 4, 3, 2)), net.features(ref, (5, 4, 3, 2))))


@pytest.mark.parametrize("solver", ["cg", "multigrid"])
def test_stage_propagation(benchmark, images, solver):
    gray, _ = images
    ab = np.random.default_rng(0).normal(0, 20, (512, 512, 2)).astype(np.float32)
    conf = np.random.default_rng(1).random((512, 512)).astype(np.float32)
    what = "200 CG steps" if solver == "cg" else "multigrid CG to 1e-5"
    run(benchmark, "colorize-512-stages", f"edge-aware propagation of ab (512x512, {what})",
        lambda: propagate(gray_lightness(gray.astype(np.float32) / 255), ab, conf, PROPAGATION, solver=solver))


def test_stage_patchmatch(benchmark, images):
    gray, ref = images
    net = features.backbone("effnet-lite0")
    fa = net.features(np.repeat(gray[..., None], 3, axis=2), (2,))[2].numpy()
    fr = net.features(ref, (2,))[2].numpy()
    run(benchmark, "colorize-512-stages", "patchmatch both ways (level 2, cold start)",
        lambda: (nnf.patchmatch(fa, fr, radius=32, device="cpu"),
                 nnf.patchmatch(fr, fa, radius=32, device="cpu")))


def test_stage_colors_on_pixel_grid(benchmark, images):
    """The level-2 field carried to the 512 x 512 pixel grid, the reference's chroma sampled
    through it and each pixel's nine coherence candidates fused by the annealed mean."""
    from transfer.color import srgb_to_lab as _lab
    from transfer.colorization.exemplar import _fused_candidates

    gray, ref = images
    net = features.backbone("effnet-lite0")
    fa = net.features(np.repeat(gray[..., None], 3, axis=2), (2,))[2].numpy()
    fr = net.features(ref, (2,))[2].numpy()
    field = nnf.patchmatch(fa, fr, radius=32, device="cpu").nnf
    ref_ab = _lab(ref.astype(np.float32) / 255)[..., 1:]
    everywhere = np.ones(gray.shape, bool)

    def colors():
        up = nnf.upsample(field, gray.shape, ref.shape[:2], coarse_shape_b=fr.shape[1:])
        return _fused_candidates(ref_ab, up, everywhere)

    run(benchmark, "colorize-512-stages", "warped colors on the pixel grid (carry + annealed mean)", colors)


def test_end_to_end_without_classifier(benchmark, images):
    gray, ref = images
    run(benchmark, "colorize-512-end-to-end", "transfer colorize exemplar, classifier=0",
        lambda: colorize(gray, ref, classifier=0))


def test_stage_classifier(benchmark, images):
    """The color classifier of one pass: hypercolumns of the reference's level-2 cells
    (256 x 256) and their lightness, the fit (at most 4096 cells), the prediction for the
    target's cells."""
    from transfer.color import srgb_to_lab as _lab
    from transfer.colorization.exemplar import _classify

    gray, ref = images
    net = features.backbone("effnet-lite0")
    levels = (5, 4, 3, 2)
    tgt = {lv: f.numpy() for lv, f in net.features(np.repeat(gray[..., None], 3, axis=2), levels).items()}
    rf = {lv: f.numpy() for lv, f in net.features(ref, levels).items()}
    shape = tgt[2].shape[1:]
    light = _lab(resize(np.repeat(gray[..., None], 3, axis=2), shape).astype(np.float32))[..., 0]
    run(benchmark, "colorize-512-stages", "color classifier (fit on the reference, predict the target)",
        lambda: _classify(tgt, light, [rf], [ref.astype(np.float32) / 255], levels, 2, 0))
