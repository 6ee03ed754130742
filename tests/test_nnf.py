"""The nearest-neighbour-field backend: PatchMatch against exact search and ground truth."""

import numpy as np
import pytest
from skimage import data
from skimage.color import hsv2rgb, rgb2hsv

import transfer
from transfer import _C, _reference as ref, nnf
from transfer.errors import CudaUnavailableError, InputError
from transfer.testing import conv_features

from conftest import requires_cuda, rng

PM_BACKENDS = ["cpu"] + (["cuda"] if transfer.cuda_available() else [])


def recolor(img, hue=0.35, saturation=0.6):
    """The color change of algorithm.md's measurement: hue shifted, saturation scaled."""
    hsv = rgb2hsv(img)
    hsv[..., 0] = (hsv[..., 0] + hue) % 1.0
    hsv[..., 1] *= saturation
    return (hsv2rgb(hsv) * 255).round().astype(np.uint8)


@pytest.fixture(scope="module")
def photo_pairs():
    """Real feature maps: different photos, and a stereo pair with a recolored view."""
    left, right, _ = data.stereo_motorcycle()
    return {
        "astronaut-coffee": (conv_features(data.astronaut(), 64, (48, 48)),
                             conv_features(data.coffee(), 64, (40, 60))),
        "motorcycle": (conv_features(left, 64, (50, 74), gray=True),
                       conv_features(recolor(right), 64, (50, 74), gray=True)),
    }


# ---- against exact search -----------------------------------------------------------------------


@pytest.mark.parametrize("backend", PM_BACKENDS)
@pytest.mark.parametrize("pair", ["astronaut-coffee", "motorcycle"])
def test_patchmatch_reaches_exact_similarity(photo_pairs, pair, backend):
    a, b = photo_pairs[pair]
    best = nnf.exact(a, b)
    approx = nnf.patchmatch(a, b, device=backend)
    assert approx.similarity.mean() >= 0.99 * best.similarity.mean()
    # exact is the optimum: no pixel of PatchMatch beats it (beyond rounding)
    assert (approx.similarity <= best.similarity + 1e-5).all()


def test_patchmatch_distances_are_the_patch_distances(photo_pairs):
    a, b = photo_pairs["astronaut-coffee"]
    field = nnf.patchmatch(a, b, device="cpu")
    fa, fb = nnf.normalize(a), nnf.normalize(b)
    r = rng(0)
    for _ in range(50):
        p = (r.integers(0, a.shape[1]), r.integers(0, a.shape[2]))
        q = tuple(field.nnf[p])
        assert abs(field.dist[p] - ref.patch_distance(fa, fb, p, q, 1)) < 1e-5
    # candidates evaluated four at a time (inside the maps) or one by one (at the borders)
    # get the very same sums: the distances equal those of the one-by-one kernel to the bit
    np.testing.assert_array_equal(field.dist, nnf.field_distances(a, b, field.nnf))


@pytest.mark.parametrize("channels", [1, 5, 8, 13, 37, 70])
def test_patch_distances_match_reference_for_any_channel_count(channels):
    """The C++ dot products run in vector blocks of 16 and 8 channels and a scalar tail."""
    r = rng(channels)
    a = r.standard_normal((channels, 9, 11)).astype(np.float32)
    b = r.standard_normal((channels, 7, 8)).astype(np.float32)
    field = np.stack([r.integers(0, 7, (9, 11)), r.integers(0, 8, (9, 11))], axis=-1).astype(np.int32)
    dist = nnf.field_distances(a, b, field)
    fa, fb = nnf.normalize(a), nnf.normalize(b)
    for y in range(9):
        for x in range(11):
            assert abs(dist[y, x] - ref.patch_distance(fa, fb, (y, x), tuple(field[y, x]), 1)) < 1e-5


