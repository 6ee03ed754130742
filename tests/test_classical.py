from functools import partial

import numpy as np
import pytest
from skimage.color import rgb2lab

import transfer
from transfer import _reference as ref
from transfer.classical.methods import METHODS, idt_rotations
from transfer.errors import InputError

from conftest import rng

METHOD_NAMES = sorted(METHODS)


def f64(img):
    return img.astype(np.float64) / (255 if img.dtype == np.uint8 else 1)


# ---- each method against its NumPy reference ------------------------------------------------------


def test_reinhard_matches_reference(astronaut, coffee):
    ours = f64(transfer.reinhard(astronaut, coffee))
    expected = ref.reinhard(f64(astronaut), [f64(coffee)])
    assert np.abs(ours - expected).max() <= 1 / 255 + 1e-9


def test_lalphabeta_matches_reference_and_inverts():
    from transfer.classical.methods import lalphabeta, lalphabeta_to_rgb

    rgb = rng(5).random((4000, 3)).astype(np.float32)
    rgb[:8] = [[0, 0, 0], [1, 1, 1], [1, 0, 0], [0, 1, 0], [0, 0, 1], [0.5, 0.5, 0.5], [1, 1, 0], [0, 1, 1]]
    np.testing.assert_allclose(lalphabeta(rgb), ref.lalphabeta(rgb), atol=2e-5)
    # back within a 50th of an 8-bit level (black: the floor of the logarithm, 1e-4 linear)
    np.testing.assert_allclose(lalphabeta_to_rgb(lalphabeta(rgb)), rgb, atol=2e-3)
    np.testing.assert_allclose(lalphabeta_to_rgb(lalphabeta(rgb))[8:], rgb[8:], atol=2e-4)


def test_reinhard_lalphabeta_matches_reference(astronaut, coffee):
    ours = f64(transfer.reinhard(astronaut, coffee, space="lalphabeta"))
    expected = np.clip(ref.reinhard_lalphabeta(f64(astronaut), [f64(coffee)]), 0, 1)
    assert np.abs(ours - expected).max() <= 1 / 255 + 1e-6
    # a different space gives a different result (both match their own statistics)
    assert np.abs(ours - f64(transfer.reinhard(astronaut, coffee))).mean() > 1 / 255
    with pytest.raises(InputError, match="unknown space 'hsv'"):
        transfer.reinhard(astronaut, coffee, space="hsv")


def test_mkl_matches_reference(astronaut, coffee, chelsea):
    ours = f64(transfer.mkl(astronaut, [coffee, chelsea], weights=[2, 1]))
    expected = ref.mkl(f64(astronaut), [f64(coffee), f64(chelsea)], weights=[2, 1])
    assert np.abs(ours - expected).max() <= 1 / 255 + 1e-6


def test_histogram_matches_reference(astronaut, coffee):
    ours = f64(transfer.histogram(astronaut, coffee))
    expected = ref.histogram_levels(f64(astronaut), [f64(coffee)], 256)
    assert np.abs(ours - expected).max() <= 0.5 / 255 + 1e-6


def test_idt_matches_reference(astronaut, chelsea):
    # Few iterations: IDT is sensitive to tiny differences (the projected range depends on one
    # extreme pixel and moves every bin edge), so float32 and float64 runs drift apart over
    # many iterations; each iteration alone agrees to rounding (test_kernels).
    ours = f64(transfer.idt(astronaut, chelsea, iterations=4, bins=100, regrain=False))
    expected = ref.idt(f64(astronaut), [f64(chelsea)], idt_rotations(4, 0), bins=100)
    assert np.abs(ours - expected).max() <= 1 / 255 + 1e-9  # rounding to uint8 at most flips
    assert np.abs(ours - expected).mean() < 0.3 / 255


# ---- properties ---------------------------------------------------------------------------------


def test_reinhard_output_has_reference_lab_statistics(astronaut, coffee):
    # a muted reference keeps the result inside the sRGB gamut, so no clipping enters
    r = 0.3 + 0.4 * coffee.astype(np.float32) / 255
    out = transfer.reinhard(astronaut.astype(np.float32) / 255, r)
    lab_out = rgb2lab(out).reshape(-1, 3)
    lab_ref = rgb2lab(r).reshape(-1, 3)
    np.testing.assert_allclose(lab_out.mean(0), lab_ref.mean(0), atol=0.05)
    np.testing.assert_allclose(lab_out.std(0), lab_ref.std(0), rtol=0.005)


