"""3-D LUTs: a classical transfer as a LUT, its application, and the .cube format."""

import numpy as np
import pytest

import transfer
from transfer import InputError, _reference
from transfer.classical.lut import apply_lut, fit_lut, identity_lut
from transfer.classical.cube import read_cube, write_cube

from transfer.image import from_float

from conftest import requires_cuda, rng

# Mean |LUT result - direct result| in 8-bit levels at the default size 33 (astronaut with
# coffee and chelsea, measured: mkl 0.000, reinhard 0.021, histogram 1.04, idt 2.58): an
# affine map is exact on the grid; per-channel curves and IDT's bumpy maps are sampled.
MEAN_LEVELS_AT_33 = {"mkl": 0.05, "reinhard": 0.1, "histogram": 2.0, "idt": 4.0}


@pytest.mark.parametrize("method", sorted(MEAN_LEVELS_AT_33))
def test_lut_reproduces_the_method(astronaut, coffee, chelsea, method):
    refs = [coffee, chelsea]
    options = {"regrain": False} if method == "idt" else {}
    direct = getattr(transfer, method)(astronaut, refs, **options).astype(int)
    errors = []
    for size in (17, 33, 65):
        out = apply_lut(astronaut, fit_lut(astronaut, refs, method=method, size=size))
        assert out.shape == astronaut.shape and out.dtype == np.uint8
        errors.append(np.abs(out.astype(int) - direct).mean())
    assert errors[1] <= MEAN_LEVELS_AT_33[method]
    if method != "mkl":  # a finer grid samples the curves better (mkl: 0 at every size)
        assert errors[0] > errors[1] > errors[2]


def test_lut_of_reinhard_in_lalphabeta(astronaut, coffee, chelsea):
    # the logarithm bends the map near black, which a grid samples less well than Lab's
    # (measured 0.62, 0.33, 0.15 levels at 17, 33, 65)
    refs = [coffee, chelsea]
    direct = transfer.reinhard(astronaut, refs, space="lalphabeta").astype(int)
    errors = [np.abs(apply_lut(astronaut, fit_lut(astronaut, refs, method="reinhard", size=size,
                                                  space="lalphabeta")).astype(int) - direct).mean()
              for size in (17, 33, 65)]
    assert errors[1] < 0.5 and errors[0] > errors[1] > errors[2]


def test_apply_lut_against_the_reference():
    lut = rng(1).random((5, 5, 5, 3)).astype(np.float32)
    img = rng(2).random((7, 9, 3)).astype(np.float32)
    img[0, 0] = (0, 0, 0)
    img[0, 1] = (1, 1, 1)  # the grid's far corner
    img[0, 2] = (0.5, 0.25, 1.0)  # on grid points
    out = apply_lut(img, lut)
    expected = _reference.lut3d_trilinear(lut, img.reshape(-1, 3)).reshape(img.shape)
    np.testing.assert_allclose(out, np.clip(expected, 0, 1), atol=2e-6)


def test_8bit_path_matches_the_float_path(astronaut, coffee):
    """8-bit images skip the float image: the same values, rounded as from_float rounds."""
    lut = fit_lut(astronaut, coffee, method="reinhard", size=17)
    rgba = np.dstack([astronaut, rng().integers(0, 256, astronaut.shape[:2], dtype=np.uint8)])
    as_float = apply_lut(astronaut.astype(np.float32) / 255, lut)
    for img in (astronaut, rgba):
        out = apply_lut(img, lut)
        assert out.dtype == np.uint8 and out.shape == img.shape
        assert np.array_equal(out[..., :3], from_float(as_float, np.uint8))
    assert np.array_equal(out[..., 3], rgba[..., 3])


@requires_cuda
def test_cuda_matches_cpu(astronaut, coffee):
    lut = fit_lut(astronaut, coffee, method="idt", size=33)
    img = astronaut.astype(np.float32) / 255
    np.testing.assert_allclose(apply_lut(img, lut, device="cuda"), apply_lut(img, lut), atol=2e-6)
    assert np.abs(apply_lut(astronaut, lut, device="cuda").astype(int) - apply_lut(astronaut, lut)).max() <= 1


