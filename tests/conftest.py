import os
from pathlib import Path

import numpy as np
import pytest
from skimage import data

import transfer
from transfer import _C

ROOT = Path(__file__).resolve().parents[1]
# the project's shared photos: beside the checkout, or where TRANSFER_SHARED_DATA says
SHARED_DATA = Path(os.environ.get("TRANSFER_SHARED_DATA", ROOT.parent / "shared" / "data"))

#: Backends every kernel test runs on: the CPU always, CUDA where a GPU is usable.
BACKENDS = ["cpu"] + (["cuda"] if transfer.cuda_available() else [])


@pytest.fixture(scope="session")
def astronaut():
    return data.astronaut()[::2, ::2].copy()  # 256 x 256


@pytest.fixture(scope="session")
def coffee():
    return data.coffee()[::2, ::2].copy()  # 200 x 300


@pytest.fixture(scope="session")
def chelsea():
    return data.chelsea()[::2, ::2].copy()


@pytest.fixture(scope="session")
def shared_data():
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared test photos not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture
def threads():
    """Sets the OpenMP thread count of the native kernels, restoring it afterwards."""
    before = _C.get_num_threads()
    yield _C.set_num_threads
    _C.set_num_threads(before)


def rng(seed=0):
    return np.random.default_rng(seed)


requires_cuda = pytest.mark.skipif(not transfer.cuda_available(), reason="needs a CUDA GPU")
forced_cuda_build = os.environ.get("TRANSFER_FORCE_CUDA", "").lower() in ("1", "on", "true", "yes")
