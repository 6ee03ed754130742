"""Neural color transfer, end to end on small real photos."""

import numpy as np
import pytest
from skimage import data
from skimage.color import deltaE_ciede2000, hsv2rgb, rgb2hsv, rgb2lab
from skimage.metrics import structural_similarity

import transfer
from transfer.errors import InputError
from transfer.neural.pipeline import neural_transfer


def recolor(img, hue, saturation):
    hsv = rgb2hsv(img)
    hsv[..., 0] = (hsv[..., 0] + hue) % 1.0
    hsv[..., 1] *= saturation
    return (hsv2rgb(hsv) * 255).round().astype(np.uint8)


def ciede(a, b):
    return float(deltaE_ciede2000(rgb2lab(a), rgb2lab(b)).mean())


@pytest.fixture(scope="module")
def scene():
    """Ground truth: a view of a photo, recolored differently in its two halves (no global
    map undoes that), and an overlapping view in true colors as the reference."""
    photo = data.astronaut()[::2, ::2]  # 256 x 256
    truth = photo[:224, :224].copy()
    src = truth.copy()
    src[:, :112] = recolor(truth[:, :112], 0.3, 0.7)
    src[:, 112:] = recolor(truth[:, 112:], -0.2, 1.0)
    ref = photo[24:, 16:].copy()
    return src, ref, truth


def test_recovers_local_color_changes_better_than_global_methods(scene):
    src, ref, truth = scene
    err = ciede(neural_transfer(src, ref, progress=False), truth)
    best_global = min(ciede(f(src, ref), truth) for f in (transfer.reinhard, transfer.mkl, transfer.idt))
    assert err < 0.5 * best_global, (err, best_global)


def test_same_seed_same_output(scene):
    src, ref, _ = scene
    np.testing.assert_array_equal(neural_transfer(src, ref, seed=3, progress=False),
                                  neural_transfer(src, ref, seed=3, progress=False))


def test_reference_equal_to_source_returns_the_source(scene):
    src, _, _ = scene
    assert ciede(neural_transfer(src, src, progress=False), src) < 1.0


def test_distractor_reference_does_not_color_the_match(scene):
    src, ref, truth = scene
    distractor = data.coffee()[::2, ::2]
    err_one = ciede(neural_transfer(src, ref, progress=False), truth)
    err_two = ciede(neural_transfer(src, [ref, distractor], progress=False), truth)
    assert err_two < 1.25 * err_one, (err_one, err_two)


@pytest.mark.parametrize("shape", [(16, 16), (1, 1), (40, 7), (64, 100)])
def test_small_and_odd_sizes(shape):
    src = data.chelsea()[: shape[0] * 4 : 4, : shape[1] * 4 : 4].copy()
    out = neural_transfer(src, data.coffee()[::4, ::4], progress=False)
    assert out.shape == src.shape and out.dtype == np.uint8


def test_large_source_with_a_small_reference():
    """A 4000 x 3000 photo: matched at the working resolution, applied at full resolution.
    The reference shows the same scene (an overlapping view): an unrelated one has no right
    match, and the resampling differences between the two runs move its arbitrary matches
    (4.2 here with coffee as the reference)."""
    from skimage.transform import resize

    big = (resize(data.astronaut(), (3000, 4000), order=1) * 255).astype(np.uint8)
    ref = data.astronaut()[40:, 30:][::2, ::2]
    small = (resize(big, (375, 500), anti_aliasing=True) * 255).round().astype(np.uint8)
    small_out = neural_transfer(small, ref, max_size=500, progress=False)
    out = neural_transfer(big, ref, max_size=500, progress=False)
    assert out.shape == big.shape and out.dtype == np.uint8
    # the same colors as transferring the downscaled photo, with the full-resolution detail
    out_small = (resize(out, (375, 500), anti_aliasing=True) * 255).round().astype(np.uint8)
    assert ciede(out_small, small_out) < 2.0  # 0.79 when written
    assert np.abs(np.diff(out[..., 0].astype(int), axis=1)).mean() > 0.5 * np.abs(
        np.diff(big[..., 0].astype(int), axis=1)).mean()


