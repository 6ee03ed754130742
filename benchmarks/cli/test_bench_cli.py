"""The command line as a whole process: start, read, transfer, write.

* ``cli-<method>-2048``: ``transfer -m mkl|reinhard`` against color-matcher's own command
  line on the same 2048 x 2048 PNGs (target: ours >= 3x faster).
* ``neural-busy``: the neural transfer at 512 px on a machine kept busy by two spinning
  processes, with OpenMP's waiting threads spinning (ACTIVE) or sleeping (PASSIVE, the
  default); and the same two without the load, to show what the default costs there.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


def _env(**extra):
    env = {**os.environ, "PYTHONPATH": str(ROOT), **extra}
    return {k: v for k, v in env.items() if v is not None}


@pytest.fixture(scope="module")
def pngs(tmp_path_factory, photos):
    folder = tmp_path_factory.mktemp("cli")
    src, ref = photos(2048)
    Image.fromarray(src).save(folder / "src.png")
    Image.fromarray(ref).save(folder / "ref.png")
    return folder


def _run(args, env=None):
    subprocess.run(args, check=True, capture_output=True, env=env or _env(), timeout=600)


def _run_color_matcher(args, out: Path):
    out.unlink(missing_ok=True)
    subprocess.run(args, capture_output=True, timeout=600)  # exits 1 after a success too (0.6.0)
    assert out.exists(), "color-matcher wrote no result"


@pytest.mark.parametrize("method", ["mkl", "reinhard"])
def test_transfer_cli(benchmark, pngs, method):
    benchmark.group = f"cli-{method}-2048"
    benchmark.name = f"transfer -m {method}"
    args = [sys.executable, "-m", "transfer", "-s", pngs / "src.png", "-r", pngs / "ref.png",
            "-m", method, "-o", pngs / f"ours_{method}.png", "--overwrite", "-q"]
    benchmark.pedantic(_run, args=(args,), rounds=5, warmup_rounds=1)


@pytest.mark.parametrize("method", ["mkl", "reinhard"])
def test_color_matcher_cli(benchmark, pngs, method):
    exe = shutil.which("color-matcher", path=str(Path(sys.executable).parent))
    if exe is None:
        pytest.skip("color-matcher is not installed (pip install -e '.[bench]')")
    benchmark.group = f"cli-{method}-2048"
    benchmark.name = f"color-matcher -m {method}"
    args = [exe, "-s", pngs / "src.png", "-r", pngs / "ref.png", "-m", method]
    benchmark.pedantic(_run_color_matcher, args=(args, pngs / f"src_{method}.png"), rounds=5,
                       warmup_rounds=1)


@pytest.fixture(params=["idle", "busy"])
def load(request):
    """Two processes spinning on the CPU (the cores this machine has) while the test runs."""
    spinners = []
    if request.param == "busy":
        spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    yield request.param
    for p in spinners:
        p.kill()
        p.wait()


@pytest.mark.parametrize("policy", ["ACTIVE", "PASSIVE", None])
def test_neural_under_load(benchmark, tmp_path, load, policy):
    """How OpenMP's waiting threads wait: spinning (ACTIVE), sleeping at once (PASSIVE), or the
    package's default (None: GOMP_SPINCOUNT=3000, a few microseconds of spinning)."""
    benchmark.group = f"neural-512-{load}"
    benchmark.name = f"OMP_WAIT_POLICY={policy}" if policy else "default (GOMP_SPINCOUNT=3000)"
    args = [sys.executable, "-m", "transfer", "-s", EXAMPLES / "astronaut.jpg", "-r", EXAMPLES / "coffee.jpg",
            "-o", tmp_path / "out.png", "--overwrite", "-q"]
    env = _env(OMP_WAIT_POLICY=policy, GOMP_SPINCOUNT=None)
    benchmark.pedantic(_run, args=(args, env), rounds=3)