def test_identity_lut_and_strength(astronaut, coffee):
    rgba = np.dstack([astronaut, rng().integers(0, 256, astronaut.shape[:2], dtype=np.uint8)])
    assert np.array_equal(apply_lut(rgba, identity_lut(2)), rgba)  # alpha carried
    wide = astronaut.astype(np.uint16) * 257
    assert np.abs(apply_lut(wide, identity_lut()).astype(int) - wide).max() <= 1
    as_float = astronaut.astype(np.float32) / 255
    np.testing.assert_allclose(apply_lut(as_float, identity_lut(17)), as_float, atol=1e-6)
    # strength 0 gives the source back, as a LUT or when applied
    np.testing.assert_allclose(fit_lut(astronaut, coffee, strength=0.0), identity_lut(), atol=1e-7)
    graded = fit_lut(astronaut, coffee, method="reinhard")
    assert np.array_equal(apply_lut(astronaut, graded, strength=0.0), astronaut)
    half = apply_lut(astronaut, graded, strength=0.5).astype(int)
    full = apply_lut(astronaut, graded).astype(int)
    assert np.abs(2 * half - full - astronaut.astype(int)).max() <= 2


def test_cube_round_trip_and_layout(tmp_path, astronaut):
    lut = fit_lut(astronaut, astronaut[:, ::-1, [2, 1, 0]], method="mkl", size=9)
    path = write_cube(tmp_path / "look.cube", lut, title='a "quoted" title')
    back = read_cube(path)
    assert back.shape == (9, 9, 9, 3) and back.dtype == np.float32
    np.testing.assert_allclose(back, lut, atol=5e-7)
    rows = [line for line in path.read_text().splitlines() if line[:1].isdigit()]
    assert len(rows) == 9 ** 3
    # red varies fastest: the second row is lut[1, 0, 0], the tenth lut[0, 1, 0]
    np.testing.assert_allclose([float(v) for v in rows[1].split()], lut[1, 0, 0], atol=5e-7)
    np.testing.assert_allclose([float(v) for v in rows[9].split()], lut[0, 1, 0], atol=5e-7)
    # a LUT that swaps red and blue, through a file, swaps them in an image
    write_cube(tmp_path / "swap.cube", identity_lut(3)[..., ::-1])
    assert np.array_equal(apply_lut(astronaut, read_cube(tmp_path / "swap.cube")), astronaut[..., ::-1])
    with pytest.raises(InputError, match="already exists"):
        write_cube(path, lut)
    write_cube(path, identity_lut(2), overwrite=True)
    assert read_cube(path).shape == (2, 2, 2, 3)


def test_read_cube_accepts_comments_and_other_writers_layout(tmp_path):
    text = "# made elsewhere\nTITLE \"x\"\n\nLUT_3D_SIZE\t2\nLUT_3D_INPUT_RANGE 0.0 1.0\n" + "\n".join(
        f"{r} {g} {b}  # row" for b in (0, 1) for g in (0, 1) for r in (0, 1)) + "\n"
    (tmp_path / "id.cube").write_text(text)
    np.testing.assert_array_equal(read_cube(tmp_path / "id.cube"), identity_lut(2))


@pytest.mark.parametrize("text, needle", [
    ("0 0 0\n", "no LUT_3D_SIZE"),
    ("LUT_3D_SIZE 2\n0 0 0\n", "needs 8 rows of values, found 1"),
    ("LUT_3D_SIZE 2\n" + "0 0 0\n" * 7 + "0 0 x\n", "line 9: unexpected"),
    ("LUT_3D_SIZE 2\n" + "0 0\n" * 8, "line 2: expected three numbers"),
    ("LUT_3D_SIZE 1\n0 0 0\n", "line 1: LUT_3D_SIZE: a LUT has 2 to 256"),
    ("LUT_1D_SIZE 4\n", "1-D LUT"),
    ("LUT_3D_SIZE 2\nDOMAIN_MAX 255 255 255\n" + "0 0 0\n" * 8, "only the domain"),
    ("LUT_3D_SIZE 2\n" + "0 0 nan\n" * 8, "NaN or infinite"),
])
def test_read_cube_errors_name_the_problem(tmp_path, text, needle):
    path = tmp_path / "bad.cube"
    path.write_text(text)
    with pytest.raises(InputError, match=needle) as info:
        read_cube(path)
    assert "bad.cube" in str(info.value)


