"""Region-by-region transfer (transfer.classical.regions): masks, label maps, feathering."""

import warnings

import numpy as np
import pytest

import transfer
from transfer import _reference
from transfer.classical import methods as classical
from transfer.classical import regions as regions
from transfer.errors import InputError

from conftest import rng

CLASSICAL = sorted(classical.METHODS)


# ---- guided filter --------------------------------------------------------------------------------


@pytest.mark.parametrize("radius", [1, 2, 4])
@pytest.mark.parametrize("eps", [1e-3, 1e-1])
def test_guided_filter_matches_the_window_by_window_reference(radius, eps):
    g = rng(radius).random((9, 13, 3)).astype(np.float32)
    p = (rng(7).random((9, 13)) > 0.5).astype(np.float32)
    np.testing.assert_allclose(regions.guided_filter(g, p, radius, eps),
                               _reference.guided_filter(g, p, radius, eps), atol=2e-6)


def test_guided_filter_keeps_constants_and_takes_the_guides_edges():
    g = np.zeros((40, 40, 3), np.float32)
    g[:, 23:] = (0.9, 0.2, 0.1)  # an edge at column 23
    np.testing.assert_allclose(regions.guided_filter(g, np.full((40, 40), 0.3), 5), 0.3, atol=1e-6)
    p = np.zeros((40, 40))
    p[:, 23:] = 1  # a mask along the edge stays sharp, where a box blur would spread it
    np.testing.assert_allclose(regions.guided_filter(g, p, 5), p, atol=0.01)
    assert np.abs(regions.guided_filter(g, p, 5, eps=1e6) - p).max() > 0.4
    p[:, 20:] = 1  # drawn 3 pixels short of the edge: beyond it, the region is whole, and the
    q = regions.guided_filter(g, p, 5)  # fade on the other side ends at the edge
    assert np.abs(q[:, 23:] - 1).max() < 0.01 and (q[:, 23] - q[:, 22]).min() > 0.3


def test_fast_guided_filter_is_close_to_the_full_one(astronaut):
    g = astronaut.astype(np.float32) / 255
    p = np.zeros(g.shape[:2])
    p[60:200, 80:170] = 1
    full = regions.guided_filter(g, p, 8)
    fast = regions.guided_filter(g, p, 8, subsample=2)
    assert np.abs(fast - full).mean() < 5e-3 and np.abs(fast - full).max() < 0.25


def test_blend_weights_sum_to_one_and_stay_hard_without_feathering(astronaut):
    g = astronaut.astype(np.float32) / 255
    index = np.zeros(g.shape[:2], np.int32)
    index[:, 100:] = 1
    index[150:, :] = 2
    w = regions.blend_weights(g, index, 3, 6)
    assert w.shape == (3, 256, 256) and w.min() >= 0
    np.testing.assert_allclose(w.sum(axis=0), 1, atol=1e-5)
    assert (w[0, :130, :80] == 1).all() and (w[2, 175:, :] == 1).all()  # far from the borders
    hard = regions.blend_weights(g, index, 3, 0)
    np.testing.assert_array_equal(hard.argmax(axis=0), index)
    assert set(np.unique(hard)) == {0.0, 1.0}


# ---- the transfer -------------------------------------------------------------------------------


@pytest.mark.parametrize("method", CLASSICAL)
@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_one_region_over_everything_is_the_global_transfer(astronaut, coffee, method, dtype):
    src, ref = astronaut, coffee
    if dtype == np.float32:
        src, ref = src.astype(np.float32) / 255, ref.astype(np.float32) / 255
    whole = np.ones(src.shape[:2], bool)
    out = regions.regional(src, ref, whole, method=method, feather=0)
    assert out.dtype == src.dtype
    np.testing.assert_array_equal(out, classical.METHODS[method](src, ref))


@pytest.mark.parametrize("method", CLASSICAL)
def test_pixels_outside_the_mask_are_kept(astronaut, coffee, method):
    labels = np.zeros(astronaut.shape[:2], np.int32)
    labels[40:200, 60:220] = 1
    out = regions.regional(astronaut, coffee, labels, method=method, feather=0)
    np.testing.assert_array_equal(out[labels == 0], astronaut[labels == 0])
    assert np.abs(out[labels == 1].astype(int) - astronaut[labels == 1]).mean() > 5
    feathered = regions.regional(astronaut, coffee, labels, method=method, feather=5)
    far = np.ones_like(labels, bool)
    far[40 - 12:200 + 12, 60 - 12:220 + 12] = False  # beyond two filter radii of the mask
    np.testing.assert_array_equal(feathered[far], astronaut[far])


