"""Nothing lost and clear errors: the command line's outputs are checked before the work and
written all or none; bad options are refused at once (exit 2, one line, no traceback)."""

import io
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import tifffile
from PIL import Image

from transfer import cli
from transfer.io import read_image
from transfer.classical.cube import read_cube

from test_cli import _assert_bad, _env, digest, run


@pytest.fixture
def files(tmp_path, astronaut, coffee):
    Image.fromarray(astronaut).save(tmp_path / "src.png")
    Image.fromarray(coffee).save(tmp_path / "ref.png")
    return tmp_path


# ---- 1, 2: the report and --save-lut never replace an input or the output; all or none -----------


def test_report_never_replaces_an_input_or_the_output(files):
    rep = files / "rep"
    rep.mkdir()
    Image.fromarray(read_image(files / "src.png")).save(rep / "overview.png")  # an input named like a report file
    before = digest(rep)
    _assert_bad(run("--src", rep / "overview.png", "--refs", files / "ref.png", "--method", "mkl", "--report", rep,
                    "--out", files / "out.png", "--overwrite"), "overview.png", "report")
    assert digest(rep) == before and not (files / "out.png").exists()
    _assert_bad(run("--src", files / "src.png", "--refs", files / "ref.png", "--method", "mkl", "--report", files / "rep2",
                    "--out", files / "rep2" / "overview.png"), "overview.png", "report")
    assert not (files / "rep2").exists()


def test_report_files_are_not_overwritten_without_overwrite(files):
    rep = files / "rep"
    rep.mkdir()
    (rep / "overview.png").write_bytes(b"someone's picture")
    args = ["--src", files / "src.png", "--refs", files / "ref.png", "--method", "mkl", "--report", rep, "--out", files / "out.png"]
    _assert_bad(run(*args), "overview.png", "already exists", "--overwrite")
    assert (rep / "overview.png").read_bytes() == b"someone's picture" and not (files / "out.png").exists()
    r = run(*args, "--overwrite", "-q")
    assert r.returncode == 0, r.stderr
    assert read_image(rep / "overview.png").ndim == 3 and (files / "out.png").exists()


def test_non_ascii_names_with_save_lut(files):
    (files / "ref.png").rename(files / "café.png")
    r = run("--src", files / "src.png", "--refs", files / "café.png", "--method", "mkl", "--out", files / "out.png",
            "--save-lut", files / "look.cube")
    assert r.returncode == 0, r.stderr
    assert read_cube(files / "look.cube").shape == (33, 33, 33, 3)
    assert 'TITLE "transfer mkl: src.png -> caf?.png"' in (files / "look.cube").read_text("ascii")


@pytest.mark.parametrize("where", ["lut under a file", "report is a file", "lut name too long"])
def test_output_problems_are_found_before_the_work(files, where):
    (files / "note.txt").write_text("a file")
    extra = {"lut under a file": ["--save-lut", files / "note.txt" / "look.cube"],
             "report is a file": ["--report", files / "note.txt"],
             "lut name too long": ["--save-lut", files / ("x" * 300 + ".cube")]}[where]
    start = time.perf_counter()
    r = run("--src", files / "src.png", "--refs", files / "ref.png", "--method", "idt", "--out", files / "out.png", *extra)
    _assert_bad(r, {"lut under a file": "note.txt is a file, not a folder",
                    "report is a file": "is a file; --report takes a folder",
                    "lut name too long": "longer than this file system allows"}[where])
    assert ".part" not in r.stderr and not (files / "out.png").exists()
    assert sorted(p.name for p in files.iterdir()) == ["note.txt", "ref.png", "src.png"]
    assert time.perf_counter() - start < 30


def test_output_in_a_folder_that_cannot_be_written(files, monkeypatch, capsys):
    import tempfile

    real = tempfile.mkstemp

    def refuse(*args, dir=None, **kwargs):
        if str(dir).startswith(str(files / "locked")):
            raise PermissionError(13, "Permission denied")
        return real(*args, dir=dir, **kwargs)

    (files / "locked").mkdir()
    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    status = cli.main(["--src", str(files / "src.png"), "--refs", str(files / "ref.png"), "--method", "mkl",
                       "--out", str(files / "locked" / "out.png")])
    err = capsys.readouterr().err
    assert status == 2 and "locked cannot be written (Permission denied)" in err and ".part" not in err


