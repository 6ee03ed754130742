"""Spreading the color models of what the references show to what they do not
(transfer.neural.spread)."""

import sys
from pathlib import Path

import numpy as np
from skimage.color import deltaE_ciede2000, rgb2lab

from transfer.neural.pipeline import neural_transfer
from transfer.neural.spread import color_average, shown, spread_models


def _two_colors():
    colors = np.zeros((8, 8, 3))
    colors[:, :4] = [0.6, 0.8, 0.3]  # one color left
    colors[:, 4:] = [0.3, 0.3, 0.7]  # another right
    return colors


def test_color_average_takes_the_weighted_values_of_the_same_color():
    colors = _two_colors()
    values = np.where(colors[..., :1] > 0.5, 1.0, 2.0) + np.zeros((8, 8, 2))
    weight = np.ones((8, 8))
    weight[4:] = 0  # the bottom half not shown: its values are wrong
    values[4:] = 9.0
    out = color_average(values, colors, weight)
    np.testing.assert_allclose(out[..., :4, :], 1.0, atol=5e-3)  # each color its own value,
    np.testing.assert_allclose(out[..., 4:, :], 2.0, atol=5e-3)  # the wrong ones unweighted


def test_a_color_no_shown_pixel_has_takes_the_mean():
    colors = _two_colors()
    colors[:, 6:] = [0.9, 0.1, 0.1]  # a third color, only where nothing is shown
    values = np.where(colors[..., :1] > 0.5, 1.0, 2.0)
    weight = np.ones((8, 8))
    weight[:, 6:] = 0
    out = color_average(values, colors, weight)
    mean = values[weight > 0].mean()
    np.testing.assert_allclose(out[:, 6:], mean, atol=0.05)


def test_shown_pixels_keep_their_models():
    rng = np.random.default_rng(0)
    a, b = rng.random((8, 8, 3)), rng.random((8, 8, 3))
    sure = np.zeros((8, 8))
    sure[:, :4] = 1
    a2, b2 = spread_models((a, b), _two_colors(), np.ones((8, 8)), sure)
    np.testing.assert_allclose(a2[:, :4], a[:, :4], atol=1e-6)
    np.testing.assert_allclose(b2[:, :4], b[:, :4], atol=1e-6)
    assert not np.allclose(a2[:, 4:], a[:, 4:])
    np.testing.assert_allclose(shown(np.array([0.1, 0.375, 0.9])), [0.0, 0.5, 1.0], atol=1e-6)


def test_spread_colors_what_the_reference_does_not_show(astronaut):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks" / "quality"))
    from run_partial import partial_views, region_change

    view, ref, matched = partial_views(astronaut, 0.5, right=False)
    src = region_change(view)
    errors = {}
    for spread in (False, True):
        out = neural_transfer(src, [ref], progress=False, spread=spread, warm_start=True, max_size=128)
        de = deltaE_ciede2000(rgb2lab(out), rgb2lab(view))
        errors[spread] = (de[matched].mean(), de[~matched].mean())
    assert errors[True][1] < 0.8 * errors[False][1], errors  # unmatched: better
    assert errors[True][0] < 1.1 * errors[False][0], errors  # matched: not worse


def test_nothing_shown_leaves_the_models():
    rng = np.random.default_rng(1)
    a, b = rng.random((8, 8, 3)), rng.random((8, 8, 3))
    a2, b2 = spread_models((a, b), _two_colors(), np.ones((8, 8)), np.zeros((8, 8)))
    assert a2 is a and b2 is b