def test_constant_images_and_dtypes():
    const = np.full((32, 32, 3), 120, np.uint8)
    ref = data.coffee()[::6, ::6]
    assert neural_transfer(const, ref, progress=False).shape == const.shape
    assert neural_transfer(ref, const, progress=False).std() < 3  # a constant reference: its color
    as_float = neural_transfer(ref.astype(np.float32) / 255, ref, progress=False)
    assert as_float.dtype == np.float32
    rgba = np.dstack([ref, np.full(ref.shape[:2], 200, np.uint8)])
    out = neural_transfer(rgba, ref, progress=False)
    assert out.shape == rgba.shape and (out[..., 3] == 200).all()


def test_bad_input():
    img = data.coffee()[::8, ::8]
    with pytest.raises(InputError, match="src is grayscale"):
        neural_transfer(img[..., 0], img)
    with pytest.raises(InputError, match="levels"):
        neural_transfer(img, img, levels=(2, 5))
    with pytest.raises(InputError, match="unknown backbone"):
        neural_transfer(img, img, backbone="alexnet")
    with pytest.raises(InputError, match="unknown device"):
        neural_transfer(img, img, device="tpu")
    with pytest.warns(DeprecationWarning, match="device="), pytest.raises(InputError, match="unknown device"):
        neural_transfer(img, img, backend="tpu")  # the old keyword, still taken
    with pytest.raises(InputError, match="max_size"):
        neural_transfer(img, img, max_size=4)


def test_reference_at_twice_the_resolution_is_matched_at_the_source_scale(scene):
    """The reference's view taken from the full-resolution photo (content twice as large
    as in the source): 'auto' shrinks it by half before matching, and the result is better
    than matching it as given."""
    src, _, truth = scene
    fine_ref = data.astronaut()[48:, 32:]
    report = {}
    auto = ciede(neural_transfer(src, fine_ref, progress=False, report=report), truth)
    assert report["ref_scales"] == [0.5], report["ref_scale_scores"]
    as_given = ciede(neural_transfer(src, fine_ref, ref_scale=1, progress=False), truth)
    assert auto < 0.9 * as_given, (auto, as_given)
    with pytest.raises(InputError, match="ref_scale must be 'auto', a number > 0"):
        neural_transfer(src, fine_ref, ref_scale="double")


def test_context_lowers_the_error_where_the_reference_shows_the_scene(scene):
    """context appends level 3's features to level 2's before matching: with the cold
    300-step solve, on the overlapping view (6.41 -> 5.72) and with two partial views of it
    (6.58 -> 5.70). (With the warm start the gain is small, 4.01 -> 3.98 and 3.86 -> 3.85; so
    it is with the default converged solve, 4.02 -> 3.98 and 3.87 -> 3.87.)"""
    src, ref, truth = scene
    photo = data.astronaut()[::2, ::2]
    parts = [photo[24:, 16:150].copy(), photo[24:, 100:].copy()]
    for refs in (ref, parts):  # with the cold solve, where context matters
        plain = ciede(neural_transfer(src, refs, progress=False, warm_start=False, solver="cg"), truth)
        context = ciede(neural_transfer(src, refs, progress=False, context=0.5, warm_start=False, solver="cg"),
                        truth)
        assert context < 0.95 * plain, (plain, context)


