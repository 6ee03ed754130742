"""Region-by-region transfer (transfer.regional) against the global transfer it generalises.

Group "regions-<size>": mkl fitted per region for three regions of the source (a central
ellipse and the two sides of the background), each from its counterpart in the reference,
with the region maps feathered along the source's edges (guided filter, radius 1% of the
side: the default) and without feathering; against one global mkl on the same images. What
the regions add is the feathering (a guided filter per region) and one fit per region.
"""

import numpy as np
import pytest

import transfer
from transfer.classical.regions import regional

SIZES = [512, 2048]


def measure(benchmark, fn, *args, **kwargs):
    return benchmark.pedantic(fn, args=args, kwargs=kwargs, rounds=5, iterations=1, warmup_rounds=1)


def three_regions(size):
    y, x = np.mgrid[:size, :size] / size
    labels = np.where(x < 0.5, 1, 2).astype(np.int32)
    labels[(y - 0.55) ** 2 / 0.16 + (x - 0.5) ** 2 / 0.06 < 1] = 3
    return labels


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("feather", ["auto", 0])
def test_regional(benchmark, photos, size, feather):
    src, ref = photos(size)
    labels = three_regions(size)
    benchmark.group = f"regions-{size}"
    benchmark.name = f"transfer.regional (mkl, 3 regions, feather={feather})"
    out = measure(benchmark, regional, src, ref, labels, [labels], method="mkl", feather=feather)
    assert out.shape == src.shape


@pytest.mark.parametrize("size", SIZES)
def test_global(benchmark, photos, size):
    src, ref = photos(size)
    benchmark.group = f"regions-{size}"
    benchmark.name = "transfer.mkl (global)"
    measure(benchmark, transfer.mkl, src, ref)
