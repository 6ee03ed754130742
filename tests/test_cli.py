"""The command line, end to end on temporary files, in a separate process."""

import hashlib
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

import transfer
from transfer.io import read_image
from transfer.classical.cube import read_cube

from conftest import ROOT
from test_io import _bad_files, huge_png


def _env():  # this checkout first, and whatever PYTHONPATH the run was given
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "transfer", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd, env=_env(), timeout=120)


@pytest.fixture
def files(tmp_path, astronaut, coffee, chelsea):
    for name, img in [("src.png", astronaut), ("ref1.jpg", coffee), ("ref2.png", chelsea)]:
        Image.fromarray(img).save(tmp_path / name)
    return tmp_path


def digest(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir() if p.is_file()}


def test_default_output_next_to_source(files):
    r = run("--src", files / "src.png", "--refs", files / "ref1.jpg", files / "ref2.png", "-q")
    assert r.returncode == 0, r.stderr
    out = read_image(files / "src.neural.png")
    assert out.shape == (256, 256, 3) and out.dtype == np.uint8


@pytest.mark.parametrize("method", ["reinhard", "histogram", "mkl", "idt", "neural"])
def test_methods_and_output_formats(files, method):
    out = files / f"o_{method}.tif"
    r = run("--src", files / "src.png", "--refs", files / "ref1.jpg", "--method", method,
            "--out", out, "--strength", "0.7", "--seed", "3")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == str(out)
    assert read_image(out).shape == (256, 256, 3)


def test_existing_output_needs_overwrite(files):
    out = files / "o.png"
    out.write_bytes(b"precious")
    r = run("--src", files / "src.png", "--refs", files / "ref1.jpg", "--out", out)
    assert r.returncode == 2 and "already exists" in r.stderr and "Traceback" not in r.stderr
    assert out.read_bytes() == b"precious"
    # a problem with the inputs is reported before the output's
    r = run("--src", files / "src.png", "--refs", files / "no_such.jpg", "--out", out)
    assert r.returncode == 2 and "no_such.jpg" in r.stderr and "already exists" not in r.stderr
    r = run("--src", files / "src.png", "--refs", files / "ref1.jpg", "--out", out, "--overwrite")
    assert r.returncode == 0 and read_image(out).shape == (256, 256, 3)


def test_refuses_to_overwrite_an_input(files):
    before = digest(files)
    r = run("--src", files / "src.png", "--refs", files / "ref2.png", "--out", files / "ref2.png",
            "--overwrite")
    assert r.returncode == 2 and "is one of the input images" in r.stderr
    assert digest(files) == before


def test_save_a_look_as_lut_and_apply_it(files):
    src, look = files / "src.png", files / "look.cube"
    r = run("--src", src, "--refs", files / "ref1.jpg", "--method", "mkl", "--out", files / "direct.png",
            "--save-lut", look, "--lut-size", "17")
    assert r.returncode == 0, r.stderr
    assert "LUT_3D_SIZE 17" in look.read_text()
    r = run("--src", src, "--lut", look, "-q")  # default output: <stem>.lut.png
    assert r.returncode == 0 and r.stdout == "", r.stderr
    direct, via_lut = (read_image(files / n).astype(int) for n in ("direct.png", "src.lut.png"))
    assert np.abs(direct - via_lut).mean() < 0.05  # an affine map survives the grid exactly
    r = run("--src", src, "--lut", look, "--strength", "0", "--out", files / "none.png")
    assert r.returncode == 0 and np.array_equal(read_image(files / "none.png"), read_image(src))
    # idt's LUT leaves out the grain reduction, which looks at the image
    r = run("--src", src, "--refs", files / "ref1.jpg", "--method", "idt", "--out", files / "i.png",
            "--save-lut", files / "idt.cube")
    assert r.returncode == 0 and read_cube(files / "idt.cube").shape == (65, 65, 65, 3)  # IDT: 65