@pytest.mark.skipif(not nnf.bfloat16_available(), reason="needs a CPU with AVX512-BF16")
@pytest.mark.parametrize("channels", [1, 5, 8, 13, 37, 70])
def test_bfloat16_patch_distances_match_reference(channels):
    """The bfloat16 path's products: blocks of 32 values and a masked tail (a patch row of
    3 C values), against the reference on the features rounded to bfloat16."""
    r = rng(channels)
    fa = nnf.normalize(r.standard_normal((channels, 9, 11)).astype(np.float32))
    fb = nnf.normalize(r.standard_normal((channels, 7, 8)).astype(np.float32))
    field = np.stack([r.integers(0, 7, (9, 11)), r.integers(0, 8, (9, 11))], axis=-1).astype(np.int32)
    dist = _C.field_distances(fa, fb, field, 1, bf16=True)
    exact = _C.field_distances(fa, fb, field, 1)
    ra, rb = ref.to_bfloat16(fa), ref.to_bfloat16(fb)
    for y in range(9):
        for x in range(11):
            assert abs(dist[y, x] - ref.patch_distance(ra, rb, (y, x), tuple(field[y, x]), 1)) < 1e-5
    assert np.abs(dist - exact).max() < 0.01  # rounded, a little (1 channel: +-1, exact)
    assert channels == 1 or np.abs(dist - exact).max() > 0


def test_bfloat16_rounding_reference():
    x = np.array([1.0, 1 + 2**-8, 1 + 2**-7 + 2**-8, 1 + 2**-9, -3.14159, 0.0], np.float32)
    # halfway cases go to the even neighbour; 1 + 2^-9 is below halfway
    np.testing.assert_array_equal(ref.to_bfloat16(x), np.array([1.0, 1.0, 1 + 2**-6, 1.0, -3.140625, 0.0], np.float32))


@pytest.mark.skipif(not nnf.bfloat16_available(), reason="needs a CPU with AVX512-BF16")
@pytest.mark.parametrize("pair", ["astronaut-coffee", "motorcycle"])
def test_bfloat16_field_is_as_good_as_float32(photo_pairs, pair):
    a, b = photo_pairs[pair]
    best = nnf.exact(a, b).similarity.mean()
    f32 = nnf.patchmatch(a, b, device="cpu", precision="float32")
    b16 = nnf.patchmatch(a, b, device="cpu", precision="bfloat16")
    assert b16.similarity.mean() >= 0.99 * best
    assert abs(b16.similarity.mean() - f32.similarity.mean()) < 1e-3
    # the distances returned are float32's, of the field found
    np.testing.assert_array_equal(b16.dist, nnf.field_distances(a, b, b16.nnf))
    auto = nnf.patchmatch(a, b, device="cpu")
    np.testing.assert_array_equal(auto.nnf, b16.nnf)  # 'auto' takes bfloat16 here


def test_precision_option(photo_pairs, monkeypatch):
    a, b = photo_pairs["motorcycle"]
    with pytest.raises(InputError, match="unknown precision 'half'"):
        nnf.patchmatch(a, b, precision="half")
    with pytest.raises(InputError, match="precision='bfloat16' is the CPU backend's"):
        nnf.patchmatch(a, b, device="exact", precision="bfloat16")
    monkeypatch.setattr(nnf, "bfloat16_available", lambda: False)  # a CPU without AVX512-BF16
    with pytest.raises(InputError, match="needs a CPU with AVX512-BF16"):
        nnf.patchmatch(a, b, device="cpu", precision="bfloat16")
    auto = nnf.patchmatch(a, b, device="cpu", seed=3)
    f32 = nnf.patchmatch(a, b, device="cpu", seed=3, precision="float32")
    np.testing.assert_array_equal(auto.nnf, f32.nnf)
    monkeypatch.setattr(nnf, "default_precision", "bfloat16")  # the setting is what None means
    with pytest.raises(InputError, match="needs a CPU with AVX512-BF16"):
        nnf.patchmatch(a, b, device="cpu")


def test_exact_matches_brute_force_reference():
    r = rng(1)
    a = r.standard_normal((8, 6, 7)).astype(np.float32)
    b = r.standard_normal((8, 5, 9)).astype(np.float32)
    fa, fb = nnf.normalize(a), nnf.normalize(b)
    field = nnf.exact(a, b, patch_size=3)
    for y in range(6):
        for x in range(7):
            d = [[ref.patch_distance(fa, fb, (y, x), (qy, qx), 1) for qx in range(9)] for qy in range(5)]
            assert abs(field.dist[y, x] - np.min(d)) < 1e-5
            assert np.ravel_multi_index(tuple(field.nnf[y, x]), (5, 9)) == np.argmin(d)