def test_centred_features_lower_the_error(scene, monkeypatch):
    """Matching on features centred on the images' joint mean (the default) against the plain
    unit-length features of the paper: on the overlapping view 6.96 -> 6.37 when written,
    with two partial views 7.02 -> 6.36. Compared in float32: with the CPU's bfloat16
    comparisons (nnf precision 'auto' on AVX512-BF16) a few matches change and this one
    224-pixel scene moves by up to 0.5 (plain 6.50, centred 6.53 with one reference), while
    the quality benchmark's means stay within 0.03 (docs/quality.md)."""
    from transfer import nnf

    monkeypatch.setattr(nnf, "default_precision", "float32")
    src, ref, truth = scene
    photo = data.astronaut()[::2, ::2]
    parts = [photo[24:, 16:150].copy(), photo[24:, 100:].copy()]
    # the matches' own effect: the cold solve, as when written, and no spread (which gives
    # the poorly matched parts the models of the well matched ones, whatever the features)
    for refs in (ref, parts):
        plain = ciede(neural_transfer(src, refs, progress=False, center=False, warm_start=False,
                                      spread=False), truth)
        centred = ciede(neural_transfer(src, refs, progress=False, warm_start=False, spread=False), truth)
        assert centred < 0.95 * plain, (plain, centred)


def test_warm_start_follows_the_references_closer(scene, monkeypatch):
    """warm_start: each level's affine solve starts from the coarser level's models (off:
    from box statistics, as the paper). With the 300-step solve (solver='cg') its solves end
    nearer convergence: with a view of the same scene the error to the truth falls (6.41 ->
    4.01); with a reference of other content the source's structure fades (SSIM of the
    lightness to the source's 0.45 -> 0.34 when written), which is why 'auto' leaves it off
    there. (The converged default ends at the same models from either start: 4.02 either way.)"""
    from transfer.neural import affine as la, pipeline as neural

    src, ref, truth = scene
    starts = []

    def recording(*args, **kwargs):
        starts.append(kwargs.get("x0"))
        return la.local_affine(*args, **kwargs)

    monkeypatch.setattr(neural, "local_affine", recording)
    cold = neural_transfer(src, ref, progress=False, warm_start=False, solver="cg")
    assert len(starts) == 4 and all(x is None for x in starts)
    warm = neural_transfer(src, ref, progress=False, warm_start=True, solver="cg")
    assert starts[4] is None and all(x is not None for x in starts[5:]) and len(starts) == 8
    assert ciede(warm, truth) < 0.9 * ciede(cold, truth), (ciede(warm, truth), ciede(cold, truth))
    other = data.coffee()[::2, ::2]
    lightness = [rgb2lab(neural_transfer(src, other, progress=False, warm_start=w, solver="cg"))[..., 0]
                 for w in (False, True)]
    structure = [structural_similarity(rgb2lab(src)[..., 0], x, data_range=100) for x in lightness]
    assert structure[0] > structure[1] + 0.05, structure


def test_warm_start_auto_decides_by_the_matches(scene):
    """warm_start='auto': on with a view of the same scene (level-4 match similarity about
    0.6 here), off with a photo of other content (about 0.3): then the same images as the
    explicit choices, with either solver."""
    src, ref, _ = scene
    for refs, expected in ((ref, True), (data.coffee()[::2, ::2], False)):
        report = {}
        auto = neural_transfer(src, refs, progress=False, warm_start="auto", report=report)
        assert report["warm_start"] is expected, [lv["similarity"] for lv in report["levels"]]
        np.testing.assert_array_equal(auto, neural_transfer(src, refs, progress=False, warm_start=expected))
        np.testing.assert_array_equal(neural_transfer(src, refs, progress=False, solver="cg"),
                                      neural_transfer(src, refs, progress=False, warm_start=expected, solver="cg"))
    for bad in ("yes", 2, None):
        with pytest.raises(InputError, match="warm_start must be True, False or 'auto'"):
            neural_transfer(src, ref, warm_start=bad)


def test_multigrid_solver_keeps_the_accuracy_and_more_structure_with_other_content(scene):
    """solver='multigrid' (the default): the error of solver='cg' within 5% where the
    reference shows the scene (cg's warm start ends near the converged models), and, with a
    photo of other content, at least its structure (SSIM of the lightness to the source's).
    Reproducible."""
    src, ref, truth = scene
    err = {s: ciede(neural_transfer(src, ref, progress=False, solver=s), truth) for s in ("cg", "multigrid")}
    assert err["multigrid"] < 1.05 * err["cg"], err
    other = data.coffee()[::2, ::2]
    light = rgb2lab(src)[..., 0]
    ssim = {s: structural_similarity(light, rgb2lab(neural_transfer(src, other, progress=False, solver=s))[..., 0],
                                     data_range=100) for s in ("cg", "multigrid")}
    assert ssim["multigrid"] >= ssim["cg"], ssim
    np.testing.assert_array_equal(neural_transfer(src, other, progress=False, solver="multigrid"),
                                  neural_transfer(src, other, progress=False, solver="multigrid"))