def test_several_sources_into_a_folder(files, astronaut):
    frames = []
    for k in range(3):  # three "frames" of a shot, a little brighter each time
        frames.append(files / f"frame_{k:04d}.png")
        Image.fromarray(np.clip(astronaut.astype(int) + 10 * k, 0, 255).astype(np.uint8)).save(frames[-1])
    (files / "graded").mkdir()
    r = run("--src", *frames, "--refs", files / "ref1.jpg", "--method", "mkl", "--save-lut",
            files / "look.cube")
    assert r.returncode == 2 and "--save-lut is for one source" in r.stderr
    r = run("--src", frames[0], "--refs", files / "ref1.jpg", "--method", "mkl", "--save-lut",
            files / "look.cube", "--out", files / "first.png")
    assert r.returncode == 0, r.stderr
    # the look applied to every frame in one run; a broken frame is reported, the others done
    (files / "frame_0009.png").write_bytes(b"not a png")
    r = run("--src", *frames, files / "frame_0009.png", "--lut", files / "look.cube",
            "--out-dir", files / "graded")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    errors = r.stderr.splitlines()
    assert len(errors) == 2 and "frame_0009.png" in errors[0] and "1 of 4 sources failed" in errors[1]
    assert r.stdout.split() == [str(files / "graded" / f.name) for f in frames]
    assert sorted(p.name for p in (files / "graded").iterdir()) == [f.name for f in frames]
    # the same look on each frame: the first frame's result is the direct transfer's
    assert np.abs(read_image(files / "graded" / "frame_0000.png").astype(int)
                  - read_image(files / "first.png")).mean() < 0.05
    # and a transfer per source, the results beside the sources
    r = run("--src", *frames[:2], "--refs", files / "ref1.jpg", "--method", "reinhard", "-q")
    assert r.returncode == 0 and r.stdout == "", r.stderr
    assert (files / "frame_0001.reinhard.png").exists()
    for args, needle in [(["--out", files / "o.png"], "--out is for one source"),
                         (["--out-dir", files / "ref1.jpg"], "is a file, not a folder"),
                         (["--out-dir", files, "--out", files / "o.png"], "give one of them")]:
        r = run("--src", *frames[:2], "--refs", files / "ref1.jpg", "--method", "mkl", *args)
        assert r.returncode == 2 and needle in r.stderr, r.stderr
    Image.fromarray(astronaut[..., 0]).save(files / "gray.png")  # a bad reference: one error
    r = run("--src", *frames, "--refs", files / "gray.png", "--method", "mkl", "--out-dir", files / "graded")
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "gray.png: is a grayscale" in r.stderr
    (files / "other").mkdir()  # a second frame_0000 would take the first's name in --out-dir
    Image.fromarray(astronaut).save(files / "other" / "frame_0000.png")
    r = run("--src", frames[0], files / "other" / "frame_0000.png", "--lut", files / "look.cube",
            "--out-dir", files / "graded", "--overwrite")
    assert r.returncode == 2 and "two sources are named 'frame_0000'" in r.stderr, r.stderr


def test_a_folder_of_sources_and_numbered_outputs(files, astronaut):
    frames = files / "frames"
    frames.mkdir()
    for k in (10, 2, 1):  # natural order: 1, 2, 10 (not 1, 10, 2)
        Image.fromarray(np.clip(astronaut.astype(int) + 3 * k, 0, 255).astype(np.uint8)).save(frames / f"f{k}.png")
    (frames / "notes.txt").write_text("not an image")  # not an image suffix: not a source
    (frames / ".f0.png").write_bytes(b"hidden")  # hidden: not a source
    (frames / "sub").mkdir()
    (files / "graded").mkdir()
    r = run("--src", frames, "--refs", files / "ref1.jpg", "--method", "mkl", "--out",
            files / "graded" / "g_%03d.png")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == [str(files / "graded" / f"g_{k:03d}.png") for k in (1, 2, 3)]
    for k, name in zip((1, 2, 3), ("f1", "f2", "f10")):  # numbered in the sources' order
        direct = transfer.mkl(read_image(frames / f"{name}.png"), read_image(files / "ref1.jpg"))
        np.testing.assert_array_equal(read_image(files / "graded" / f"g_{k:03d}.png"), direct)
    r = run("--src", frames, "--refs", files / "ref1.jpg", "--method", "mkl", "--out-dir", files / "graded")
    assert r.returncode == 0 and sorted(p.name for p in (files / "graded").iterdir())[:3] == ["f1.png", "f10.png", "f2.png"]
    # results beside the sources would be sources the next time: a folder needs somewhere else
    r = run("--src", frames, "--refs", files / "ref1.jpg", "--method", "mkl")
    assert r.returncode == 2 and "is a folder: give --out-dir or a numbered --out" in r.stderr
    assert sorted(p.name for p in frames.iterdir()) == [".f0.png", "f1.png", "f10.png", "f2.png", "notes.txt", "sub"]
    r = run("--src", frames / "sub", "--refs", files / "ref1.jpg", "--out-dir", files / "graded")
    assert r.returncode == 2 and "sub: a folder with no image files" in r.stderr
    r = run("--src", frames, "--refs", files / "ref1.jpg", "--out", files / "graded" / "g.png")
    assert r.returncode == 2 and "a numbered --out" in r.stderr
    # one source: a name with a percent sign is only a name
    r = run("--src", frames / "f1.png", "--refs", files / "ref1.jpg", "--method", "mkl", "--out", files / "50%.png")
    assert r.returncode == 0 and (files / "50%.png").exists(), r.stderr