def test_read_cube_unreadable_files(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        read_cube(tmp_path / "missing.cube")
    with pytest.raises(InputError, match="is a directory"):
        read_cube(tmp_path)
    (tmp_path / "binary.cube").write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe")
    with pytest.raises(InputError, match="cannot be read"):
        read_cube(tmp_path / "binary.cube")


def test_bad_arguments(astronaut, coffee):
    with pytest.raises(InputError, match="unknown method 'neural'"):
        fit_lut(astronaut, coffee, method="neural")
    for size in (1, 257, 2.5, True):
        with pytest.raises(InputError, match="2 to 256"):
            fit_lut(astronaut, coffee, size=size)
    with pytest.raises(InputError, match=r"shape \(4, 4, 3, 3\)"):
        apply_lut(astronaut, np.zeros((4, 4, 3, 3), np.float32))
    with pytest.raises(TypeError, match="dtype uint8"):
        apply_lut(astronaut, np.zeros((2, 2, 2, 3), np.uint8))
    with pytest.raises(InputError, match="grayscale"):
        apply_lut(astronaut[..., 0], identity_lut(2))


# ---- the frames of a shot: the running look ------------------------------------------------------


def _object_enters(photo, count=4):
    """A still view of ``photo`` and a red-and-blue object coming in from the right, 24 px a
    frame: the frames, and the pixels the object covers in neither the first nor the last."""
    frames, covered = [], []
    for t in range(count):
        frame = photo[:128, :128].copy()
        mask = np.zeros((128, 128), bool)
        mask[32:96, max(0, 104 - 24 * t):] = True
        frame[mask] = [200, 40, 60]
        frame[mask & (np.arange(128) % 16 < 8)[:, None]] = [30, 60, 190]
        frames.append(frame)
        covered.append(mask)
    return frames, ~(covered[0] | covered[-1])


@pytest.mark.parametrize("method", ["reinhard", "mkl", "histogram", "idt"])
def test_first_frame_is_the_method_alone(astronaut, coffee, method):
    from transfer.classical.frames import classical_frame

    for src in (astronaut[::2, ::2], astronaut[::2, ::2].astype(np.float32) / 255):
        report = {}
        out = classical_frame(src, coffee, method=method, report=report)
        np.testing.assert_array_equal(out, getattr(transfer, method)(src, coffee))
        assert report["temporal"] == 0.0 and report["frame"].lut.shape == (65, 65, 65, 3)


@pytest.mark.parametrize("method", ["mkl", "histogram", "idt"])
def test_frames_keep_the_look_as_an_object_comes_in(astronaut, coffee, method):
    # each frame alone: the object moves the fit, and the background changes color (drift)
    from skimage.color import deltaE_ciede2000, rgb2lab

    from transfer.classical.frames import classical_frame, classical_frames

    frames, background = _object_enters(astronaut[::2, ::2])

    def drift(outs):
        return deltaE_ciede2000(rgb2lab(outs[0][background]), rgb2lab(outs[-1][background])).mean()

    alone = [getattr(transfer, method)(f, coffee) for f in frames]
    chained = {t: list(classical_frames(frames, coffee, method=method, temporal=t)) for t in (0.0, 0.9, 1.0)}
    # measured: alone 4.5 (mkl) to 8.0 (histogram); chained 0.9 about a fifth of it, 1.0 0-0.6
    assert drift(alone) > 3.0
    assert drift(chained[0.9]) < 0.35 * drift(alone)
    assert drift(chained[1.0]) < 0.15 * drift(alone)
    for a, b in zip(chained[0.0], alone):  # temporal 0: each frame alone
        np.testing.assert_array_equal(a, b)
    # the generator is the chain of classical_frame; the same inputs give the same frames
    previous, again = None, []
    for f in frames:
        report = {}
        again.append(classical_frame(f, coffee, method=method, previous=previous, report=report))
        previous = report["frame"]
        assert report["temporal"] == pytest.approx(0.9 if len(again) > 1 else 0.0)
    for a, b in zip(again, chained[0.9]):
        np.testing.assert_array_equal(a, b)


def test_a_cut_starts_afresh(astronaut, coffee, chelsea):
    from transfer.classical.frames import classical_frame

    report = {}
    classical_frame(astronaut, chelsea, method="mkl", report=report)
    look = report["frame"]
    out = classical_frame(coffee, chelsea, method="mkl", previous=look, report=report)
    assert report["temporal"] == 0.0  # astronaut and coffee share little color: a cut
    np.testing.assert_array_equal(out, transfer.mkl(coffee, chelsea))
    # the same frame again continues the shot; temporal 1 keeps the look (within the grid)
    out = classical_frame(astronaut, chelsea, method="mkl", previous=look, temporal=1.0, report=report)
    assert report["temporal"] == 1.0
    assert np.abs(out.astype(int) - transfer.mkl(astronaut, chelsea)).mean() < 0.05


def test_continuity_of_colors():
    from transfer.classical.frames import color_histogram, continuity

    a = rng(0).random((64, 64, 3), dtype=np.float32) * 0.5  # dark colors
    assert color_histogram(a).sum() == pytest.approx(1.0)
    assert continuity(color_histogram(a), color_histogram(a)) == 1.0
    assert continuity(color_histogram(a), color_histogram(a + 0.5)) == 0.0  # no color shared
    visible = np.zeros((64, 64), bool)
    visible[:, :32] = True  # only the visible pixels count
    b = a.copy()
    b[:, 32:] = 1.0
    assert continuity(color_histogram(a), color_histogram(b, visible)) == 1.0


def test_frames_bad_arguments(astronaut, coffee):
    from transfer.classical.frames import classical_frame, classical_frames

    report = {}
    classical_frame(astronaut, coffee, report=report)
    with pytest.raises(TypeError, match="previous must be the Look"):
        classical_frame(astronaut, coffee, previous=report["frame"].lut)
    with pytest.raises(InputError, match="temporal must be in"):
        classical_frame(astronaut, coffee, previous=report["frame"], temporal=1.5)
    with pytest.raises(InputError, match="unknown method 'neural'"):
        classical_frame(astronaut, coffee, method="neural")
    with pytest.raises(InputError, match="report and previous are not options"):
        list(classical_frames([astronaut], coffee, report={}))


def test_default_grid_follows_the_method(astronaut, coffee):
    # affine maps are exact on any grid; curves and IDT's maps get the finer default
    sizes = {m: fit_lut(astronaut, coffee, method=m).shape[0] for m in ("mkl", "reinhard", "histogram", "idt")}
    assert sizes == {"mkl": 33, "reinhard": 33, "histogram": 65, "idt": 65}
    assert fit_lut(astronaut, coffee, method="idt", size=17).shape == (17, 17, 17, 3)


def _cube_body(size=2):
    return "".join(f"{r} {g} {b}\n" for b in range(size) for g in range(size) for r in range(size))


def test_read_cube_text_problems(tmp_path):
    f = tmp_path / "l.cube"
    f.write_bytes("\ufeffTITLE \"café\"\nLUT_3D_SIZE 2\n".encode("utf-8") + _cube_body().encode())
    assert read_cube(f).shape == (2, 2, 2, 3)  # a byte-order mark and a UTF-8 title
    f.write_bytes(b'TITLE "caf\xe9"\nLUT_3D_SIZE 2\n' + _cube_body().encode())
    assert read_cube(f).shape == (2, 2, 2, 3)  # a Latin-1 title
    rows = _cube_body().splitlines()
    rows[3], rows[4] = rows[3] + " 1", rows[4].rsplit(" ", 1)[0]  # 4 numbers, then 2: 24 in all
    f.write_text("LUT_3D_SIZE 2\n" + "\n".join(rows) + "\n")
    with pytest.raises(InputError, match="line 5: expected three numbers, got 4"):
        read_cube(f)
    f.write_text("LUT_3D_SIZE 2\nLUT_3D_SIZE 3\n" + _cube_body())
    with pytest.raises(InputError, match="line 2: a second LUT_3D_SIZE"):
        read_cube(f)


def test_frame_functions_return_the_state_for_the_next_frame(astronaut, coffee):
    from transfer.classical import Look, classical_frame, classical_frame_look

    first, look = classical_frame_look(astronaut, coffee, method="mkl")
    report = {}
    np.testing.assert_array_equal(first, classical_frame(astronaut, coffee, method="mkl", report=report))
    assert isinstance(look, Look) and np.array_equal(look.lut, report["frame"].lut)
    second, _ = classical_frame_look(astronaut[:, ::-1], coffee, method="mkl", previous=look)
    np.testing.assert_array_equal(second, classical_frame(astronaut[:, ::-1], coffee, method="mkl",
                                                          previous=report["frame"]))