def test_the_prior_weighs_how_much_the_references_show_other_content():
    """All of COLD_PRIOR where they show a few percent of the source, none where they show
    part of its scene, in proportion between; all of it without a shown map."""
    from transfer.neural.pipeline import OTHER_CONTENT_SHOWN, Level, other_content

    other, scene = OTHER_CONTENT_SHOWN
    for share, expected in ((0.03, 1.0), (other, 1.0), ((other + scene) / 2, 0.5), (scene, 0.0), (0.6, 0.0)):
        state = Level(fields=[], warm=False)
        state.shown = np.full((8, 8), share)
        assert other_content(state) == pytest.approx(expected)
    assert other_content(Level(fields=[], warm=False)) == 1.0


def test_report_overview_says_when_the_solves_were_warm_started(tmp_path):
    from transfer.io import read_image
    from transfer.report import overview, write_report

    src, ref = data.astronaut()[::8, ::8], data.coffee()[::8, ::8]
    for warm, caption in ((True, "result, warm start"), (False, "result")):
        write_report(tmp_path / str(warm), src, [ref], src, {"warm_start": warm})
        np.testing.assert_array_equal(read_image(tmp_path / str(warm) / "overview.png"),
                                      overview(src, [ref], src, result_caption=caption))
    assert not np.array_equal(read_image(tmp_path / "True" / "overview.png"),
                              read_image(tmp_path / "False" / "overview.png"))


def test_context_bad_values(scene):
    src, ref, _ = scene
    for bad in (-0.5, float("nan"), "wide"):
        with pytest.raises(InputError, match="context must be a finite number >= 0"):
            neural_transfer(src, ref, context=bad)
    with pytest.raises(InputError, match="the levels end at 5, the coarsest"):
        neural_transfer(src, ref, levels=(5,), context=0.5)


# ---- frames of a shot ---------------------------------------------------------------------------


def _pan(step=3, count=4, size=96):
    """Frames of a camera pan over a photo: frame t is shifted ``step`` pixels right of t-1."""
    photo = data.astronaut()[::4, ::4]  # 128 x 128
    return [photo[:size, step * t: step * t + size].copy() for t in range(count)]


def flicker(outs, step=3):
    """Mean CIEDE2000 between the same content in consecutive results."""
    return float(np.mean([ciede(a[:, step:], b[:, :-step]) for a, b in zip(outs, outs[1:])]))


def test_frames_of_a_shot_are_recolored_consistently():
    frames, ref = _pan(), data.coffee()[::4, ::4]
    alone = [neural_transfer(f, ref, progress=False) for f in frames]
    chained = list(transfer.neural.neural_frames(frames, ref, progress=False))
    np.testing.assert_array_equal(chained[0], alone[0])  # the first frame is matched as alone
    assert flicker(chained) < 0.3 * flicker(alone), (flicker(chained), flicker(alone))
    # and each frame still takes the references' colors: not farther from the independent
    # results than they are from one another
    assert np.mean([ciede(c, a) for c, a in zip(chained, alone)]) < flicker(alone)