def test_lut_options_refused_where_they_do_not_apply(files):
    src, ref, look = files / "src.png", files / "ref1.jpg", files / "look.cube"
    look.write_text("LUT_3D_SIZE 2\n" + "0 0 0\n" * 8)
    before = digest(files)
    _assert_bad(run("--src", src, "--refs", ref, "--save-lut", files / "n.cube"), "--save-lut",
                "does not apply to --method neural")
    _assert_bad(run("--src", src, "--refs", ref, "--method", "mkl", "--save-lut", files / "n.png"),
                "n.png", ".cube")
    _assert_bad(run("--src", src, "--refs", ref, "--method", "mkl", "--save-lut", look,
                    "--out", files / "o.png"), "look.cube", "already exists")  # no image written either
    _assert_bad(run("--src", src, "--refs", ref, "--method", "mkl", "--save-lut", files / "n.cube",
                    "--lut-size", "300"), "--lut-size", "2 to 256")
    _assert_bad(run("--src", src, "--lut", look, "--refs", ref), "--refs or --lut, not both")
    _assert_bad(run("--src", src, "--lut", look, "--method", "mkl"), "--method does not go with it")
    _assert_bad(run("--src", src, "--lut", look, "--ref-weights", "1"), "does not apply to --lut")
    _assert_bad(run("--src", src, "--lut", ref), "ref1.jpg", "cannot be read")
    _assert_bad(run("--src", src, "--lut", look, "--out", look, "--overwrite"), "unknown output format")
    assert digest(files) == before


def test_list_methods_help_version():
    r = run("--list-methods")
    assert r.returncode == 0 and all(m in r.stdout for m in ("neural", "idt", "mkl", "reinhard", "histogram"))
    r = run("--help")
    assert r.returncode == 0 and "--refs" in r.stdout and "default method is 'neural'" in r.stdout
    r = run("--version")
    assert r.returncode == 0 and r.stdout.startswith("transfer ")


def _assert_bad(result, *needles):
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for n in needles:
        assert n in lines[0], lines[0]


def test_bad_input_files(files, astronaut):
    messages = _bad_files(files, astronaut)
    huge_png(files / "huge.png")
    Image.fromarray(astronaut[:1, :1]).save(files / "one.png")
    Image.fromarray(astronaut[..., 0]).save(files / "gray.png")
    cases = {name: text.split("\\")[0] for name, text in messages.items()}
    cases["huge.png"] = "declares 100000x100000 pixels"
    Image.fromarray(np.dstack([astronaut, np.zeros(astronaut.shape[:2], np.uint8)])).save(files / "clear.png")
    cases["clear.png"] = "fully transparent"  # named by its file, not by the library's "src"
    before = digest(files)
    _assert_bad(run("--src", files / "src.png", "--refs", files / "gray.png", "--out", files / "out.png"),
                "gray.png", "grayscale")
    _assert_bad(run("--src", files / "gray.png", "--refs", files / "ref1.jpg", "--method", "mkl",
                    "--out", files / "out.png"), "gray.png", "grayscale")
    _assert_bad(run("--src", files / "src.png", "--refs", files / "ref1.jpg", "--method", "welsh",
                    "--out", files / "out.png"), "src.png", "colorizes gray images")
    for name, needle in cases.items():
        for role in ("src", "ref"):
            args = (["--src", files / name, "--refs", files / "ref1.jpg"] if role == "src"
                    else ["--src", files / "src.png", "--refs", files / "ref1.jpg", files / name])
            r = run(*args, "--out", files / "out.png")
            folder_of_sources = name == "folder.png" and role == "src"  # and one output file
            _assert_bad(r, name, "is a folder: give --out-dir or a numbered --out" if folder_of_sources else needle)
    assert digest(files) == before  # inputs untouched, no output written
    # a 1x1 source is tiny but valid
    r = run("--src", files / "one.png", "--refs", files / "ref1.jpg", "--out", files / "one_out.png")
    assert r.returncode == 0, r.stderr


