import itertools

import numpy as np
import pytest

from transfer.errors import InputError
from transfer.neural.labels import edge_weights, potts_energy, potts_labels

from conftest import rng


def test_no_smoothing_is_the_per_pixel_best():
    costs = rng(0).random((3, 6, 7))
    np.testing.assert_array_equal(potts_labels(costs, np.zeros((6, 7)), strength=0), costs.argmin(0))


def test_alpha_expansion_reaches_the_optimum_on_small_grids():
    r = rng(1)
    for _ in range(8):
        costs = r.random((3, 3, 3))
        lum = r.random((3, 3))
        right, down = edge_weights(lum, 0.3)
        got = potts_energy(potts_labels(costs, lum, strength=0.3), costs, right, down)
        best = min(potts_energy(np.array(lab).reshape(3, 3), costs, right, down)
                   for lab in itertools.product(range(3), repeat=9))
        # alpha-expansion guarantees a factor 2 for Potts; on these small grids it is optimal
        assert got <= best + 1e-9


def test_smoothing_removes_isolated_noise_but_keeps_source_edges():
    h, w = 20, 30
    lum = np.zeros((h, w))
    lum[:, 15:] = 1.0  # the source has an edge down the middle
    truth = (np.arange(w) >= 15).astype(int)[None, :].repeat(h, 0)
    costs = np.stack([truth == 1, truth == 0]).astype(float) * 0.3
    noise = rng(2).random((h, w)) < 0.1
    costs[:, noise] = costs[::-1][:, noise]  # 10% of the pixels prefer the wrong reference
    labels = potts_labels(costs, lum, strength=0.2)
    assert (labels != truth).mean() < 0.01
    assert (costs.argmin(0) != truth).mean() > 0.05


def test_bad_shapes():
    with pytest.raises(InputError, match="must be"):
        potts_labels(np.zeros((2, 4, 4)), np.zeros((4, 5)))