def test_mkl_output_matches_reference_covariance(astronaut, coffee):
    # a reference inside the gamut, so clipping does not enter the comparison
    src = astronaut.astype(np.float32) / 255
    r = (0.25 + 0.5 * coffee.astype(np.float32) / 255)
    out = transfer.mkl(src, r)
    cov_out = np.cov(out.reshape(-1, 3).T)
    cov_ref = np.cov(r.reshape(-1, 3).T)
    assert np.abs(cov_out - cov_ref).max() <= 0.01 * np.abs(cov_ref).max()
    np.testing.assert_allclose(out.reshape(-1, 3).mean(0), r.reshape(-1, 3).mean(0), atol=2e-3)


def test_idt_matches_reference_distribution_better_than_mkl(astronaut, coffee):
    def hist3(img):
        h, _ = np.histogramdd(img.reshape(-1, 3), bins=8, range=[(0, 256)] * 3)
        return h / h.sum()

    target = hist3(coffee)
    err_idt = np.abs(hist3(transfer.idt(astronaut, coffee, regrain=False)) - target).sum()
    err_mkl = np.abs(hist3(transfer.mkl(astronaut, coffee)) - target).sum()
    err_src = np.abs(hist3(astronaut) - target).sum()
    assert err_idt < 0.6 * err_mkl < 0.6 * err_src


@pytest.mark.parametrize("method", METHOD_NAMES)
def test_reference_equal_to_source_leaves_it_unchanged(method, astronaut):
    out = METHODS[method](astronaut, astronaut)
    diff = np.abs(out.astype(int) - astronaut.astype(int))
    assert diff.max() <= 1 and diff.mean() < 0.05


@pytest.mark.parametrize("method", METHOD_NAMES)
def test_several_references_act_as_their_pooled_distribution(method, coffee, chelsea):
    a, b = coffee[:150, :200], chelsea[:150, :200]  # same size: equal weights == concatenation
    src = np.ascontiguousarray(coffee[-120:, -180:])
    both = METHODS[method](src, [a, b])
    pooled = METHODS[method](src, np.concatenate([a, b], axis=0))
    assert np.abs(both.astype(int) - pooled.astype(int)).max() <= 1


@pytest.mark.parametrize("method", METHOD_NAMES)
def test_weights_select_a_reference(method, astronaut, coffee, chelsea):
    only_coffee = METHODS[method](astronaut, [coffee, chelsea], weights=[1, 0])
    np.testing.assert_array_equal(only_coffee, METHODS[method](astronaut, coffee))


# ---- dtype policy, alpha, strength --------------------------------------------------------------


@pytest.mark.parametrize("method", METHOD_NAMES)
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32, np.float64])
def test_dtype_policy(method, dtype, astronaut, coffee):
    scale = {np.uint8: 1, np.uint16: 257}.get(dtype)
    src = astronaut.astype(dtype) * scale if scale else astronaut.astype(dtype) / 255
    out = METHODS[method](src, coffee)
    assert out.shape == src.shape
    assert out.dtype == (np.float32 if np.dtype(dtype).kind == "f" else dtype)
    # the same transfer whatever the dtype
    as_unit = out.astype(np.float64) / (np.iinfo(dtype).max if scale else 1)
    assert np.abs(as_unit - METHODS[method](astronaut, coffee) / 255).mean() < 1.5 / 255


@pytest.mark.parametrize("method", METHOD_NAMES)
def test_big_endian_input_is_the_same_image(method, astronaut, coffee):
    """Big-endian arrays (FITS files, raw network-order buffers) hold the same values: the
    same result, in the native dtype (before, '>u2' was refused as not uint16)."""
    src = astronaut.astype(np.uint16) * 257
    out = METHODS[method](src.astype(">u2"), coffee.astype(">f4") / 255)
    assert out.dtype == np.uint16 and out.dtype.isnative
    np.testing.assert_array_equal(out, METHODS[method](src, coffee.astype(np.float32) / 255))