def test_bad_usage(files):
    cases = [
        (["--src", files / "src.png", "--refs", files / "ref1.jpg", "--method", "magic"], "invalid choice"),
        (["--src", files / "src.png"], "--src and --refs (or --lut) are required"),
        (["--src", files / "src.png", "--refs", files / "ref1.jpg", "--out", files / "o.gifx"],
         "unknown output format"),
        (["--src", files / "src.png", "--refs", files / "ref1.jpg", "--out", files / "src.png" / "o.png"],
         "is a file, not a folder"),
        (["--src", files / "src.png", "--refs", files / "ref1.jpg", "--method", "mkl",
          "--ref-weights", "1", "2"], "weights has 2 values for 1"),
        (["--src", files / "src.png", "--refs", files / "ref1.jpg", "--levels", "2", "5"], "levels"),
        (["--src", files / "src.png", "--refs", files / "ref1.jpg", "--backbone", "vgg19",
          "--weights", files / "missing.pth"], "missing.pth"),
        (["--src", files / "src.png", "--refs", files / "ref1.jpg", "--strength", "3"], "strength"),
        (["--src", files / "src.png", "--refs", files / "ref1.jpg", "--method", "idt",
          "--iterations", "0"], "iterations"),
        (["--src", files / "src.png", "--refs", files / "ref1.jpg", "--ref-scale", "big"],
         "expected 'auto' or a number > 0, got 'big'"),
    ]
    before = digest(files)
    for args, needle in cases:
        _assert_bad(run(*args), needle)
    assert digest(files) == before


def test_options_a_method_does_not_use_are_refused(files, astronaut):
    gray = np.round(astronaut @ np.array([0.299, 0.587, 0.114])).astype(np.uint8)
    Image.fromarray(gray).save(files / "old.png")
    cases = [  # (source, options, message)
        ("src.png", ["--method", "mkl", "--warm-start"], "--warm-start does not apply to --method mkl"),
        ("src.png", ["--method", "reinhard", "--passes", "2"], "--passes does not apply to --method reinhard"),
        ("src.png", ["--classes", "4"], "--classes does not apply to --method neural (only to semantic)"),
        ("src.png", ["--ref-weights", "1"], "--ref-weights does not apply to --method neural"),
        ("src.png", ["--method", "idt", "--context", "0.5"], "--context does not apply to --method idt"),
        ("src.png", ["--method", "histogram", "--no-regrain"], "--no-regrain does not apply"),
        ("old.png", ["--iterations", "3"], "--iterations does not apply to --method exemplar"),
        ("old.png", ["--method", "welsh", "--levels", "5", "4"], "--levels does not apply to --method welsh"),
        ("old.png", ["--class-map", "1:2"], "--class-map does not apply to --method exemplar (only to semantic)"),
        ("old.png", ["--warm-start"], "--warm-start does not apply to --method exemplar (only to neural)"),
    ]
    before = digest(files)
    for src, options, message in cases:
        _assert_bad(run("--src", files / src, "--refs", files / "ref1.jpg", *options,
                        "--out", files / "o.png"), message)
    assert digest(files) == before and not (files / "rep").exists()
    # the seed and the strength apply to every method; --strength 0 gives the gray back
    r = run("--src", files / "old.png", "--refs", files / "ref1.jpg", "--method", "welsh",
            "--strength", "0", "--seed", "1", "--out", files / "o.png")
    assert r.returncode == 0, r.stderr
    np.testing.assert_array_equal(read_image(files / "o.png"), np.dstack([gray] * 3))


def test_mismatched_channel_counts(files, astronaut):
    rgba = np.dstack([astronaut, np.full(astronaut.shape[:2], 255, np.uint8)])
    Image.fromarray(rgba).save(files / "rgba.png")
    Image.fromarray(np.dstack([astronaut[..., 0], astronaut[..., 1]]), mode="LA").save(files / "la.png")
    # RGBA source with RGB references: alpha is carried through
    r = run("--src", files / "rgba.png", "--refs", files / "ref1.jpg", "--out", files / "o.png")
    assert r.returncode == 0, r.stderr
    out = read_image(files / "o.png")
    assert out.shape == (256, 256, 4) and (out[..., 3] == 255).all()
    # a gray + alpha reference has no color to give
    _assert_bad(run("--src", files / "src.png", "--refs", files / "la.png", "--out", files / "p.png"),
                "la.png", "grayscale")
    assert not (files / "p.png").exists()


