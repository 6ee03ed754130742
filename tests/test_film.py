"""Film scale: video files through PyAV, OpenEXR and scene-linear color spaces, and jobs of
frames in one process or on a local Dask cluster (identical outputs, nothing lost)."""

import hashlib
import os
from pathlib import Path
import signal
import threading
import time

import numpy as np
import pytest
from PIL import Image

from transfer import batch, video
from transfer.errors import InputError
from transfer.io import read_image, write_image
from transfer.spaces import Space, in_space, srgb_decode, srgb_encode
from transfer.testing import make_clip

from test_cli import _assert_bad, run

av = pytest.importorskip("av")

FRAMES = 8  # per shot


@pytest.fixture(scope="module")
def clip(tmp_path_factory, astronaut, coffee):
    """A two-shot clip (8 frames each, 160 x 96, 24 fps, with audio) and a reference."""
    folder = tmp_path_factory.mktemp("clip")
    make_clip(folder / "clip.mp4", [astronaut, coffee], FRAMES)
    Image.fromarray(astronaut[::-1, :, ::-1].copy()).save(folder / "ref.png")  # other colors
    return folder


def digest(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


# ---- video -----------------------------------------------------------------------------------


def test_probe_and_streamed_frames(clip):
    info = video.probe(clip / "clip.mp4")
    assert (info.frames, info.rate, info.width, info.height, info.audio) == (2 * FRAMES, 24, 160, 96, True)
    every = list(video.read_frames(clip / "clip.mp4"))
    assert len(every) == 2 * FRAMES and every[0].shape == (96, 160, 3) and every[0].dtype == np.uint8
    part = list(video.read_frames(clip / "clip.mp4", 9, 12))  # by seeking, not from the start
    assert len(part) == 3 and all(np.array_equal(a, b) for a, b in zip(part, every[9:12]))


@pytest.mark.parametrize("ext, codec, bits", [(".mov", "prores", 10), (".mp4", "h264", 8),
                                              (".mkv", "ffv1", 16)])
def test_graded_clip_keeps_rate_count_size_and_audio(clip, tmp_path, ext, codec, bits):
    out = tmp_path / f"graded{ext}"
    r = run("--src", clip / "clip.mp4", "--refs", clip / "ref.png", "-m", "mkl", "--temporal",
            "--out", out, "-q")
    assert r.returncode == 0, r.stderr
    src, got = video.probe(clip / "clip.mp4"), video.probe(out)
    assert (got.frames, got.rate, got.width, got.height, got.bits) == (src.frames, src.rate, 160, 96, bits)
    assert got.audio
    assert not any(p.name.endswith(".frames") for p in tmp_path.iterdir())  # the work folder removed
    with av.open(str(clip / "clip.mp4")) as a, av.open(str(out)) as b:  # the audio copied untouched
        packets = [bytes(p) for p in a.demux(a.streams.audio[0]) if p.size]
        assert packets == [bytes(p) for p in b.demux(b.streams.audio[0]) if p.size]
    # the frames are the per-frame results, within the codec's loss
    frames = list(video.read_frames(out))
    expect = batch.run(clip / "clip.mp4", [clip / "ref.png"], out=tmp_path / "png", method="mkl",
                       temporal=0.9, progress=False)
    assert expect.ok
    top = 65535 if frames[0].dtype == np.uint16 else 255
    errors = [np.abs(f / top - read_image(tmp_path / "png" / f"clip.{i + 1:06d}.png") / 255).mean()
              for i, f in enumerate(frames)]
    assert max(errors) < 0.02, errors


def test_video_codec_by_name_and_errors(clip, tmp_path):
    r = run("--src", clip / "clip.mp4", "--refs", clip / "ref.png", "-m", "reinhard", "--codec",
            "h264-10", "--out", tmp_path / "ten.mkv", "-q")
    assert r.returncode == 0, r.stderr
    assert video.probe(tmp_path / "ten.mkv").bits == 10
    _assert_bad(run("--src", clip / "clip.mp4", "--refs", clip / "ref.png", "--codec", "xvid",
                    "--out", tmp_path / "a.mov"), "xvid")
    _assert_bad(run("--src", clip / "clip.mp4", "--refs", clip / "ref.png", "--report", tmp_path / "r",
                    "--out", tmp_path / "a.mov"), "--report")
    (tmp_path / "bad.mp4").write_bytes(b"not a video at all")
    _assert_bad(run("--src", tmp_path / "bad.mp4", "--refs", clip / "ref.png", "--out", tmp_path / "a.mov"),
                "bad.mp4")
    assert not (tmp_path / "a.mov").exists()


# ---- OpenEXR, float TIFF and color spaces -----------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float16, np.float32])
def test_exr_round_trip_keeps_values_above_one(tmp_path, dtype):
    img = (np.random.default_rng(0).random((20, 30, 4)) * [8, 4, 2, 1]).astype(dtype)
    write_image(tmp_path / "a.exr", img)
    back = read_image(tmp_path / "a.exr")
    assert back.dtype == dtype and np.array_equal(back, img) and back.max() > 4
    write_image(tmp_path / "a.tif", img.astype(np.float32))
    assert np.array_equal(read_image(tmp_path / "a.tif"), img.astype(np.float32))


def test_linear_space_keeps_highlights_and_the_display_range():
    rng = np.random.default_rng(1)
    lin = (rng.random((16, 16, 3)) * 0.9).astype(np.float32)
    lin[:4] *= 10  # highlights up to 9
    lin[-1, -1] = [-0.02, 0.3, 0.5]  # out of gamut
    space = Space("linear")
    shown, residual = space.to_display(lin)
    assert shown.min() >= 0 and shown.max() <= 1
    np.testing.assert_allclose(space.from_display(shown, residual), lin, atol=1e-5)
    # below 1 the display values are plain sRGB; a highlight keeps its hue (channel ratios)
    np.testing.assert_allclose(shown[8:], srgb_encode(np.maximum(lin[8:], 0)), atol=1e-6)
    ratios = srgb_decode(shown[:4]) / srgb_decode(shown[:4]).max(axis=2, keepdims=True)
    np.testing.assert_allclose(ratios, lin[:4] / lin[:4].max(axis=2, keepdims=True), atol=1e-4)


def test_transfer_in_linear_space_keeps_highlights(astronaut, coffee):
    import transfer

    src = srgb_decode(astronaut / 255.0) * 4  # a scene-linear plate, up to 4
    ref = srgb_decode(coffee / 255.0)
    out = in_space(transfer.mkl, src, [ref], color_space="linear")
    assert out.dtype == np.float32 and out.shape == src.shape and out.max() > 2
    # the method's result on the display values, times each pixel's peak above 1
    shown, residual = Space("linear").to_display(src)
    plain = srgb_decode(transfer.mkl(shown, [srgb_encode(ref)]))
    np.testing.assert_allclose(out, plain * residual.peak, rtol=1e-5, atol=1e-6)
    assert (residual.peak > 1).mean() > 0.3


def test_ocio_conversion_is_the_configs_own():
    ocio = pytest.importorskip("PyOpenColorIO")
    config = "ocio://cg-config-latest"  # built into the package: no file needed
    plate = (np.random.default_rng(2).random((8, 8, 3)) * 3).astype(np.float32)
    space = Space("ACEScg", config)
    shown, residual = space.to_display(plate)
    cfg = ocio.Config.CreateFromFile(config)
    expect = plate.copy()
    cfg.getProcessor("ACEScg", "Linear Rec.709 (sRGB)").getDefaultCPUProcessor().applyRGB(expect)
    lin = srgb_decode(shown) * residual.peak + (0 if residual.below is None else residual.below)
    np.testing.assert_allclose(lin, expect, atol=1e-5)
    np.testing.assert_allclose(space.from_display(shown, residual), plate, atol=1e-4)
    with pytest.raises(InputError, match="no color space 'ACEScgg'"):
        Space("ACEScgg", config)
    with pytest.raises(InputError, match="unknown color space"):
        Space("rec709-ish")


def test_cli_exr_sequence_in_acescg(tmp_path, astronaut, coffee):
    plate = srgb_decode(astronaut / 255.0) * 3
    write_image(tmp_path / "plate.exr", plate.astype(np.float16))
    Image.fromarray(coffee).save(tmp_path / "ref.png")
    r = run("--src", tmp_path / "plate.exr", "--refs", tmp_path / "ref.png", "-m", "mkl",
            "--color-space", "linear", "--out", tmp_path / "graded.exr", "-q")
    assert r.returncode == 0, r.stderr
    out = read_image(tmp_path / "graded.exr")
    assert out.dtype == np.float16 and out.shape == plate.shape and out.max() > 1.5
    _assert_bad(run("--src", tmp_path / "plate.exr", "--refs", tmp_path / "ref.png", "-m", "mkl",
                    "--out", tmp_path / "x.exr"), "plate.exr", "[0, 1]")
    _assert_bad(run("--src", tmp_path / "plate.exr", "--refs", tmp_path / "ref.png", "-m", "mkl",
                    "--color-space", "ACEScg", "--ocio-config", tmp_path / "none.ocio",
                    "--out", tmp_path / "x.exr"), "none.ocio")


# ---- jobs: shots, a cluster, resume, bad frames -----------------------------------------------


def test_cuts_split_the_clip_into_shots(clip, tmp_path):
    report = batch.run(clip / "clip.mp4", [clip / "ref.png"], out=tmp_path, method="mkl",
                       temporal=0.9, progress=False)
    assert report.ok and report.shots == 2 and report.tasks == 2
    assert len(report.written) == 2 * FRAMES


def _serial(clip, folder, method="mkl", **options):
    report = batch.run(clip / "clip.mp4", [clip / "ref.png"], out=folder, method=method,
                       temporal=0.9, options=options, progress=False)
    assert report.ok
    return digest(folder)


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None,
                                  env={"OMP_NUM_THREADS": "1"}) as c:
        yield c


