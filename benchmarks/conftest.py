import os
import platform

import numpy as np
import pytest
from skimage import data
from skimage.transform import resize


def _photo(name, size):
    img = getattr(data, name)()
    return (resize(img, (size, size), anti_aliasing=True) * 255).round().astype(np.uint8)


@pytest.fixture(scope="session")
def photos():
    """Source (astronaut) and reference (coffee) at each benchmark size, uint8 RGB."""
    cache = {}

    def get(size):
        if size not in cache:
            cache[size] = (_photo("astronaut", size), _photo("coffee", size))
        return cache[size]

    return get


def pytest_benchmark_update_machine_info(config, machine_info):
    import transfer

    machine_info["transfer_threads"] = transfer._C.get_num_threads()
    machine_info["cpu_count"] = os.cpu_count()
    machine_info["platform"] = platform.platform()