def test_carried_values_follow_the_motion_and_stop_at_new_content():
    from transfer.neural.frames import Frame, carry

    photo = data.astronaut()[::2, ::2].astype(np.float32) / 255  # 256 x 256
    prev, now = photo[:, :224].copy(), photo[:, 4:228].copy()  # the camera moved 4 px right
    y, x = np.mgrid[0:256, 0:224] / 224
    models = np.stack([np.sin(3 * x + y), np.cos(2 * y), x * y, x, y, x - y], axis=-1).astype(np.float32)
    carried, sure = carry(now, Frame(prev, models))
    inner = (slice(8, -8), slice(8, -12))
    off = np.abs(carried[:, :220][inner] - models[:, 4:][inner])
    # (where the photo is flat the flow may be a few pixels off, and so the models; the colors
    # they give there are the same)
    assert np.median(off) < 0.005 and np.percentile(off, 99) < 0.02, (np.median(off), off.max())
    assert sure[inner].mean() > 0.9 and sure[:, -2:].mean() < 0.5  # the right edge is new
    other = data.coffee()[:256, :224].astype(np.float32) / 255  # a cut: another picture
    _, sure_cut = carry(other, Frame(prev, models))
    assert sure_cut.mean() < 0.2


def test_previous_and_temporal_are_checked():
    frames, ref = _pan(count=2), data.coffee()[::4, ::4]
    report = {}
    neural_transfer(frames[0], ref, progress=False, report=report)
    with pytest.raises(TypeError, match="previous must be the Frame"):
        neural_transfer(frames[1], ref, progress=False, previous=frames[0])
    with pytest.raises(InputError, match="same shot"):
        neural_transfer(frames[1][:64], ref, progress=False, previous=report["frame"])
    for bad in (1.5, -0.1, "high"):
        with pytest.raises(InputError, match="temporal"):
            neural_transfer(frames[1], ref, progress=False, previous=report["frame"], temporal=bad)
    with pytest.raises(InputError, match="report and previous"):
        list(transfer.neural.neural_frames(frames, ref, report={}))
    with pytest.raises(InputError, match="2 factors for 1 reference"):
        neural_transfer(frames[1], ref, progress=False, ref_scale=[1.0, 0.5])
    neural_transfer(frames[1], ref, progress=False, ref_scale=[0.71], report=report)
    assert report["ref_scales"] == [0.71]


@pytest.mark.parametrize("shape", [(1, 1), (1, 5), (40, 7)])
def test_frames_of_odd_sizes(shape):
    from transfer.neural.frames import Frame, carry

    img = np.random.default_rng(0).random(shape + (3,)).astype(np.float32)
    values, sure = carry(img, Frame(img, np.ones(shape + (2,), np.float32)))
    assert values.shape == shape + (2,) and np.all(values == 1) and sure.shape == shape
    frames = [data.chelsea()[: shape[0] * 4: 4, t: t + shape[1] * 4: 4].copy() for t in range(2)]
    outs = list(transfer.neural.neural_frames(frames, data.coffee()[::4, ::4], progress=False))
    assert all(o.shape == frames[0].shape for o in outs)


@pytest.mark.parametrize("option, value, message", [
    ("lambda_l", -1, "lambda_l must be a finite number >= 0"),
    ("beta", float("nan"), "beta must be a finite number >= 0"),
    ("cg_iterations", -1, "cg_iterations must be an integer >= 1"),
    ("seed", -1, "seed must be a whole number from 0 to 2\\*\\*32 - 1"),
    ("seed", 2**32, "seed must be a whole number from 0 to 2\\*\\*32 - 1"),
    ("levels", (3, 3), "levels must be distinct"),
    ("solver", "amg", "unknown solver 'amg'"),
])
def test_bad_options_are_named(astronaut, coffee, option, value, message):
    with pytest.raises(InputError, match=message):
        neural_transfer(astronaut, coffee, **{option: value})


def test_neural_frame_passes_its_models_and_scales_on(astronaut, coffee):
    from transfer.neural import Frame, neural_frame

    options = dict(max_size=64, progress=False)
    first, frame = neural_frame(astronaut, coffee, **options)
    assert isinstance(frame, Frame) and frame.ref_scales is not None
    np.testing.assert_array_equal(first, neural_transfer(astronaut, coffee, **options))
    second, _ = neural_frame(astronaut, coffee, previous=frame, **options)
    report = {}
    expected = neural_transfer(astronaut, coffee, previous=frame, ref_scale=frame.ref_scales, report=report,
                               **options)
    np.testing.assert_array_equal(second, expected)