def test_local_cluster_gives_the_serial_outputs(clip, tmp_path, cluster):
    serial = _serial(clip, tmp_path / "serial")
    calls = []  # the progress the workers report, frame by frame, to the client
    report = batch.run(clip / "clip.mp4", [clip / "ref.png"], out=tmp_path / "dask", method="mkl",
                       temporal=0.9, scheduler=cluster.scheduler_address,
                       progress=lambda done, total: calls.append((done, total)))
    assert report.ok and report.shots == 2
    assert digest(tmp_path / "dask") == serial
    assert calls == [(n, 2 * FRAMES) for n in range(1, 2 * FRAMES + 1)]
    # frames apart (no temporal): chunks over the workers
    a = batch.run(clip / "clip.mp4", [clip / "ref.png"], out=tmp_path / "a", method="reinhard",
                  chunk=3, progress=False)
    b = batch.run(clip / "clip.mp4", [clip / "ref.png"], out=tmp_path / "b", method="reinhard",
                  chunk=3, scheduler=cluster.scheduler_address, progress=False)
    assert a.ok and b.ok and a.tasks == b.tasks == 6 and digest(tmp_path / "a") == digest(tmp_path / "b")


def test_a_killed_worker_loses_no_frame(clip, tmp_path, cluster):
    options = {"iterations": 40}  # idt: slow enough that the kill lands mid-shot
    serial = _serial(clip, tmp_path / "serial", method="idt", **options)
    from distributed import Client

    with Client(cluster.scheduler_address) as client:
        pids = list(client.run(os.getpid).values())
        done = {}
        job = threading.Thread(target=lambda: done.update(report=batch.run(
            clip / "clip.mp4", [clip / "ref.png"], out=tmp_path / "dask", method="idt", temporal=0.9,
            options=options, scheduler=cluster.scheduler_address, progress=False)))
        job.start()
        deadline = time.time() + 60
        while not (tmp_path / "dask").is_dir() or not any((tmp_path / "dask").iterdir()):
            assert time.time() < deadline
            time.sleep(0.01)
        os.kill(pids[0], signal.SIGKILL)  # a worker dies while its shot is under way
        job.join(120)
    report = done["report"]
    assert report.ok, report.failed
    assert digest(tmp_path / "dask") == serial