def test_exact_in_small_chunks_equals_one_chunk(photo_pairs):
    a, b = photo_pairs["astronaut-coffee"]
    whole = nnf.exact(a, b)
    chunked = nnf.exact(a, b, max_chunk_bytes=1)  # one row at a time
    np.testing.assert_array_equal(whole.nnf, chunked.nnf)
    np.testing.assert_allclose(whole.dist, chunked.dist, atol=1e-6)


# ---- ground truth -------------------------------------------------------------------------------


def _stereo_accuracy(field, disparity, image_width, feature_shape):
    """Fraction of cells (with known disparity) matched within 1.5 cells of the truth."""
    h, w = feature_shape
    H, W = disparity.shape
    ys = ((np.arange(h) + 0.5) * H / h).astype(int)
    xs = ((np.arange(w) + 0.5) * W / w).astype(int)
    d = disparity[ys][:, xs]
    known = np.isfinite(d) & (d > 0)
    true_x = np.arange(w)[None, :] - d * w / image_width
    true_y = np.arange(h)[:, None] + np.zeros_like(d)
    err = np.hypot(field.nnf[..., 0] - true_y, field.nnf[..., 1] - true_x)
    return float((err[known] <= 1.5).mean())


def _stereo_cases():
    left, right, disp = data.stereo_motorcycle()
    yield "motorcycle", left, recolor(right), disp


@pytest.mark.parametrize("backend", PM_BACKENDS)
def test_ground_truth_stereo_motorcycle(backend):
    name, left, right, disp = next(_stereo_cases())
    shape = (62, 92)  # stride 8
    a, b = conv_features(left, 64, shape, gray=True), conv_features(right, 64, shape, gray=True)
    acc_exact = _stereo_accuracy(nnf.exact(a, b), disp, left.shape[1], shape)
    acc_pm = _stereo_accuracy(nnf.patchmatch(a, b, device=backend), disp, left.shape[1], shape)
    print(f"{name}: within 1.5 cells: exact {acc_exact:.3f}, patchmatch {acc_pm:.3f}")
    assert acc_exact > 0.6  # the features carry the correspondence at all
    assert acc_pm >= acc_exact - 0.02


@pytest.mark.parametrize("scene", ["teddy", "cones"])
def test_ground_truth_middlebury(shared_data, scene):
    import imageio.v3 as iio

    folder = shared_data / "middlebury2003" / scene
    left, right = iio.imread(folder / "im2.png"), iio.imread(folder / "im6.png")
    disp = iio.imread(folder / "disp2.pgm").astype(np.float64) / 4  # stored x4, 0 = unknown
    shape = (47, 56)  # stride 8
    a, b = conv_features(left, 64, shape, gray=True), conv_features(recolor(right), 64, shape, gray=True)
    acc_exact = _stereo_accuracy(nnf.exact(a, b), disp, left.shape[1], shape)
    acc_pm = _stereo_accuracy(nnf.patchmatch(a, b, device="cpu"), disp, left.shape[1], shape)
    print(f"{scene}: within 1.5 cells: exact {acc_exact:.3f}, patchmatch {acc_pm:.3f}")
    assert acc_exact > 0.5
    assert acc_pm >= acc_exact - 0.02


# ---- determinism, edge cases --------------------------------------------------------------------


@pytest.mark.parametrize("precision", ["float32"] + (["bfloat16"] if nnf.bfloat16_available() else []))
def test_same_field_for_one_and_two_threads(threads, photo_pairs, precision):
    a, b = photo_pairs["motorcycle"]
    results = []
    for n in (1, 2):
        threads(n)
        results.append(nnf.patchmatch(a, b, device="cpu", seed=7, radius=20, precision=precision))
    np.testing.assert_array_equal(results[0].nnf, results[1].nnf)
    np.testing.assert_array_equal(results[0].dist, results[1].dist)


def test_seed_changes_the_random_search(photo_pairs):
    a, b = photo_pairs["astronaut-coffee"]
    f0 = nnf.patchmatch(a, b, device="cpu", iters=2, seed=0)
    f1 = nnf.patchmatch(a, b, device="cpu", iters=2, seed=1)
    assert not np.array_equal(f0.nnf, f1.nnf)