def test_outputs_all_or_none(tmp_path):
    from transfer.errors import InputError
    from transfer.io import Outputs

    (tmp_path / "kept.png").write_bytes(b"old")
    outputs = Outputs([], overwrite=True)
    outputs.add(tmp_path / "kept.png", lambda tmp: open(tmp, "wb").write(b"new"))
    outputs.add(tmp_path / "new" / "a.txt", lambda tmp: open(tmp, "wb").write(b"a"))
    (tmp_path / "new" / "a.txt").mkdir()  # appears meanwhile, and cannot be replaced
    with pytest.raises(OSError):
        outputs.commit()
    assert (tmp_path / "kept.png").read_bytes() == b"old"  # restored
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["a.txt", "kept.png", "new"]  # no .part, no .old
    outputs = Outputs([])
    outputs.claim(tmp_path / "b.txt")
    with pytest.raises(InputError, match="written twice"):
        outputs.claim(tmp_path / "b.txt")


# ---- 7-10: bad options refused at once ------------------------------------------------------------


@pytest.mark.parametrize("options, message", [
    (["--seed", "-1"], "--seed: expected a whole number from 0 to 2**32 - 1"),
    (["--seed", str(2**32)], "--seed: expected a whole number from 0 to 2**32 - 1"),
    (["--levels", "3", "3"], "--levels must be distinct"),
    (["--method", "mkl", "--lut-size", "17"], "--lut-size is the grid of --save-lut"),
    (["--weights", "missing.pth"], "missing.pth: --weights names no file"),
    (["--weights", "."], "--weights names no file (a folder)"),
    (["--weights", "ref.png"], "ref.png: not a readable torch weights file"),
    (["--out", "x.png", "--format", "jpg"], "--format is for results named by transfer"),
])
def test_bad_options_refused_at_once(files, options, message):
    start = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "transfer", "--src", "src.png", "--refs", "ref.png", *options],
                       capture_output=True, text=True, cwd=files, env=_env(), timeout=120)
    _assert_bad(r, message)
    assert time.perf_counter() - start < 20  # before the work (the weights file: when it is read)


def test_classes_bounded(files, astronaut):
    Image.fromarray(astronaut[..., 1]).save(files / "gray.png")
    _assert_bad(run("--src", files / "gray.png", "--refs", files / "ref.png", "--method", "semantic", "--classes", "100000"),
                "--classes: expected a whole number from 1 to 64")


def test_nan_tiff_named_by_file(files):
    img = np.full((8, 8, 3), 0.5, np.float32)
    img[2, 2] = np.nan
    tifffile.imwrite(files / "nan.tif", img)
    _assert_bad(run("--src", files / "nan.tif", "--refs", files / "ref.png", "--method", "mkl", "--out", files / "o.png"),
                "nan.tif contains NaN")


def test_interrupt_while_starting_prints_no_traceback(files):
    p = subprocess.Popen([sys.executable, "-m", "transfer", "--src", files / "src.png", "--refs", files / "ref.png"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env())
    time.sleep(0.15)  # Python is importing
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=60)
    assert "Traceback" not in err and p.returncode in (130, -signal.SIGINT), (p.returncode, err)


# ---- 11-14: everyday use ----------------------------------------------------------------------------


def test_missing_output_folders_are_made(files):
    r = run("--src", files / "src.png", files / "ref.png", "--refs", files / "ref.png", "--method", "mkl",
            "--out-dir", files / "a" / "b", "-q")
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in (files / "a" / "b").iterdir()) == ["ref.png", "src.png"]
    r = run("--src", files / "src.png", files / "ref.png", "--refs", files / "ref.png", "--method", "mkl",
            "--out", files / "c" / "f_%02d.jpg", "-q")
    assert r.returncode == 0 and r.stderr == "", r.stderr
    assert sorted(p.name for p in (files / "c").iterdir()) == ["f_01.jpg", "f_02.jpg"]


def test_a_failed_run_leaves_no_folder(files):
    _assert_bad(run("--src", files / "src.png", "--refs", files / "ref.png", "--method", "mkl",
                    "--out", files / "new" / "deeper" / "out.jpg", "--strength", "2"), "strength")
    assert not (files / "new").exists()


