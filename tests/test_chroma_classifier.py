"""The color classifier trained on the references (transfer.colorization.classifier)."""

import numpy as np
import pytest
from skimage import data
from skimage.color import deltaE_ciede2000, rgb2lab

from transfer.colorization import classifier as cc
from transfer.cli import main
from transfer.colorization.methods import colorize
from transfer.errors import InputError

from test_colorize import gray_of as _gray


def _clusters(n, seed):
    """Features of three overlapping clusters; each cluster's cells are one of three colors."""
    centres = np.random.default_rng(99).normal(size=(3, 12))  # the same clusters every call
    rng = np.random.default_rng(seed)
    colors = np.array([[40.0, 30.0], [-30.0, 25.0], [5.0, -45.0]])
    y = rng.integers(0, 3, n)
    x = centres[y] + 0.6 * rng.normal(size=(n, 12))
    ab = colors[y] + rng.normal(scale=1.5, size=(n, 2))
    return x.astype(np.float32), ab.astype(np.float32), y, colors


def test_learns_colors_from_features():
    x, ab, _, _ = _clusters(3000, 0)
    model = cc.fit(x, ab)
    x2, ab2, y2, colors = _clusters(1000, 1)  # unseen cells of the same clusters
    pred, certainty = model.predict(x2)
    assert pred.shape == (1000, 2) and certainty.shape == (1000,)
    err = np.hypot(*(pred - colors[y2]).T)
    assert np.median(err) < 3.0, np.median(err)
    assert ((0 < certainty) & (certainty <= 1)).all()
    # its mistakes are where it is unsure (and so count little in the colorization)
    sure = certainty > 0.5
    assert sure.mean() > 0.3 and (err[sure] < 10).mean() > 0.99
    assert err[~sure].mean() > 2 * err[sure].mean()
    # far from every training cell (an ambiguous mix of two clusters), it is less sure
    mix = 0.5 * (x2[y2 == 0][:50].mean(0) + x2[y2 == 1][:50].mean(0))
    assert model.predict(mix[None])[1][0] < np.median(certainty[y2 == 0])


def test_fit_is_deterministic_and_bounded():
    x, ab, _, _ = _clusters(6000, 2)
    a, b = cc.fit(x, ab, seed=3), cc.fit(x, ab, seed=3)
    np.testing.assert_array_equal(a.weights, b.weights)
    # more cells than the budget: a sample of them, another one for another seed
    assert not np.array_equal(a.weights, cc.fit(x, ab, seed=4).weights)
    whole, blocks = a.predict(x), a.predict(x, rows=1000)  # in blocks: the same up to rounding
    np.testing.assert_allclose(blocks[0], whole[0], atol=1e-3)
    np.testing.assert_allclose(blocks[1], whole[1], atol=1e-5)
    one_class = cc.fit(x[:10], np.tile([[12.0, -7.0]], (10, 1)))
    np.testing.assert_allclose(one_class.predict(x[:5])[0], [[12.0, -7.0]] * 5, atol=1e-4)


def test_hypercolumns_and_lightness_code():
    feats = {5: np.ones((3, 2, 2), np.float32), 4: np.arange(2 * 4 * 4, dtype=np.float32).reshape(2, 4, 4) + 1}
    h = cc.hypercolumns(feats, (5, 4), (4, 4))
    assert h.shape == (16, 5)
    np.testing.assert_allclose(h[:, :3], 1 / np.sqrt(3), rtol=1e-5)  # unit length, resized
    np.testing.assert_allclose(np.linalg.norm(h[:, 3:], axis=1), 1, rtol=1e-5)
    code = cc.lightness_code(np.array([0.0, 50.0, 100.0]))
    assert code.shape == (3, cc.LIGHTNESS_CODES)
    assert code[0].argmax() == 0 and code[2].argmax() == cc.LIGHTNESS_CODES - 1
    assert code.max() == pytest.approx(1.0)


def test_classifier_helps_from_similar_content():
    """The left half of a scene colored from its right half (similar content, none of its
    pixels): the classifier's colors lower the error (coffee: 4.29 -> 4.00 when written,
    benchmarks/quality's semantic-correspondence category 8.46 -> 8.13)."""
    truth = data.coffee()[::2, ::2]
    w = truth.shape[1]
    target, ref = truth[:, : w // 2], truth[:, w // 2:]
    report = {}
    err = {c: deltaE_ciede2000(rgb2lab(colorize(_gray(target), ref, classifier=c,
                                                 report=report if c else None)),
                               rgb2lab(target)).mean() for c in (0.0, 0.3)}
    assert err[0.3] < 0.95 * err[0.0], err
    assert report["classified"].shape == target.shape
    for bad in (-1, float("inf"), "yes"):
        with pytest.raises(InputError, match="classifier must be a finite number >= 0"):
            colorize(_gray(target), ref, classifier=bad)


def test_cli_classifier_option(tmp_path, capsys):
    from transfer.io import write_image

    src, ref = tmp_path / "g.png", tmp_path / "r.png"
    write_image(src, _gray(data.astronaut()[::4, ::4]))
    write_image(ref, data.astronaut()[::4, ::4])
    rep = tmp_path / "rep"
    assert main(["--src", str(src), "--refs", str(ref), "--classifier", "0.5", "-q",
                 "--report", str(rep), "--out", str(tmp_path / "o.png")]) == 0
    assert (rep / "classified.png").exists()
    assert main(["--src", str(src), "--refs", str(ref), "--classifier", "0", "-q",
                 "--report", str(tmp_path / "rep0"), "--out", str(tmp_path / "o0.png")]) == 0
    assert not (tmp_path / "rep0" / "classified.png").exists()
    capsys.readouterr()
    assert main(["--src", str(src), "--refs", str(ref), "--method", "welsh", "--classifier", "0.5",
                 "--out", str(tmp_path / "w.png")]) == 2
    assert "--classifier does not apply to --method welsh" in capsys.readouterr().err