def test_resume_writes_only_the_missing_frames(clip, tmp_path):
    folder = tmp_path / "out"
    full = _serial(clip, folder)
    for name in ("clip.000003.png", "clip.000012.png"):  # a job stopped midway in both shots
        (folder / name).unlink()
    stamps = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
    time.sleep(0.02)
    r = run("--src", clip / "clip.mp4", "--refs", clip / "ref.png", "-m", "mkl", "--temporal",
            "--out-dir", folder, "--resume", "-q")
    assert r.returncode == 0, r.stderr
    assert digest(folder) == full
    assert {p.name: p.stat().st_mtime_ns for p in folder.iterdir() if p.name in stamps} == stamps
    # without --resume (or --overwrite) the written frames are not touched
    _assert_bad(run("--src", clip / "clip.mp4", "--refs", clip / "ref.png", "-m", "mkl",
                    "--out-dir", folder, "--workers", "1"), "already exists", "--resume")


def _frames_with_a_broken_one(folder, astronaut, coffee, count, broken):
    """``count`` frames of a pan in folder/frames, frame ``broken`` a truncated PNG, and a
    reference folder/ref.png; returns the frames' folder."""
    frames = folder / "frames"
    frames.mkdir()
    for i in range(count):
        Image.fromarray(np.roll(astronaut, 4 * i, axis=1)).save(frames / f"f{i}.png")
    (frames / f"f{broken}.png").write_bytes(b"\x89PNG broken")
    Image.fromarray(coffee).save(folder / "ref.png")
    return frames