def test_neural_report_pictures(files):
    report = files / "report"
    r = run("--src", files / "src.png", "--refs", files / "ref1.jpg", files / "ref2.png",
            "--out", files / "n.png", "--report", report, "-q")
    assert r.returncode == 0, r.stderr
    names = sorted(p.name for p in report.iterdir())
    assert "overview.png" in names
    for level in (5, 4, 3, 2):
        for kind in ("guidance", "confidence", "labels"):
            assert f"level{level}_{kind}.png" in names
    labels = read_image(report / "level2_labels.png")
    assert labels.ndim == 3 and len(np.unique(labels.reshape(-1, 3), axis=0)) >= 1


def test_gray_source_is_colorized(files, astronaut):
    gray = np.round(astronaut @ np.array([0.299, 0.587, 0.114])).astype(np.uint8)
    Image.fromarray(gray).save(files / "old.png")
    report = files / "col_report"
    r = run("--src", files / "old.png", "--refs", files / "src.png", "--report", report, "-q")
    assert r.returncode == 0, r.stderr
    out = read_image(files / "old.exemplar.png")
    assert out.shape == (256, 256, 3) and (out.max(axis=2) - out.min(axis=2)).mean() > 5
    assert {"warped.png", "confidence.png", "overview.png"} <= {p.name for p in report.iterdir()}
    assert read_image(report / "overview.png").shape[0] == 256 + 22  # captioned panels
    r = run("--src", files / "old.png", "--refs", files / "src.png", "--method", "welsh", "-q")
    assert r.returncode == 0 and read_image(files / "old.welsh.png").shape == (256, 256, 3)
    r = run("--src", files / "old.png", "--refs", files / "src.png", "--ref-scale", "0.01",
            "--out", files / "tiny.png")
    _assert_bad(r, "ref_scale 0.01 makes reference 0 3x3 pixels")
    assert not (files / "tiny.png").exists()
    check_option(files, "old.png", "src.png", "--context", "0.5", "-1",
                 "context must be a finite number >= 0")


def check_option(files, src, ref, option, good, bad, message):
    """The CLI runs with ``option good``, and refuses ``option bad`` with ``message``
    leaving no output file; returns the good run's output."""
    r = run("--src", files / src, "--refs", files / ref, option, good, "--out", files / "good.png", "-q")
    assert r.returncode == 0, r.stderr
    r_bad = run("--src", files / src, "--refs", files / ref, option, bad, "--out", files / "bad.png")
    _assert_bad(r_bad, message)
    assert not (files / "bad.png").exists()
    return read_image(files / "good.png")


def test_neural_context_reaches_the_transfer(files, astronaut, chelsea):
    from transfer.neural.pipeline import neural_transfer

    out = check_option(files, "src.png", "ref2.png", "--context", "0.5", "inf",
                       "context must be a finite number >= 0")
    np.testing.assert_array_equal(out, neural_transfer(astronaut, chelsea, context=0.5, progress=False))
    assert not np.array_equal(out, neural_transfer(astronaut, chelsea, progress=False))


def test_neural_warm_start_reaches_the_transfer(files, astronaut, chelsea):
    from transfer.neural.pipeline import neural_transfer

    for flag, value in ((["--warm-start"], True), (["--warm-start", "auto"], "auto"),
                        (["--warm-start", "off"], False)):
        r = run("--src", files / "src.png", "--refs", files / "ref2.png", *flag, "--out",
                files / "w.png", "--overwrite", "-q")
        assert r.returncode == 0, r.stderr
        np.testing.assert_array_equal(read_image(files / "w.png"),
                                      neural_transfer(astronaut, chelsea, warm_start=value, progress=False))
    r = run("--src", files / "src.png", "--refs", files / "ref2.png", "--warm-start", "maybe",
            "--out", files / "x.png")
    assert r.returncode == 2 and "invalid choice: 'maybe'" in r.stderr and not (files / "x.png").exists()