@pytest.mark.parametrize("backend", PM_BACKENDS + ["exact"])
def test_identical_maps_give_the_identity(backend):
    a = rng(2).standard_normal((16, 30, 40)).astype(np.float32)
    field = nnf.patchmatch(a, a, device=backend)
    np.testing.assert_array_equal(field.nnf, nnf.proportional_field((30, 40), (30, 40)))
    np.testing.assert_allclose(field.dist, -1.0, atol=1e-5)


@pytest.mark.parametrize("backend", PM_BACKENDS + ["exact"])
@pytest.mark.parametrize("shape_a,shape_b", [((1, 1), (1, 1)), ((2, 2), (5, 3)), ((1, 1), (9, 9)),
                                             ((8, 200), (200, 8)), ((3, 1), (1, 4))])
def test_small_and_odd_shapes(backend, shape_a, shape_b):
    a = conv_features(data.astronaut(), 16, shape_a)
    b = conv_features(data.coffee(), 16, shape_b)
    field = nnf.patchmatch(a, b, device=backend)
    assert field.nnf.shape == (*shape_a, 2) and field.dist.shape == shape_a
    assert (field.nnf[..., 0] < shape_b[0]).all() and (field.nnf[..., 1] < shape_b[1]).all()
    assert (field.nnf >= 0).all() and np.isfinite(field.dist).all()
    best = nnf.exact(a, b)
    if shape_a == (1, 1) and backend != "exact":
        # One pixel has no neighbours to propagate from: PatchMatch is 40 random draws among
        # the 81 pixels of b. Its match must still beat 90% of them.
        every = np.einsum("c,hwc->hw", nnf.normalize(a)[0, 0], nnf.normalize(b))
        assert (every <= field.similarity[0, 0] + 1e-6).mean() >= 0.9
    else:
        assert field.similarity.mean() >= 0.99 * best.similarity.mean() - 1e-6


def test_zero_features_give_no_nan():
    a = np.zeros((4, 6, 6), np.float32)
    b = rng(4).standard_normal((4, 6, 6)).astype(np.float32)
    for backend in ("cpu", "exact"):
        field = nnf.patchmatch(a, b, device=backend)
        assert np.isfinite(field.dist).all()


def test_init_is_used_and_checked(photo_pairs):
    a, b = photo_pairs["astronaut-coffee"]
    best = nnf.exact(a, b)
    # starting from the optimum with no iterations keeps it
    kept = nnf.patchmatch(a, b, init=best, iters=0, device="cpu")
    np.testing.assert_array_equal(kept.nnf, best.nnf)
    with pytest.raises(InputError, match=r"init has shape \(3, 3, 2\); expected \(48, 48, 2\)"):
        nnf.patchmatch(a, b, init=np.zeros((3, 3, 2), np.int32))
    with pytest.raises(TypeError, match="init has dtype float"):
        nnf.patchmatch(a, b, init=np.zeros((48, 48, 2), np.float32))


def test_torch_tensors_are_accepted(photo_pairs):
    import torch

    a, b = photo_pairs["astronaut-coffee"]
    f_np = nnf.patchmatch(a, b, device="cpu")
    f_t = nnf.patchmatch(torch.from_numpy(a), torch.from_numpy(b), device="cpu")
    np.testing.assert_array_equal(f_np.nnf, f_t.nnf)


def test_bad_input():
    a = np.zeros((4, 5, 5), np.float32)
    with pytest.raises(InputError, match="unknown device 'gpu'"):
        nnf.patchmatch(a, a, device="gpu")
    with pytest.raises(InputError, match="a has 4 channels and b has 3"):
        nnf.patchmatch(a, a[:3])
    with pytest.raises(InputError, match="b is empty"):
        nnf.patchmatch(a, a[:, :0])
    with pytest.raises(InputError, match="a contains NaN"):
        nnf.patchmatch(np.full((4, 5, 5), np.nan, np.float32), a)
    with pytest.raises(TypeError, match="a has dtype int64"):
        nnf.patchmatch(np.zeros((4, 5, 5), np.int64), a)
    with pytest.raises(InputError, match=r"shape \(5, 5\)"):
        nnf.patchmatch(a[0], a)
    with pytest.raises(InputError, match="patch_size must be a positive odd"):
        nnf.patchmatch(a, a, patch_size=4)
    with pytest.raises(TypeError, match="NumPy array or torch tensor"):
        nnf.patchmatch([[1.0]], a)


