"""Native kernels against the NumPy references (and CUDA against the CPU where a GPU exists)."""

import numpy as np
import pytest
from skimage.color import lab2rgb as sk_lab2rgb
from skimage.color import rgb2lab as sk_rgb2lab

import transfer
from transfer import _C, _reference as ref
from transfer.classical.methods import cdf_transfer_map, idt, idt_rotations, mid_quantile_map, regrain_image

from conftest import BACKENDS, requires_cuda, rng


def _color_samples():
    r = rng(1)
    grid = np.stack(np.meshgrid(*[np.linspace(0, 1, 17)] * 3, indexing="ij"), -1).reshape(-1, 3)
    edges = np.array([[0, 0, 0], [1, 1, 1], [0.04045, 0.04, 0.0405], [1e-4, 0.5, 1.0]])
    return np.concatenate([grid, r.random((5000, 3)), edges]).astype(np.float32)


@pytest.mark.parametrize("device", BACKENDS)
def test_rgb2lab_matches_skimage(device):
    x = _color_samples()
    ours = transfer.rgb2lab(x, device=device)
    np.testing.assert_allclose(ours, sk_rgb2lab(x.astype(np.float64)), atol=1e-4, rtol=0)


@pytest.mark.parametrize("device", BACKENDS)
def test_lab2rgb_matches_skimage(device):
    lab = sk_rgb2lab(_color_samples().astype(np.float64))
    # also out-of-gamut Lab, which both clip
    lab = np.concatenate([lab, [[50, 120, -120], [90, -100, 100], [5, 60, 80]]])
    ours = transfer.lab2rgb(lab.astype(np.float32), device=device)
    with np.errstate(all="ignore"):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = sk_lab2rgb(lab)
    np.testing.assert_allclose(ours, expected, atol=1e-4, rtol=0)


def test_rgb2lab_uint8_path_equals_float_path(astronaut):
    levels = np.arange(256, dtype=np.uint8)
    all_levels = np.stack(np.meshgrid(levels, levels, levels[::5], indexing="ij"), -1).reshape(-1, 1, 3)
    for img in (astronaut, all_levels):
        lab8 = transfer.rgb2lab(img)
        np.testing.assert_array_equal(lab8, _C.srgb_to_lab(img.astype(np.float32) * np.float32(1 / 255)))
        np.testing.assert_allclose(lab8, sk_rgb2lab(img), atol=1e-4)
    rgba = np.dstack([astronaut, np.zeros(astronaut.shape[:2], np.uint8)])
    np.testing.assert_array_equal(_C.srgb8_to_lab(rgba), transfer.rgb2lab(astronaut))


@pytest.mark.parametrize("dtype,bins,lo,hi", [
    (np.uint8, 256, -0.5, 255.5),
    (np.uint16, 65536, -0.5, 65535.5),
    (np.float32, 300, -0.2, 1.1),
    (np.float32, 7, 0.0, 1.0),
])
def test_histogram_matches_reference(dtype, bins, lo, hi):
    r = rng(2)
    if dtype == np.float32:
        x = (r.random((20000, 3)) * 1.6 - 0.3).astype(np.float32)  # some fall outside [lo, hi)
        x[:10] = hi  # the right edge goes to the last bin
    else:
        x = r.integers(0, np.iinfo(dtype).max + 1, size=(20000, 3), dtype=dtype)
    ours = _C.histogram(x, bins, [lo] * 3, [hi] * 3)
    np.testing.assert_array_equal(ours, ref.histogram(x, bins, [lo] * 3, [hi] * 3))
    assert ours.sum() == x.size


@requires_cuda
def test_histogram_cuda_matches_cpu():
    from transfer import _cuda

    x = rng(3).random((100000, 3)).astype(np.float32)
    for bins in (64, 4096, 20000):  # shared-memory and global-memory paths
        np.testing.assert_array_equal(_cuda.histogram(x, bins, [0.0] * 3, [1.0] * 3),
                                      _C.histogram(x, bins, [0.0] * 3, [1.0] * 3))


def test_apply_bin_map_matches_reference():
    r = rng(4)
    x = (r.random((5000, 3)) * 1.4 - 0.2).astype(np.float32)
    left = np.sort(r.random((3, 50)), axis=1).astype(np.float32)
    right = (left + 0.01 * r.random((3, 50))).astype(np.float32)
    lo, hi = [0.0, 0.1, -0.1], [1.0, 0.9, 1.2]
    np.testing.assert_allclose(_C.apply_bin_map(x, left, right, lo, hi),
                               ref.apply_bin_map(x, left, right, lo, hi), atol=1e-6)


def test_apply_lut_u8_copies_alpha():
    x = rng(5).integers(0, 256, (8, 9, 4), dtype=np.uint8)
    lut = rng(6).integers(0, 256, (3, 256), dtype=np.uint8)
    out = _C.apply_lut_u8(x, lut)
    for c in range(3):
        np.testing.assert_array_equal(out[..., c], lut[c][x[..., c]])
    np.testing.assert_array_equal(out[..., 3], x[..., 3])