@pytest.mark.parametrize("method", METHOD_NAMES)
def test_alpha_is_carried_and_transparent_pixels_ignored(method, astronaut, coffee):
    # (idt without regrain: the grain reduction is a spatial solve that sees all pixels)
    f = partial(METHODS[method], regrain=False) if method == "idt" else METHODS[method]
    alpha = np.full(astronaut.shape[:2], 255, np.uint8)
    alpha[:, :64] = 0
    rgba = np.dstack([astronaut, alpha])
    noisy = rgba.copy()
    noisy[:, :64, :3] = rng(0).integers(0, 256, (astronaut.shape[0], 64, 3))  # hidden garbage
    out, out_noisy = f(rgba, coffee), f(noisy, coffee)
    np.testing.assert_array_equal(out[..., 3], alpha)
    np.testing.assert_array_equal(out[:, 64:], out_noisy[:, 64:])


@pytest.mark.parametrize("method", METHOD_NAMES)
def test_strength(method, astronaut, coffee):
    np.testing.assert_array_equal(METHODS[method](astronaut, coffee, strength=0.0), astronaut)
    full = METHODS[method](astronaut, coffee).astype(float)
    half = METHODS[method](astronaut, coffee, strength=0.5).astype(float)
    assert np.abs(half - (astronaut + full) / 2).max() <= 1


def test_idt_is_reproducible_and_seeded(astronaut, coffee):
    a = transfer.idt(astronaut, coffee, iterations=12, seed=1)
    np.testing.assert_array_equal(a, transfer.idt(astronaut, coffee, iterations=12, seed=1))
    assert not np.array_equal(a, transfer.idt(astronaut, coffee, iterations=12, seed=2))


def test_idt_on_distinct_colors_equals_per_pixel(monkeypatch, astronaut, coffee):
    from transfer.classical import methods as classical

    alpha = np.full(astronaut.shape[:2], 255, np.uint8)
    alpha[:40] = 0
    src = np.dstack([astronaut, alpha])
    monkeypatch.setattr(classical, "DISTINCT_COLORS_MIN_PIXELS", 1)
    reduced = transfer.idt(src, [coffee, astronaut], iterations=5)
    monkeypatch.setattr(classical, "DISTINCT_COLORS_MIN_PIXELS", 1 << 40)
    np.testing.assert_array_equal(reduced, transfer.idt(src, [coffee, astronaut], iterations=5))


def test_regrain_reduces_noise_amplification(coffee):
    # stretching a low-contrast source amplifies its noise; grain reduction removes much of it
    r = rng(3)
    flat = np.clip(0.5 + 0.05 * (coffee / 255.0 - 0.5) + r.normal(0, 0.004, coffee.shape), 0, 1)
    src = flat.astype(np.float32)
    raw = transfer.idt(src, coffee, regrain=False)
    smooth = transfer.idt(src, coffee, regrain=True)

    def roughness(img):
        return np.abs(np.diff(img, axis=1)).mean()

    assert roughness(smooth) < 0.8 * roughness(raw)


@pytest.mark.parametrize("size", [48, 128])
def test_regrain_keeps_the_transferred_colors_on_small_images(size):
    # the grain reduction's coarsest level starts from the transferred colors: it used to
    # start from the source's, which its few iterations could not leave on small images
    r = rng(4)
    src = np.clip(0.5 + r.normal(0, 0.03, (size, size, 3)), 0, 1).astype(np.float32)
    ref = np.clip(np.array([0.1, 0.3, 0.8]) + r.normal(0, 0.03, (size, size, 3)), 0, 1).astype(np.float32)
    raw = transfer.idt(src, ref, regrain=False)
    smooth = transfer.idt(src, ref)
    np.testing.assert_allclose(smooth.mean(axis=(0, 1)), raw.mean(axis=(0, 1)), atol=0.005)
    np.testing.assert_allclose(smooth.mean(axis=(0, 1)), ref.mean(axis=(0, 1)), atol=0.01)


