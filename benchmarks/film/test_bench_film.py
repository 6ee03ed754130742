"""Jobs of frames (transfer.batch): frames per second on a 1080p clip, in this process and on
a local Dask cluster of 2 worker processes, in the same run; peak memory of the client and of
a worker; and the flicker of the temporal modes on the TUM frames of ../shared/data.

* ``film-<method>``: a 1920 x 1080 H.264 clip of two shots (``lut``, ``mkl``: 2 x 24 frames;
  ``neural``: 2 x 3 frames, matched at 512 px) graded into a ProRes .mov (the frames go
  through the work folder and are encoded in order by the client as they come), serial
  against ``workers=2``, each job in a fresh process (cluster start included). ``extra_info``:
  fps, peak memory (VmHWM) of the client and of the largest worker (MB), shots.
* ``flicker``: mean CIEDE2000 between consecutive outputs against the same between
  consecutive inputs (1.0: the output changes no more than the input), per frame alone and
  with ``temporal``; no timing (``benchmark.pedantic`` with one round, figures in extra_info).
"""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from skimage import data

from transfer import batch
from transfer.classical.lut import fit_lut
from transfer.io import read_image
from transfer.testing import make_clip

pytest.importorskip("av")
pytest.importorskip("distributed")

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"
FRAMES = {"lut": 24, "mkl": 24, "neural": 3}


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    folder = tmp_path_factory.mktemp("film")
    Image.fromarray(data.coffee()).save(folder / "ref.png")
    shots = [data.astronaut(), data.chelsea()]
    for method, n in FRAMES.items():
        make_clip(folder / f"{method}.mp4", shots, n, size=(1920, 1080))
    lut = fit_lut(data.astronaut(), [data.coffee()], method="mkl")
    np.save(folder / "look.npy", lut)
    return folder


#: One job in a process of its own, so that its peak memory is the job's (VmHWM).
JOB = """
import json, sys
import numpy as np
from transfer import batch
if __name__ == "__main__":
    folder, method, workers, out = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
    kwargs = ({"lut": np.load(f"{folder}/look.npy")} if method == "lut" else
              {"method": method, "refs": [f"{folder}/ref.png"], "temporal": 0.9,
               "options": {"max_size": 512} if method == "neural" else {}})
    r = batch.run(f"{folder}/{method}.mp4", out=out, workers=None if workers == "0" else int(workers),
                  overwrite=True, progress=False, **kwargs)
    print(json.dumps({"ok": r.ok, "frames": r.frames, "seconds": r.seconds, "shots": r.shots,
                      "client": r.memory["client"], "workers": list(r.memory["workers"].values())}))
"""


def _job(folder, method, workers, out):
    done = subprocess.run([sys.executable, "-c", JOB, str(folder), method, str(workers or 0), str(out)],
                          capture_output=True, text=True, check=True, timeout=1200)
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("workers", [None, 2], ids=["serial", "workers2"])
@pytest.mark.parametrize("method", ["lut", "mkl", "neural"])
def test_film_fps(benchmark, clips, method, workers, tmp_path):
    benchmark.group = f"film-{method}-1080p"
    benchmark.name = "serial" if workers is None else f"{workers} workers"
    reports = []
    benchmark.pedantic(lambda: reports.append(_job(clips, method, workers, tmp_path / "out.mov")),
                       rounds=1, warmup_rounds=0)
    report = reports[-1]
    assert report["ok"]
    benchmark.extra_info.update(
        fps=round(report["frames"] / report["seconds"], 2), frames=report["frames"],
        shots=report["shots"], client_mb=round(report["client"] / 2**20),
        worker_mb=round(max(report["workers"], default=0) / 2**20))


def _ciede(a, b):
    from skimage.color import deltaE_ciede2000, rgb2lab

    return float(deltaE_ciede2000(rgb2lab(a), rgb2lab(b)).mean())


def _consecutive(frames):
    return float(np.mean([_ciede(a, b) for a, b in zip(frames, frames[1:])]))


@pytest.mark.parametrize("temporal", [None, 0.9], ids=["alone", "temporal"])
@pytest.mark.parametrize("method", ["mkl", "neural"])
def test_flicker_tum(benchmark, method, temporal, tmp_path):
    if not (SHARED / "tum_freiburg").is_dir():
        pytest.skip("../shared/data/tum_freiburg not found")
    sources = sorted((SHARED / "tum_freiburg").glob("*.png"))
    ref = data.coffee()
    benchmark.group = "flicker-tum"
    benchmark.name = f"{method} {'temporal' if temporal else 'alone'}"
    reports = []
    benchmark.pedantic(lambda: reports.append(batch.run(
        sources, [ref], out=tmp_path, method=method, temporal=temporal, overwrite=True,
        progress=False)), rounds=1, warmup_rounds=0)
    assert reports[-1].ok
    inputs = [read_image(p) for p in sources]
    outputs = [read_image(tmp_path / p.name) for p in sources]
    before, after = _consecutive(inputs), _consecutive(outputs)
    benchmark.extra_info.update(inputs_de=round(before, 2), outputs_de=round(after, 2),
                                ratio=round(after / before, 3), shots=reports[-1].shots)
