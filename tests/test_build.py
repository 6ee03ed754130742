import numpy as np
import pytest

import transfer
from transfer import _native
from transfer.errors import CudaUnavailableError

from conftest import forced_cuda_build


def test_cpu_module_is_built():
    assert _native._C.get_num_threads() >= 1


@pytest.mark.skipif(not forced_cuda_build, reason="TRANSFER_FORCE_CUDA is not set for this build")
def test_forced_cuda_build_has_cuda_module():
    # The test set-up forces the CUDA build where nvcc exists: the CUDA sources compiled.
    assert transfer.cuda_built()
    assert _native._cuda.device_count() >= 0


def test_cuda_available_is_consistent():
    assert transfer.cuda_available() == (transfer.cuda_built() and _native._cuda.device_count() > 0)


@pytest.mark.skipif(transfer.cuda_available(), reason="a CUDA GPU is present")
def test_cuda_request_without_gpu_names_the_operation():
    with pytest.raises(CudaUnavailableError, match=r"rgb2lab on device='cuda'"):
        transfer.rgb2lab(np.zeros((2, 2, 3), np.float32), device="cuda")


def test_unknown_device():
    with pytest.raises(ValueError, match="unknown device 'tpu'"):
        transfer.rgb2lab(np.zeros((2, 2, 3), np.float32), device="tpu")