def test_neural_solver_reaches_the_transfer(files, astronaut, chelsea):
    from transfer.neural.pipeline import neural_transfer

    r = run("--src", files / "src.png", "--refs", files / "ref2.png", "--solver", "cg", "--out",
            files / "m.png", "-q")
    assert r.returncode == 0, r.stderr
    np.testing.assert_array_equal(read_image(files / "m.png"),
                                  neural_transfer(astronaut, chelsea, solver="cg", progress=False))
    r = run("--src", files / "src.png", "--refs", files / "ref2.png", "--method", "mkl", "--solver", "multigrid",
            "--out", files / "x.png")
    assert r.returncode == 2 and "--solver does not apply to --method mkl" in r.stderr


def test_colorization_passes_option(files, astronaut):
    from transfer.colorization.methods import colorize

    gray = np.round(astronaut @ np.array([0.299, 0.587, 0.114])).astype(np.uint8)
    Image.fromarray(gray).save(files / "old.png")
    out = check_option(files, "old.png", "src.png", "--passes", "1", "0", "passes must be an integer >= 1")
    np.testing.assert_array_equal(out, colorize(gray, astronaut, passes=1))


def test_semantic_class_map_and_class_pictures(files, astronaut):
    """--report shows the pseudo-classes with their ids; --class-map recolors a class like
    another; malformed, duplicate or out-of-range maps are refused before anything is
    written."""
    gray = np.round(astronaut @ np.array([0.299, 0.587, 0.114])).astype(np.uint8)
    Image.fromarray(gray).save(files / "old.png")
    base = ["--src", files / "old.png", "--refs", files / "src.png", "--method", "semantic",
            "--classes", "4", "-q"]
    r = run(*base, "--out", files / "a.png", "--report", files / "rep")
    assert r.returncode == 0, r.stderr
    pic = read_image(files / "rep" / "classes.png")
    # target and reference panels (256 wide) plus the legend
    assert pic.shape[0] == 256 + 22 and pic.shape[1] > 2 * 256
    r = run(*base, "--out", files / "b.png", "--class-map", "0:1", "1:0", "2:3", "3:2")
    assert r.returncode == 0, r.stderr
    a, b = read_image(files / "a.png"), read_image(files / "b.png")
    assert np.abs(a.astype(int) - b).mean() > 1.0  # the swap moved the colors
    before = digest(files)
    for option, message in [(["0-1"], "expected TARGET:REFERENCE class ids such as 3:5, got '0-1'"),
                            (["0:x"], "got '0:x'"),
                            (["0:1", "0:2"], "target class 0 is mapped twice (0:1 and 0:2)"),
                            (["0:4"], "the reference class must be an integer in 0..3 (classes=4)")]:
        _assert_bad(run(*base, "--out", files / "c.png", "--class-map", *option), message)
    assert digest(files) == before


def test_classical_methods_and_errors_do_not_load_torch():
    """torch takes seconds to import: the CLI loads it only for the deep methods, so that a
    classical transfer or a usage error answers at once."""
    code = ("import sys, transfer.cli, transfer.colorization, transfer.classical; "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_env(), timeout=120)
    assert out.stdout.strip() == "False", out.stderr


# ---- masks: region by region --------------------------------------------------------------------


@pytest.fixture
def masks(files):
    half = np.zeros((256, 256), np.uint8)
    half[:, :128] = 255  # recolor the left half
    Image.fromarray(half).save(files / "left.png")
    regions = np.zeros((256, 256, 3), np.uint8)
    regions[:128], regions[128:] = (0, 0, 255), (255, 0, 0)  # top blue, bottom red
    Image.fromarray(regions).save(files / "src_regions.png")
    ref_regions = np.zeros((200, 300, 3), np.uint8)
    ref_regions[:, :150], ref_regions[:, 150:] = (255, 0, 0), (0, 0, 255)
    Image.fromarray(ref_regions).save(files / "ref_regions.png")
    return files


def test_source_mask_recolors_only_where_white(masks):
    out = masks / "o.png"
    r = run("--src", masks / "src.png", "--refs", masks / "ref1.jpg", "--method", "mkl",
            "--src-mask", masks / "left.png", "--feather", "0", "--out", out, "-q")
    assert r.returncode == 0, r.stderr
    src, res = read_image(masks / "src.png"), read_image(out)
    np.testing.assert_array_equal(res[:, 128:], src[:, 128:])
    assert np.abs(res[:, :128].astype(int) - src[:, :128]).mean() > 5