# ---- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize("method", METHOD_NAMES)
def test_bad_inputs_name_the_problem(method, astronaut):
    f = METHODS[method]
    with pytest.raises(InputError, match="src is grayscale"):
        f(astronaut[..., 0], astronaut)
    with pytest.raises(InputError, match=r"refs\[1\] is grayscale"):
        f(astronaut, [astronaut, astronaut[..., 0]])
    with pytest.raises(TypeError, match="src has dtype int32"):
        f(astronaut.astype(np.int32), astronaut)
    with pytest.raises(InputError, match="src is empty"):
        f(astronaut[:0], astronaut)
    with pytest.raises(InputError, match="NaN"):
        f(np.full((4, 4, 3), np.nan, np.float32), astronaut)
    with pytest.raises(InputError, match=r"values in \[0, 255\]"):
        f(astronaut.astype(np.float32), astronaut)
    with pytest.raises(InputError, match="5 channels"):
        f(np.zeros((4, 4, 5), np.uint8), astronaut)
    with pytest.raises(InputError, match="refs is empty"):
        f(astronaut, [])
    with pytest.raises(InputError, match="weights has 1 values for 2"):
        f(astronaut, [astronaut, astronaut], weights=[1])
    with pytest.raises(InputError, match="strength"):
        f(astronaut, astronaut, strength=2)
    with pytest.raises(InputError, match="fully transparent"):
        f(np.zeros((4, 4, 4), np.uint8), astronaut)


@pytest.mark.parametrize("method", METHOD_NAMES)
def test_tiny_and_constant_images(method):
    one = np.full((1, 1, 3), 100, np.uint8)
    const = np.full((8, 8, 3), 30, np.uint8)
    ref_img = rng(1).integers(0, 256, (16, 16, 3), dtype=np.uint8)
    for src in (one, const):
        out = METHODS[method](src, ref_img)
        assert out.shape == src.shape and out.dtype == np.uint8
    # a constant reference gives its constant color (idt: before the grain reduction, which
    # restores the source's gradients by design)
    f = partial(METHODS[method], regrain=False) if method == "idt" else METHODS[method]
    out = f(ref_img, const)
    assert np.abs(out.astype(int) - 30).max() <= 2


@pytest.mark.parametrize("method", ["reinhard", "mkl", "idt", "histogram"])
def test_a_flat_source_takes_the_references_central_color(method):
    """No spread to stretch: a flat source (or a 1x1 one) goes to the reference's mean (median
    for the distribution methods), not to amplified rounding noise."""
    rng = np.random.default_rng(0)
    ref = np.stack([rng.integers(80, 180, (64, 64)), rng.integers(50, 90, (64, 64)),
                    rng.integers(20, 60, (64, 64))], axis=2).astype(np.uint8)
    for src in (np.full((64, 64, 3), (135, 206, 235), np.uint8), np.array([[[135, 206, 235]]], np.uint8)):
        out = getattr(transfer, method)(src, ref).reshape(-1, 3).astype(float)
        assert np.ptp(out, axis=0).max() == 0  # still flat
        center = ref.reshape(-1, 3).mean(0) if method in ("reinhard", "mkl") else np.median(ref.reshape(-1, 3), 0)
        tol = 6 if method == "reinhard" else 2  # reinhard: the mean in CIELab
        assert np.abs(out[0] - center).max() <= tol, (method, out[0], center)


def test_a_nearly_flat_source_is_not_stretched_without_bound(coffee):
    src = np.full((64, 64, 3), 128, np.uint8)
    src[::2, ::2] += 1  # one level of noise
    for method in ("reinhard", "mkl"):
        out = getattr(transfer, method)(src, coffee).astype(float)
        assert out.std(axis=(0, 1)).max() < 10 * 0.5 + 1  # at most MAX_GAIN times the source's spread


def test_reinhard_8_bit_path_equals_the_float_path(astronaut, coffee):
    """8-bit sources at full strength take one fused kernel (8 bits in, 8 bits out); it gives
    the bytes of the float path (Lab, affine, sRGB, rounding), alpha carried."""
    from transfer import _C
    from transfer.classical.methods import _lab, _reinhard_fit, checked_inputs
    from transfer.image import finish

    alpha = np.full(astronaut.shape[:2], 200, np.uint8)
    alpha[:30] = 0
    for src in (astronaut, np.dstack([astronaut, alpha])):
        s, rs, w, _ = checked_inputs(src, coffee, None, 1.0)
        lab = _lab(s)
        float_path = finish(s, _C.lab_affine_to_srgb(lab, *_reinhard_fit(s.visible(lab), rs, w)), 1.0)
        np.testing.assert_array_equal(transfer.reinhard(src, coffee), float_path)