def test_bad_frames_are_named_and_the_rest_done(tmp_path, astronaut, coffee):
    frames = _frames_with_a_broken_one(tmp_path, astronaut, coffee, 4, 2)
    r = run("--src", frames, "--refs", tmp_path / "ref.png", "-m", "mkl", "--temporal",
            "--out-dir", tmp_path / "out", "--resume")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "f2.png" in r.stderr and "1 of 4 frames failed" in r.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["f0.png", "f1.png", "f3.png"]


def test_video_waits_for_every_frame_and_resumes(tmp_path, astronaut, coffee):
    frames = _frames_with_a_broken_one(tmp_path, astronaut, coffee, 5, 3)
    args = ("--src", frames, "--refs", tmp_path / "ref.png", "-m", "mkl", "--temporal",
            "--out", tmp_path / "shot.mov")
    r = run(*args)
    assert r.returncode == 2 and "f3.png" in r.stderr and "not encoded" in r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["frames", "ref.png", "shot.mov.frames"]
    kept = digest(tmp_path / "shot.mov.frames")
    assert len(kept) == 4  # the frames done are kept for --resume
    Image.fromarray(np.roll(astronaut, 12, axis=1)).save(frames / "f3.png")
    r = run(*args, "--resume", "-q")
    assert r.returncode == 0, r.stderr
    assert video.probe(tmp_path / "shot.mov").frames == 5
    assert not (tmp_path / "shot.mov.frames").exists()


def test_job_refuses_to_replace_a_source(clip, tmp_path):
    frames = tmp_path / "frames"
    batch.run(clip / "clip.mp4", [clip / "ref.png"], out=frames, method="mkl", progress=False)
    with pytest.raises(InputError, match="would replace a source"):
        batch.run(sorted(frames.iterdir()), [clip / "ref.png"], out=frames, method="mkl", overwrite=True,
                  progress=False)


def test_image_sequence_to_video(clip, tmp_path):
    frames = tmp_path / "frames"
    batch.run(clip / "clip.mp4", [clip / "ref.png"], out=frames, method="reinhard", progress=False)
    r = run("--src", frames, "--lut", _identity_cube(tmp_path), "--out", tmp_path / "seq.mov",
            "--rate", "25", "-q")
    assert r.returncode == 0, r.stderr
    info = video.probe(tmp_path / "seq.mov")
    assert (info.frames, info.rate, info.width, info.height, info.audio) == (2 * FRAMES, 25, 160, 96, False)


def _identity_cube(folder):
    from transfer.classical.cube import write_cube
    from transfer.classical.lut import identity_lut

    write_cube(folder / "id.cube", identity_lut(5))
    return folder / "id.cube"


def test_weights_are_shipped_once_per_process(tmp_path):
    first = batch._weights_file(b"weights of a backbone")
    assert Path(first).read_bytes() == b"weights of a backbone"
    assert batch._weights_file(b"weights of a backbone") == first
    assert batch._weights_file(b"other weights") != first


def test_no_dask_import_without_workers():
    import subprocess
    import sys

    from test_cli import _env

    code = ("import sys, transfer.cli as c; c.main(['--list-methods']); "
            "import transfer.batch; print('distributed' in sys.modules, 'av' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_env())
    assert out.stdout.strip().splitlines()[-1] == "False False", out