def test_colored_masks_pair_regions_and_report_them(masks):
    out, report = masks / "o.png", masks / "report"
    r = run("--src", masks / "src.png", "--refs", masks / "ref1.jpg", "--method", "reinhard",
            "--src-mask", masks / "src_regions.png", "--ref-masks", masks / "ref_regions.png",
            "--out", out, "--report", report)
    assert r.returncode == 0, r.stderr
    ref, res = read_image(masks / "ref1.jpg").astype(float), read_image(out).astype(float)
    # blue: the source's top from the reference's right half; red: its bottom from the left
    for rows, cols in ((slice(0, 100), slice(150, 300)), (slice(156, 256), slice(0, 150))):
        assert np.abs(res[rows].mean(axis=(0, 1)) - ref[:, cols].mean(axis=(0, 1))).max() < 12
    assert {p.name for p in report.iterdir()} == {"overview.png", "regions.png"}
    picture = read_image(report / "regions.png").astype(float)  # tinted in the masks' colors
    top, bottom = picture[:100].mean(axis=(0, 1)), picture[156:].mean(axis=(0, 1))
    assert top[2] > top[0] + 40 and bottom[0] > bottom[2] + 40, (top, bottom)


def test_mask_errors(masks):
    src, ref = masks / "src.png", masks / "ref1.jpg"
    cases = [
        (["--method", "mkl", "--src-mask", masks / "nope.png"], "nope.png: no such file"),
        (["--method", "mkl", "--ref-masks", masks / "left.png", "-"], "2 masks for 1 reference"),
        (["--method", "mkl", "--feather", "3"], "--feather goes with --src-mask"),
        (["--method", "mkl", "--feather", "-3", "--src-mask", masks / "left.png"], "--feather"),
        (["--method", "mkl", "--src-mask", masks / "left.png", "--save-lut", masks / "l.cube"], "--save-lut"),
        (["--method", "neural", "--src-mask", masks / "left.png", "--ref-masks", masks / "left.png"],
         "--ref-masks does not apply to --method neural"),
        (["--method", "mkl", "--ref-masks", masks / "ref_regions.png"], "give --src-mask"),
        (["--method", "mkl", "--src-mask", masks / "ref_regions.png"], "another aspect ratio"),
        (["--method", "mkl", "--src-mask", masks / "left.png", "--out", masks / "left.png",
          "--overwrite"], "is one of the input images"),
    ]
    before = digest(masks)
    for extra, message in cases:
        r = run("--src", src, "--refs", ref, *extra)
        assert r.returncode == 2 and message in r.stderr and "Traceback" not in r.stderr, (extra, r.stderr)
    assert digest(masks) == before


def test_unmatched_region_is_a_note_or_an_error(masks):
    top = np.zeros((200, 300, 3), np.uint8)
    top[:, :] = (0, 0, 255)  # the reference shows only the blue region
    Image.fromarray(top).save(masks / "ref_blue.png")
    args = ["--src", masks / "src.png", "--refs", masks / "ref1.jpg", "--method", "mkl",
            "--src-mask", masks / "src_regions.png", "--ref-masks", masks / "ref_blue.png",
            "--feather", "0"]
    r = run(*args, "--out", masks / "o.png")
    assert r.returncode == 0 and "note:" in r.stderr and "left as it is" in r.stderr, r.stderr
    src, res = read_image(masks / "src.png"), read_image(masks / "o.png")
    np.testing.assert_array_equal(res[128:], src[128:])  # red: not in the reference, kept
    r = run(*args, "--out", masks / "o2.png", "--unmatched", "error")
    assert r.returncode == 2 and "has no pixels in any reference" in r.stderr
    assert not (masks / "o2.png").exists()


def test_reference_mask_alone_picks_the_colors(masks):
    ref_left = np.zeros((200, 300), np.uint8)
    ref_left[:, :150] = 255  # take the colors of the reference's left half only
    Image.fromarray(ref_left).save(masks / "ref_left.png")
    out = masks / "o.png"
    r = run("--src", masks / "src.png", "--refs", masks / "ref1.jpg", "--method", "mkl",
            "--ref-masks", masks / "ref_left.png", "--out", out, "-q")
    assert r.returncode == 0, r.stderr
    ref = read_image(masks / "ref1.jpg")
    hidden = np.concatenate([ref, np.where(ref_left > 0, 255, 0).astype(np.uint8)[..., None]], axis=2)
    np.testing.assert_array_equal(read_image(out), transfer.mkl(read_image(masks / "src.png"), hidden))