def test_temporal_frames_in_natural_order(files, astronaut):
    names = ["frame1.png", "frame10.png", "frame2.png"]  # the shell's order
    for k, name in enumerate(names):
        Image.fromarray(np.roll(astronaut, k, axis=1)).save(files / name)
    r = run("--src", *[files / n for n in names], "--refs", files / "ref.png", "--method", "mkl", "--temporal",
            "--out-dir", files / "out")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == [str(files / "out" / n) for n in ["frame1.png", "frame2.png", "frame10.png"]]


def test_out_dir_keeps_the_format_and_depth(files, astronaut):
    tifffile.imwrite(files / "float.tif", astronaut.astype(np.float32) / 255)
    Image.fromarray(astronaut).save(files / "photo.jpg")
    r = run("--src", files / "float.tif", files / "photo.jpg", "--refs", files / "ref.png", "--method", "mkl",
            "--out-dir", files / "out", "-q")
    assert r.returncode == 0, r.stderr
    out = read_image(files / "out" / "float.tif")
    assert out.dtype == np.float32 and out.shape == astronaut.shape
    assert (files / "out" / "photo.jpg").exists()
    r = run("--src", files / "photo.jpg", "--refs", files / "ref.png", "--method", "mkl", "--format", "webp", "-q")
    assert r.returncode == 0 and (files / "photo.mkl.webp").exists(), r.stderr


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_for_several_sources(files, monkeypatch, capsys):
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    status = cli.main(["--src", str(files / "src.png"), str(files / "ref.png"), "--refs", str(files / "ref.png"),
                       "--method", "mkl", "--out-dir", str(files / "out")])
    assert status == 0
    assert "images" in terminal.getvalue() and "2/2" in terminal.getvalue()
    assert capsys.readouterr().out.split() == [str(files / "out" / "src.png"), str(files / "out" / "ref.png")]


def test_idt_progress_bar(astronaut, coffee, monkeypatch):
    import transfer

    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    transfer.idt(astronaut, coffee, iterations=3, progress=True)
    assert "idt:" in terminal.getvalue() and "/4 [" in terminal.getvalue()


def test_openmp_threads_spin_briefly_unless_told():
    code = "import os, transfer; print(os.environ.get('OMP_WAIT_POLICY'), os.environ.get('GOMP_SPINCOUNT'))"
    env = {k: v for k, v in _env().items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    for given, expected in (({}, "None 3000"), ({"OMP_WAIT_POLICY": "PASSIVE"}, "PASSIVE None"),
                            ({"GOMP_SPINCOUNT": "0"}, "None 0")):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={**env, **given})
        assert out.stdout.strip() == expected, (given, out.stdout, out.stderr)


# ---- 6: the same bytes for any thread count -----------------------------------------------------


@pytest.mark.slow
def test_neural_same_bytes_for_one_and_two_threads(files):
    digests = []
    for threads in ("1", "2"):
        out = files / f"t{threads}.png"
        r = subprocess.run([sys.executable, "-m", "transfer", "--src", files / "src.png", "--refs", files / "ref.png",
                            "--max-size", "128", "--out", out, "-q"], capture_output=True, text=True,
                           env={**_env(), "OMP_NUM_THREADS": threads}, timeout=300)
        assert r.returncode == 0, r.stderr
        digests.append(out.read_bytes())
    assert digests[0] == digests[1]


# ---- 17, 18: what a new user meets ----------------------------------------------------------------


def test_one_program_name_and_short_options(files):
    r = run("-s", files / "src.png", "-r", files / "ref.png", "-m", "magic")
    assert r.returncode == 2 and r.stderr.startswith("transfer: error:"), r.stderr
    r = run("-s", files / "src.png", "-r", files / "ref.png", "-m", "reinhard", "-o", files / "o.png",
            "--report", files / "rep", "-q")
    assert r.returncode == 0, r.stderr
    assert [p.name for p in (files / "rep").iterdir()] == ["overview.png"]


def test_a_classical_run_loads_no_deep_pipeline(files):
    """The command line's start stays light (issue 27, whole-process speed): a classical
    transfer imports neither torch nor the neural pipeline nor scipy's sparse solvers."""
    code = ("import sys; from transfer.cli import main; "
            f"status = main(['-s', {str(files / 'src.png')!r}, '-r', {str(files / 'ref.png')!r}, "
            f"'-m', 'reinhard', '-o', {str(files / 'o.png')!r}, '-q']); "
            "print(status, sorted(m for m in ('torch', 'transfer.neural', 'scipy.sparse', 'scipy.special') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_env(), timeout=120)
    assert out.stdout.strip() == "0 []", (out.stdout, out.stderr)