@pytest.mark.parametrize("case", range(4))
def test_cdf_transfer_map_matches_loop_reference(case):
    r = rng(10 + case)
    bins = 40
    src = r.integers(0, 50, bins) * (r.random(bins) > 0.3)  # empty bins included
    refs = [r.integers(0, 50, bins) * (r.random(bins) > 0.5) for _ in range(1 + case % 2)]
    weights = np.ones(len(refs)) / len(refs)
    for ours, expected in zip(cdf_transfer_map(src, refs, weights, -1.0, 2.0),
                              ref.cdf_transfer_map(src, refs, weights, -1.0, 2.0)):
        np.testing.assert_allclose(ours, expected, atol=1e-12)
    np.testing.assert_allclose(mid_quantile_map(src, refs, weights, -1.0, 2.0),
                               ref.mid_quantile_map(src, refs, weights, -1.0, 2.0), atol=1e-12)


def test_transfer_maps_are_identity_for_identical_distributions():
    counts = np.array([0, 3, 0, 0, 7, 1, 0, 9, 0])
    occupied = counts > 0
    left, right = cdf_transfer_map(counts, [counts], [1.0], 0.0, 9.0)
    np.testing.assert_allclose(left[occupied], np.arange(9)[occupied], atol=1e-12)
    np.testing.assert_allclose(right[occupied], np.arange(1, 10)[occupied], atol=1e-12)
    mid = mid_quantile_map(counts, [counts], [1.0], 0.0, 9.0)
    np.testing.assert_allclose(mid[occupied], np.arange(9)[occupied] + 0.5, atol=1e-12)


def test_idt_iteration_kernels_match_reference(astronaut, coffee):
    x = (astronaut.reshape(-1, 3) / 255).astype(np.float32)
    r = (coffee.reshape(-1, 3) / 255).astype(np.float32)
    rot = idt_rotations(9, seed=3)[8]  # a random rotation
    p, pr = x.astype(np.float64) @ rot.T.astype(np.float64), r.astype(np.float64) @ rot.T.astype(np.float64)
    ones = np.ones(len(x), np.int64)
    lo, hi = _C.idt_projected_range(x, ones, rot)
    np.testing.assert_allclose(lo, p.min(0), atol=1e-6)
    np.testing.assert_allclose(hi, p.max(0), atol=1e-6)
    lo, hi = np.minimum(lo, pr.min(0)) - 1e-3, np.maximum(hi, pr.max(0)) + 1e-3
    counts = _C.idt_projected_histogram(x, ones, rot, 77, lo, hi)
    ref_counts = _C.idt_projected_histogram(r, np.ones(len(r), np.int64), rot, 77, lo, hi)
    # float32 projections may cross a bin edge where float64 ones do not: a handful at most
    assert np.abs(counts - ref.histogram(p, 77, lo, hi)).sum() <= 6
    assert np.abs(ref_counts - ref.histogram(pr, 77, lo, hi)).sum() <= 6
    maps = [cdf_transfer_map(counts[a], [ref_counts[a]], [1.0], lo[a], hi[a]) for a in range(3)]
    left = np.stack([m[0] for m in maps]).astype(np.float32)
    right = np.stack([m[1] for m in maps]).astype(np.float32)
    moved = x.copy()
    _C.idt_update(moved, rot, left, right, lo, hi, 1.0)
    d = ref.apply_bin_map(p, left, right, lo, hi) - p
    expected = x + d @ rot.astype(np.float64)
    assert np.quantile(np.abs(moved - expected), 0.999) < 1e-5


def test_idt_weighted_kernels_count_each_color_by_its_weight():
    r = rng(9)
    colors = r.random((50, 3)).astype(np.float32)
    weights = r.integers(0, 5, 50).astype(np.int64)
    rot = idt_rotations(7, seed=1)[6]
    expanded = np.repeat(colors, weights, axis=0)
    ones = np.ones(len(expanded), np.int64)
    np.testing.assert_array_equal(_C.idt_projected_range(colors, weights, rot),
                                  _C.idt_projected_range(expanded, ones, rot))
    lo, hi = [-2.0] * 3, [2.0] * 3
    np.testing.assert_array_equal(_C.idt_projected_histogram(colors, weights, rot, 31, lo, hi),
                                  _C.idt_projected_histogram(expanded, ones, rot, 31, lo, hi))


@pytest.mark.parametrize("shape", [(37, 50), (50, 37), (5, 5), (1, 7), (64, 64)])
def test_resize_bilinear_matches_reference_and_skimage(shape):
    from skimage.transform import resize

    img = rng(11).random((23, 31, 3)).astype(np.float32)
    ours = _C.resize_bilinear(img, *shape)
    np.testing.assert_allclose(ours, ref.resize_bilinear(img, *shape), atol=1e-5)
    expected = resize(img, shape, order=1, mode="edge", anti_aliasing=False)  # clamped edges, as OpenCV
    np.testing.assert_allclose(ours, expected, atol=1e-5)