@pytest.mark.skipif(transfer.cuda_available(), reason="a CUDA GPU is present")
def test_cuda_backend_without_gpu():
    a = np.zeros((4, 5, 5), np.float32)
    with pytest.raises(CudaUnavailableError, match="patchmatch on device='cuda'"):
        nnf.patchmatch(a, a, device="cuda")


@pytest.mark.skipif(transfer.cuda_available(), reason="a CUDA GPU is present")
def test_cuda_vote_without_gpu():
    ident = nnf.proportional_field((4, 4), (4, 4))
    with pytest.raises(CudaUnavailableError, match="bds_vote on device='cuda'"):
        nnf.bds_vote(np.zeros((4, 4, 3)), ident, ident, device="cuda")


@requires_cuda
@pytest.mark.parametrize("beta, k, half", [(0.0, 3, 1), (2.0, 3, 1), (2.0, 64, 1), (0.5, 2, 2)])
def test_cuda_bds_vote_matches_cpu(beta, k, half):
    """The same body (bds_vote_px) and, for the completeness votes, the same order of B's
    pixels (a stable sort on their match): the CPU's votes to float rounding."""
    r = rng(12)
    ha, wa, hb, wb = 37, 29, 31, 41
    values = r.random((hb, wb, k)).astype(np.float32)
    fab, fba = random_fields(r, ha, wa, hb, wb)
    cpu = nnf.bds_vote(values, fab, fba, beta=beta, patch_size=2 * half + 1)
    np.testing.assert_allclose(nnf.bds_vote(values, fab, fba, beta=beta, patch_size=2 * half + 1,
                                            device="cuda"), cpu, rtol=0, atol=1e-6)


@requires_cuda
@pytest.mark.parametrize("c, shape_a, shape_b, half", [(16, (9, 11), (7, 13), 1), (64, (1, 1), (1, 1), 1),
                                                     (24, (8, 30), (30, 8), 1), (5, (12, 12), (12, 12), 1),
                                                     (40, (10, 9), (9, 10), 2)])
def test_cuda_distances_match_cpu_at_every_pixel(c, shape_a, shape_b, half):
    """The distances of one field, clipped patches (every border) and odd channel counts
    (the 8-wide block and tail of the sums) included: the GPU's half-warp sums are the CPU's."""
    from transfer import _cuda

    r = rng(11)
    a = nnf.normalize(r.standard_normal((c, *shape_a)).astype(np.float32))
    b = nnf.normalize(r.standard_normal((c, *shape_b)).astype(np.float32))
    field = np.stack([r.integers(0, shape_b[0], shape_a), r.integers(0, shape_b[1], shape_a)], -1).astype(np.int32)
    _, gpu = _cuda.patchmatch(a, b, field, half, 0, 1, 0)  # no iteration: the field's distances
    np.testing.assert_allclose(gpu, _C.field_distances(a, b, field, half), rtol=0, atol=2e-6)


@requires_cuda
@pytest.mark.parametrize("pair", ["motorcycle", "astronaut-coffee"])
def test_cuda_gives_the_cpu_field(photo_pairs, pair):
    """Same candidate draws, same 16-lane sums (a half-warp per pixel on the GPU): the same
    field. On an H100 it was the CPU's to the bit at every benchmark shape; a processor
    without FMA rounds its products differently, so a few ties may tip."""
    a, b = photo_pairs[pair]
    cpu = nnf.patchmatch(a, b, device="cpu", precision="float32")
    gpu = nnf.patchmatch(a, b, device="cuda")
    same = (gpu.nnf == cpu.nnf).all(axis=-1)
    assert same.mean() >= 0.999
    np.testing.assert_allclose(gpu.dist[same], cpu.dist[same], rtol=0, atol=1e-6)


# ---- upsampling and voting ----------------------------------------------------------------------


@pytest.mark.parametrize("shapes", [((6, 7), (12, 14), (5, 9), (10, 18)),
                                    ((5, 5), (11, 9), (4, 6), (9, 13)),
                                    ((3, 4), (6, 8), None, (5, 5))])