def _two_tone(left, right, shape=(64, 96)):
    img = np.empty(shape + (3,), np.float32)
    img[:, : shape[1] // 2], img[:, shape[1] // 2:] = left, right
    return np.clip(img + rng(1).normal(0, 0.03, img.shape).astype(np.float32), 0, 1)


def test_each_region_takes_the_colors_of_its_counterpart():
    src = _two_tone((0.5, 0.5, 0.5), (0.3, 0.3, 0.3))
    ref = _two_tone((0.8, 0.2, 0.2), (0.1, 0.3, 0.8), shape=(80, 60))
    src_labels = np.ones((64, 96), np.int32)
    src_labels[:, 48:] = 2
    ref_labels = np.full((80, 60), 2, np.int32)  # crosswise: the source's left is the ref's right
    ref_labels[:, 30:] = 1
    for method in CLASSICAL:  # (idt's grain reduction does not converge on images this small)
        options = {"regrain": False} if method == "idt" else {}
        out = regions.regional(src, ref, src_labels, [ref_labels], method=method, feather=0, **options)
        np.testing.assert_allclose(out[:, :48].mean(axis=(0, 1)), ref[:, 30:].mean(axis=(0, 1)), atol=0.02)
        np.testing.assert_allclose(out[:, 48:].mean(axis=(0, 1)), ref[:, :30].mean(axis=(0, 1)), atol=0.02)
    # a global transfer gives both halves the mixture's colors instead
    glob = transfer.reinhard(src, ref)
    assert np.abs(glob[:, :48].mean(axis=(0, 1)) - ref[:, 30:].mean(axis=(0, 1))).max() > 0.1


def test_several_references_pool_each_region():
    src = _two_tone((0.5, 0.5, 0.5), (0.3, 0.3, 0.3))
    red, blue = _two_tone((0.8, 0.2, 0.2), (0.8, 0.2, 0.2)), _two_tone((0.1, 0.3, 0.8), (0.1, 0.3, 0.8))
    labels = np.ones((64, 96), np.int32)
    labels[:, 48:] = 2
    # region 1 only in the red reference, region 2 only in the blue one
    out = regions.regional(src, [red, blue], labels, [np.ones((64, 96), np.int32),
                                                     np.full((64, 96), 2, np.int32)],
                           method="mkl", feather=0)
    np.testing.assert_allclose(out[:, :48].mean(axis=(0, 1)), red.mean(axis=(0, 1)), atol=0.02)
    np.testing.assert_allclose(out[:, 48:].mean(axis=(0, 1)), blue.mean(axis=(0, 1)), atol=0.02)
    # a None entry: that reference serves every region (pooled, equal weights)
    both = regions.regional(src, [red, blue], labels, [None, np.full((64, 96), 2, np.int32)],
                            method="mkl", feather=0)
    np.testing.assert_allclose(both[:, :48].mean(axis=(0, 1)), red.mean(axis=(0, 1)), atol=0.02)
    assert abs(both[:, 48:, 0].mean() - (red[..., 0].mean() + blue[..., 0].mean()) / 2) < 0.05


def test_unmatched_regions(astronaut, coffee):
    labels = np.ones(astronaut.shape[:2], np.int32)
    labels[:, 128:] = 2
    ref_labels = np.ones(coffee.shape[:2], np.int32)  # no region 2 in the reference
    with pytest.warns(UserWarning, match="region 2 of the source has no pixels"):
        kept = regions.regional(astronaut, coffee, labels, [ref_labels], feather=0, report=(rep := {}))
    np.testing.assert_array_equal(kept[:, 128:], astronaut[:, 128:])
    assert rep["unmatched"] == [2] and rep["labels"] == [0, 1]
    glob = regions.regional(astronaut, coffee, labels, [ref_labels], feather=0, unmatched="global")
    np.testing.assert_array_equal(glob[:, 128:], regions.regional(
        astronaut, coffee, labels == 2, feather=0)[:, 128:])
    with pytest.raises(InputError, match="region 2"):
        regions.regional(astronaut, coffee, labels, [ref_labels], unmatched="error")
    specks = labels.copy()
    specks[0, :3] = 7  # a few stray pixels: kept without a message
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = regions.regional(astronaut, coffee, specks, feather=0)
    np.testing.assert_array_equal(out[0, :3], astronaut[0, :3])


def test_soft_mask_blends_by_its_values(astronaut, coffee):
    # every value >= 0.5, so the statistics come from the whole source as in the global method
    mask = np.linspace(0.5, 1, 256, dtype=np.float32)[None, :].repeat(256, axis=0)
    out = regions.regional(astronaut, coffee, mask, method="mkl", feather=0)
    full = transfer.mkl(astronaut, coffee).astype(np.float64)
    expected = astronaut + mask[..., None] * (full - astronaut)
    assert np.abs(out - expected).max() <= 1.0


def test_region_map_at_another_resolution_is_resized(astronaut, coffee):
    labels = np.zeros((256, 256), np.int32)
    labels[64:192, 64:128] = 1
    labels[:, 128:] = 2
    small = labels[::4, ::4]
    np.testing.assert_array_equal(regions.regional(astronaut, coffee, small, feather=0),
                                  regions.regional(astronaut, coffee, labels, feather=0))
    with pytest.raises(InputError, match="aspect ratio"):
        regions.regional(astronaut, coffee, labels[:, :200])


def test_alpha_is_carried_and_hidden_pixels_give_no_colors(astronaut, coffee):
    rgba = np.concatenate([astronaut, np.full((256, 256, 1), 255, np.uint8)], axis=2)
    rgba[:, :64, 3] = 0
    out = regions.regional(rgba, coffee, np.ones((256, 256), bool), feather=0)
    np.testing.assert_array_equal(out[..., 3], rgba[..., 3])
    np.testing.assert_array_equal(out, transfer.mkl(rgba, coffee))


def test_idt_options_and_seed(astronaut, coffee):
    labels = np.zeros((256, 256), np.int32)
    labels[:128] = 1
    a = regions.regional(astronaut, coffee, labels, method="idt", seed=3, iterations=4)
    np.testing.assert_array_equal(a, regions.regional(astronaut, coffee, labels, method="idt",
                                                      seed=3, iterations=4))
    b = regions.regional(astronaut, coffee, labels, method="idt", seed=3, iterations=4, regrain=False)
    assert not np.array_equal(a, b)


def test_bad_arguments(astronaut, coffee):
    ones = np.ones((256, 256), np.int32)
    with pytest.raises(InputError, match="unknown method"):
        regions.regional(astronaut, coffee, ones, method="nope")
    with pytest.raises(InputError, match="unmatched"):
        regions.regional(astronaut, coffee, ones, unmatched="drop")
    for feather in (-1, 2.5, "wide", float("nan")):
        with pytest.raises(InputError, match="feather"):
            regions.regional(astronaut, coffee, ones, feather=feather)
    with pytest.raises(InputError, match="negative labels"):
        regions.regional(astronaut, coffee, -ones)
    with pytest.raises(InputError, match=r"\[0, 1\]"):
        regions.regional(astronaut, coffee, ones * 1.5)
    with pytest.raises(InputError, match="expected \\(H, W\\)"):
        regions.regional(astronaut, coffee, np.ones((256, 256, 3)))
    with pytest.raises(TypeError, match="dtype"):
        regions.regional(astronaut, coffee, ones.astype(np.complex64))
    with pytest.raises(TypeError, match="NumPy array"):
        regions.regional(astronaut, coffee, "mask.png")
    with pytest.raises(InputError, match="2 maps for 1 reference"):
        regions.regional(astronaut, coffee, ones, [None, None])
    with pytest.raises(TypeError, match="regrain that method 'mkl' does not take"):
        regions.regional(astronaut, coffee, ones, method="mkl", regrain=False)
    with pytest.raises(InputError, match="unknown space"):
        regions.regional(astronaut, coffee, ones, method="reinhard", space="hsv")
    with pytest.raises(TypeError, match="space that method 'mkl' does not take"):
        regions.regional(astronaut, coffee, ones, method="mkl", space="lab")
    with pytest.raises(TypeError, match="colour"):
        regions.regional(astronaut, coffee, ones, method="idt", colour=1)
    with pytest.raises(InputError, match="neural method finds"):
        regions.regional(astronaut, coffee, ones, [ones], method="neural")
    with pytest.raises(InputError, match="grayscale"):
        regions.regional(astronaut[..., 0], coffee, ones)


def test_neural_result_is_blended_in_by_the_mask(chelsea, coffee):
    src, ref = chelsea[::2, ::2].copy(), coffee[::2, ::2].copy()
    labels = np.zeros(src.shape[:2], np.int32)
    labels[:, : src.shape[1] // 2] = 1
    out = regions.regional(src, ref, labels, method="neural", feather=0, progress=False)
    full = transfer.neural_transfer(src, ref, progress=False)
    np.testing.assert_array_equal(out[labels == 1], full[labels == 1])
    np.testing.assert_array_equal(out[labels == 0], src[labels == 0])


# ---- mask files ---------------------------------------------------------------------------------


def test_gray_masks_are_soft_or_labels():
    binary = np.zeros((4, 6), np.uint8)
    binary[:, 3:] = 255
    soft, labels = regions.region_maps_from_images([binary, np.array([[0, 1], [2, 2]], np.uint8)],
                                                   ["a.png", "b.png"])
    assert soft.dtype == np.float32 and soft.max() == 1 and soft.min() == 0
    assert labels.dtype == np.int32 and labels.tolist() == [[0, 1], [2, 2]]
    sixteen = (binary.astype(np.uint16) * 257)[..., None]
    np.testing.assert_array_equal(regions.region_maps_from_images([sixteen], ["c.png"])[0], soft)
    gray_alpha = np.stack([binary, np.full_like(binary, 255)], axis=2)
    gray_alpha[0, :, 1] = 0  # transparent: keep
    m = regions.region_maps_from_images([gray_alpha], ["d.png"])[0]
    assert (m[0] == 0).all() and (m[1:, 3:] == 1).all()


def test_colored_masks_name_the_same_region_by_color():
    red, blue, green = (255, 0, 0), (0, 0, 255), (0, 255, 0)
    a = np.zeros((20, 50, 3), np.uint8)
    a[:, :20], a[:, 20:40] = red, blue  # the rest black: keep
    b = np.zeros((30, 30, 3), np.uint8)
    b[:10], b[10:20], b[20:] = blue, green, red
    b[0, 0] = (200, 10, 10)  # a blended edge pixel (no inside of its own: joins red)
    colors = {}
    la, lb = regions.region_maps_from_images([a, b], ["a.png", "b.png"], colors)
    assert colors[la[0, 0]] == red and colors[la[0, 25]] == blue and colors[lb[15, 0]] == green
    assert la[0, 0] == lb[25, 0] and la[0, 25] == lb[5, 5] and la[0, 45] == 0
    assert la[0, 0] != la[0, 25] and lb[15, 0] not in (0, la[0, 0], la[0, 25])
    big = np.zeros((100, 100, 3), np.uint8)
    big[:, 50:] = blue
    big[0, 0] = (10, 10, 240)  # a lone pixel of another color: joins the nearest, blue
    (lbig,) = regions.region_maps_from_images([big], ["c.png"])
    assert lbig[0, 0] == lbig[0, 99] != 0
    # a gray mask beside colored ones: its white is the color white
    white = np.zeros((20, 50), np.uint8)
    white[:, :10] = 255
    c = np.full((10, 10, 3), 255, np.uint8)
    lw, lc = regions.region_maps_from_images([white, c], ["w.png", "c.png"])
    assert lw[0, 0] == lc[0, 0] != 0 and lw[0, 20] == 0


def test_colored_masks_saved_as_jpeg_keep_their_regions():
    import io

    from PIL import Image

    mask = np.zeros((96, 128, 3), np.uint8)
    mask[:48], mask[48:, :64] = (0, 0, 255), (255, 0, 0)  # and black: keep
    expected = np.zeros((96, 128), np.int32)
    expected[:48], expected[48:, :64] = 1, 2
    for quality in (30, 75, 95):
        buffer = io.BytesIO()
        Image.fromarray(mask).save(buffer, format="JPEG", quality=quality)
        ringing = np.asarray(Image.open(buffer))
        assert len(np.unique(ringing.reshape(-1, 3), axis=0)) > 3  # the JPEG made new colors
        colors = {}
        (labels,) = regions.region_maps_from_images([ringing], ["m.jpg"], colors)
        np.testing.assert_array_equal(labels, expected)
    # a segmentation palette with colors 37 apart keeps them all
    palette = [(128, 64, 128), (244, 35, 232), (70, 70, 70), (102, 102, 156), (190, 153, 153), (153, 153, 153)]
    stripes = np.repeat(np.array(palette, np.uint8)[None, :, None], 20, axis=2).reshape(1, -1, 3)
    (labels,) = regions.region_maps_from_images([np.repeat(stripes, 30, axis=0)], ["s.png"])
    assert len(np.unique(labels)) == 6



@pytest.mark.parametrize("method", ["reinhard", "idt"])
def test_a_flat_masked_region_takes_the_references_color(method):
    """A clear sky under a mask, without feathering: one color in, one sensible color out."""
    src = np.zeros((64, 64, 3), np.uint8)
    src[:32] = (135, 206, 235)  # sky
    src[32:] = np.random.default_rng(1).integers(0, 255, (32, 64, 3))
    ref = np.zeros((64, 64, 3), np.uint8)
    ref[..., 0], ref[..., 1], ref[..., 2] = 150, 100, 60  # brown, a little noisy
    ref = (ref + np.random.default_rng(2).integers(0, 10, ref.shape)).astype(np.uint8)
    mask = np.zeros((64, 64), np.uint8)
    mask[:32] = 255
    out = regions.regional(src, ref, mask, method=method, feather=0)
    sky = out[:24].reshape(-1, 3).astype(float)  # idt's grain reduction blends across the border
    assert np.ptp(sky, axis=0).max() <= 2
    assert np.abs(sky[0] - ref.reshape(-1, 3).mean(0)).max() < 8, sky[0]