def test_temporal_frames_of_a_shot(tmp_path):
    from skimage import data
    from skimage.color import deltaE_ciede2000, rgb2lab

    photo = data.astronaut()[::4, ::4]
    frames = []
    for t in range(3):
        frames.append(tmp_path / f"frame{t}.png")
        Image.fromarray(photo[:96, 3 * t: 3 * t + 96]).save(frames[-1])
    Image.fromarray(data.coffee()[::4, ::4]).save(tmp_path / "ref.png")
    flicker = {}
    for name, extra in (("alone", []), ("temporal", ["--temporal"])):
        (tmp_path / name).mkdir()
        r = run("--src", *frames, "--refs", tmp_path / "ref.png", "--out-dir", tmp_path / name, "-q", *extra)
        assert r.returncode == 0, r.stderr
        outs = [read_image(tmp_path / name / f.name) for f in frames]
        flicker[name] = np.mean([deltaE_ciede2000(rgb2lab(a[:, 3:]), rgb2lab(b[:, :-3])).mean()
                                 for a, b in zip(outs, outs[1:])])
    assert flicker["temporal"] < 0.5 * flicker["alone"], flicker
    Image.fromarray(np.full((96, 96), 255, np.uint8)).save(tmp_path / "mask.png")
    for extra, message in ((["--method", "mkl", "--src-mask", tmp_path / "mask.png"],
                            "with masks it is for --method neural, not mkl"),
                           (["--temporal", "2"], "--temporal must be in [0, 1]")):
        r = run("--src", *frames, "--refs", tmp_path / "ref.png", "--out-dir", tmp_path, "--temporal", *extra)
        assert r.returncode == 2 and message in r.stderr and r.stderr.count("error") == 1, r.stderr
    r = run("--src", frames[0], "--refs", tmp_path / "ref.png", "--temporal")
    assert r.returncode == 2 and "several sources" in r.stderr


def test_temporal_classical(tmp_path):
    # an object comes in: alone, each frame's fit moves the background's colors; with
    # --temporal the frames keep the running look (docs/quality.md)
    from skimage import data
    from skimage.color import deltaE_ciede2000, rgb2lab

    photo = data.astronaut()[::4, ::4]
    frames = []
    for t in range(3):
        frame = photo[:96, :96].copy()
        frame[24:72, 72 - 24 * t:] = [200, 40, 60]
        frames.append(tmp_path / f"frame{t}.png")
        Image.fromarray(frame).save(frames[-1])
    Image.fromarray(data.coffee()[::4, ::4]).save(tmp_path / "ref.png")
    outs = {}
    for name, extra in (("alone", []), ("temporal", ["--temporal"])):
        (tmp_path / name).mkdir()
        r = run("--src", *frames, "--refs", tmp_path / "ref.png", "--method", "mkl", "--out-dir",
                tmp_path / name, "-q", *extra)
        assert r.returncode == 0, r.stderr
        outs[name] = [read_image(tmp_path / name / f.name) for f in frames]
    np.testing.assert_array_equal(outs["alone"][0], outs["temporal"][0])  # the first frame as alone
    drift = {name: deltaE_ciede2000(rgb2lab(o[0][:24]), rgb2lab(o[-1][:24])).mean() for name, o in outs.items()}
    assert drift["alone"] > 3.0 and drift["temporal"] < 0.3 * drift["alone"], drift  # measured 6.8, 1.0


def test_reinhard_space(files):
    out = files / "o.png"
    r = run("--src", files / "src.png", "--refs", files / "ref1.jpg", "--method", "reinhard",
            "--space", "lalphabeta", "--out", out, "-q")
    assert r.returncode == 0, r.stderr
    src, ref = read_image(files / "src.png"), read_image(files / "ref1.jpg")
    np.testing.assert_array_equal(read_image(out), transfer.reinhard(src, ref, space="lalphabeta"))
    r = run("--src", files / "src.png", "--refs", files / "ref1.jpg", "--method", "mkl", "--space", "lalphabeta")
    assert r.returncode == 2 and "--space does not apply to --method mkl" in r.stderr
    r = run("--src", files / "src.png", "--refs", files / "ref1.jpg", "--method", "reinhard", "--space", "hsv")
    assert r.returncode == 2 and "invalid choice" in r.stderr