def test_regrain_level_matches_reference():
    r = rng(7)
    original = r.random((23, 31, 3)).astype(np.float32)
    transferred = np.clip(original * 0.7 + 0.2 + r.normal(0, 0.05, original.shape), 0, 1).astype(np.float32)
    out = original.copy()
    _C.regrain_solve_level(out, original, transferred, 9, 1, 1.0)
    expected = ref.regrain_solve_level(original, original, transferred, 9, 1, 1.0)
    np.testing.assert_allclose(out, expected, atol=2e-5)


def test_same_result_with_one_and_two_threads(threads, astronaut, coffee):
    x = rng(8).random((300000, 3)).astype(np.float32)
    results = []
    for n in (1, 2):
        threads(n)
        results.append((
            _C.srgb_to_lab(x),
            _C.histogram(x, 257, [0.0] * 3, [1.0] * 3),
            idt(astronaut, coffee, iterations=12, seed=5, regrain=True),
            transfer.histogram(astronaut, coffee),
            regrain_image(x[:90000].reshape(300, 300, 3), x[90000:180000].reshape(300, 300, 3)),
        ))
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


def test_moments_match_numpy(threads):
    x = (rng(12).random((100003, 3)) * [1, 50, 0.01] + [0, -20, 0.5]).astype(np.float32)
    expected_mean = x.astype(np.float64).mean(0)
    expected_cov = np.cov(x.astype(np.float64).T, bias=True)
    results = []
    for n in (1, 2):
        threads(n)
        results.append(_C.moments(x))
        np.testing.assert_allclose(results[-1][0], expected_mean, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(results[-1][1], expected_cov, rtol=1e-9, atol=1e-15)
    np.testing.assert_array_equal(results[0][1], results[1][1])  # bit-identical


def test_distinct_colors_match_numpy_unique(threads):
    px = rng(13).integers(0, 6, (50000, 4), dtype=np.uint8) * 51  # few colors, many repeats
    px[:, 3] = np.where(rng(14).random(50000) < 0.2, 0, 255)  # some transparent
    keys_all = (px[:, 0].astype(np.int64) << 16) | (px[:, 1].astype(np.int64) << 8) | px[:, 2]
    ids, inverse = np.unique(keys_all, return_inverse=True)
    visible_counts = np.bincount(inverse, weights=px[:, 3] > 0, minlength=len(ids))
    for n in (1, 2):
        threads(n)
        got_ids, got_counts, got_inverse = _C.distinct_colors_u8(px)
        np.testing.assert_array_equal(got_ids, ids)
        np.testing.assert_array_equal(got_counts, visible_counts)
        np.testing.assert_array_equal(got_inverse, inverse.ravel())


def test_lab_affine_to_srgb_matches_two_steps():
    lab = sk_rgb2lab(_color_samples().astype(np.float64)).astype(np.float32)
    scale, shift = np.array([0.8, 1.3, 0.5], np.float32), np.array([5.0, -3.0, 10.0], np.float32)
    np.testing.assert_allclose(_C.lab_affine_to_srgb(lab, scale, shift),
                               _C.lab_to_srgb(lab * scale + shift), atol=1e-6)


def test_arrays_that_went_through_pickle_are_accepted(astronaut, coffee):
    """Arrays sent through pickle (multiprocessing, joblib) carry an equal dtype object that
    is not NumPy's own; the kernels compared dtypes by identity and refused them (idt: "x must
    be a writable C-contiguous float32 array"). The same results as with the originals."""
    import pickle

    import scipy.sparse as sp

    from transfer import nnf
    from transfer.neural.affine import wls_smooth
    from transfer.testing import conv_features

    def roundtrip(x):
        return pickle.loads(pickle.dumps(x))

    src = astronaut[::4, ::4].astype(np.float32) / 255  # unpickled: an equal, other dtype object
    np.testing.assert_array_equal(transfer.idt(roundtrip(src), coffee), transfer.idt(src, coffee))
    a = conv_features(astronaut, 16, (24, 24), gray=True)
    b = conv_features(coffee, 16, (24, 24), gray=True)
    field = nnf.patchmatch(a, b, iters=2)
    again = nnf.patchmatch(roundtrip(a), roundtrip(b), init=roundtrip(field), iters=2)
    np.testing.assert_array_equal(again.nnf, nnf.patchmatch(a, b, init=field, iters=2).nnf)
    values = rng(2).random((16, 16, 2))
    guide = rng(3).random((16, 16))
    np.testing.assert_array_equal(wls_smooth(roundtrip(values), roundtrip(guide), lam=0.1),
                                  wls_smooth(values, guide, lam=0.1))
    lap = sp.eye(4, format="csr") * 2.0
    x = roundtrip(np.zeros((4, 1, 1)))
    _C.pcg(lap.indptr.astype(np.int64), lap.indices.astype(np.int32), lap.data, np.zeros((4, 1, 1, 1)),
           np.ones((4, 1, 1)), x, 1e-10, 10)
    np.testing.assert_allclose(x.ravel(), 0.5)