def test_upsample_matches_reference(shapes):
    coarse_a, fine_a, coarse_b, fine_b = shapes
    cb = coarse_b or fine_b
    field = np.stack([rng(5).integers(0, cb[0], coarse_a), rng(6).integers(0, cb[1], coarse_a)], -1)
    ours = nnf.upsample(field, fine_a, fine_b, coarse_shape_b=coarse_b)
    np.testing.assert_array_equal(ours, ref.upsample(field, fine_a, fine_b, coarse_b))


def test_upsample_of_identity_is_identity():
    ident = nnf.proportional_field((10, 12), (10, 12))
    np.testing.assert_array_equal(nnf.upsample(ident, (20, 24), (20, 24)),
                                  nnf.proportional_field((20, 24), (20, 24)))


def random_fields(r, ha, wa, hb, wb):
    fab = np.stack([r.integers(0, hb, (ha, wa)), r.integers(0, wb, (ha, wa))], -1).astype(np.int32)
    fba = np.stack([r.integers(0, ha, (hb, wb)), r.integers(0, wa, (hb, wb))], -1).astype(np.int32)
    return fab, fba


@pytest.mark.parametrize("beta, patch_size", [(0.0, 3), (2.0, 3), (0.5, 3), (2.0, 5)])
def test_bds_vote_matches_reference(beta, patch_size, threads):
    r = rng(7)
    ha, wa, hb, wb = 9, 11, 7, 13
    values = r.random((hb, wb, 5)).astype(np.float32)
    fab, fba = random_fields(r, ha, wa, hb, wb)
    half = patch_size // 2
    expected = ref.bds_vote(values.astype(np.float64), fab, fba, beta, half)
    outs = []
    for n in (1, 2):
        threads(n)
        outs.append(nnf.bds_vote(values, fab, fba, beta=beta, patch_size=patch_size))
        np.testing.assert_allclose(outs[-1], expected, atol=1e-5)
    np.testing.assert_array_equal(outs[0], outs[1])
    # a feature map laid out (K, H, W) votes the same
    np.testing.assert_allclose(nnf.bds_vote(np.moveaxis(values, -1, 0), fab, fba, beta=beta, channel_axis=0,
                                            patch_size=patch_size),
                               np.moveaxis(expected, -1, 0), atol=1e-5)


def test_bds_vote_with_identity_fields_returns_the_values():
    img = rng(8).random((12, 15, 3)).astype(np.float32)
    ident = nnf.proportional_field((12, 15), (12, 15))
    np.testing.assert_allclose(nnf.bds_vote(img, ident, ident), img, atol=1e-6)
    np.testing.assert_allclose(nnf.bds_vote(img[..., 0], ident, ident), img[..., 0], atol=1e-6)


def test_bds_vote_bad_input():
    ident = nnf.proportional_field((4, 4), (4, 4))
    with pytest.raises(InputError, match="field_ba has shape"):
        nnf.bds_vote(np.zeros((5, 4, 3)), ident, ident)
    with pytest.raises(InputError, match="beta must be >= 0"):
        nnf.bds_vote(np.zeros((4, 4, 3)), ident, ident, beta=-1)
    with pytest.raises(ValueError, match="field points outside"):
        nnf.bds_vote(np.zeros((4, 4, 3)), ident, ident + 4)


def test_normalize_unit_vectors_on_huge_page_boundaries():
    x = rng(5).standard_normal((64, 256, 144))  # float64 in, 9 MiB of float32 out
    x[:, 0, 0] = 0  # a zero feature vector stays zero
    out = nnf.normalize(x)
    assert out.shape == (256, 144, 64) and out.dtype == np.float32 and out.flags.c_contiguous
    assert out.ctypes.data % (2 << 20) == 0  # all of it in transparent huge pages (docs/performance.md)
    expected = np.moveaxis(x, 0, -1) / np.linalg.norm(x, axis=0)[..., None].clip(1e-12)
    np.testing.assert_allclose(out, expected, atol=1e-6)
    assert not out[0, 0].any() and np.isfinite(out).all()
    small = nnf.normalize(x[:, :4, :4])
    np.testing.assert_array_equal(small, out[:4, :4])


def test_backend_keyword_still_works_with_a_warning():
    a = rng(0).standard_normal((4, 9, 9)).astype(np.float32)
    with pytest.warns(DeprecationWarning, match="device="):
        old = nnf.patchmatch(a, a, backend="cpu")
    np.testing.assert_array_equal(old.nnf, nnf.patchmatch(a, a, device="cpu").nnf)
