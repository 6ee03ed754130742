"""The CUDA module's device-pointer bindings (`*_ptr`), for pipelines whose data already lives
on the GPU (torch CUDA tensors' data_ptr()): each gives what its host-array twin gives."""

import numpy as np
import pytest

import transfer
from transfer import nnf
from transfer.classical.lut import fit_lut
from transfer.testing import conv_features

from conftest import rng

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.skipif(not (transfer.cuda_available() and torch.cuda.is_available()),
                                reason="needs a CUDA GPU and a CUDA build of torch")


def on_gpu(x):
    return torch.from_numpy(np.ascontiguousarray(x)).to("cuda")


def test_color_conversions_ptr():
    from transfer import _cuda

    rgb = rng().random((64, 48, 3)).astype(np.float32)
    d_rgb = on_gpu(rgb)
    d_lab, d_back = (torch.empty((64, 48, 3), device="cuda") for _ in range(2))
    _cuda.srgb_to_lab_ptr(d_rgb.data_ptr(), d_lab.data_ptr(), 64 * 48)
    _cuda.lab_to_srgb_ptr(d_lab.data_ptr(), d_back.data_ptr(), 64 * 48)
    lab = _cuda.srgb_to_lab(rgb)
    assert np.array_equal(d_lab.cpu().numpy(), lab)
    assert np.array_equal(d_back.cpu().numpy(), _cuda.lab_to_srgb(lab))


def test_apply_lut3d_ptr(astronaut, coffee):
    from transfer import _cuda

    lut = fit_lut(astronaut, coffee, method="reinhard", size=17)
    rgb = astronaut.reshape(-1, 3).astype(np.float32) / 255
    d_lut, d_rgb, d_out = on_gpu(lut), on_gpu(rgb), torch.empty((len(rgb), 3), device="cuda")  # kept alive
    _cuda.apply_lut3d_ptr(d_lut.data_ptr(), 17, d_rgb.data_ptr(), d_out.data_ptr(), len(rgb))
    assert np.array_equal(d_out.cpu().numpy(), _cuda.apply_lut3d(rgb, lut))


def test_patchmatch_ptr(astronaut, chelsea):
    from transfer import _cuda

    a = nnf.normalize(conv_features(astronaut, 32, (40, 44)))
    b = nnf.normalize(conv_features(chelsea, 32, (36, 50)))
    init = nnf.proportional_field((40, 44), (36, 50))
    field, dist = _cuda.patchmatch(a, b, init, 1, 5, 50, 7)
    d_a, d_b, d_field = on_gpu(a), on_gpu(b), on_gpu(init)
    d_dist = torch.empty((40, 44), device="cuda")
    _cuda.patchmatch_ptr(d_a.data_ptr(), d_b.data_ptr(), 40, 44, 36, 50, 32,
                         d_field.data_ptr(), d_dist.data_ptr(), 1, 5, 50, 7)
    assert np.array_equal(d_field.cpu().numpy(), field)
    assert np.array_equal(d_dist.cpu().numpy(), dist)


def test_bds_vote_ptr():
    from transfer import _cuda

    r = rng(12)
    ha, wa, hb, wb, k = 37, 29, 31, 41, 5
    values = r.random((hb, wb, k)).astype(np.float32)
    fab = np.stack([r.integers(0, hb, (ha, wa)), r.integers(0, wb, (ha, wa))], -1).astype(np.int32)
    fba = np.stack([r.integers(0, ha, (hb, wb)), r.integers(0, wa, (hb, wb))], -1).astype(np.int32)
    d_v, d_ab, d_ba = on_gpu(values), on_gpu(fab), on_gpu(fba)
    d_out = torch.empty((ha, wa, k), device="cuda")
    _cuda.bds_vote_ptr(d_v.data_ptr(), hb, wb, k, d_ab.data_ptr(), ha, wa, d_ba.data_ptr(), 1, 2.0,
                       d_out.data_ptr())
    assert np.array_equal(d_out.cpu().numpy(), _cuda.bds_vote(values, fab, fba, 1, 2.0))


def test_apply_affine_ptr(astronaut):
    from transfer import _cuda

    g = rng(13)
    models = np.concatenate([g.uniform(0.5, 1.5, (20, 24, 3)), g.uniform(-0.2, 0.2, (20, 24, 3))],
                            axis=2).astype(np.float32)
    src = astronaut.astype(np.float32) / 255
    h, w = src.shape[:2]
    d_m, d_src, d_out = on_gpu(models), on_gpu(src), torch.empty((h, w, 3), device="cuda")
    _cuda.apply_affine_ptr(d_m.data_ptr(), 20, 24, d_src.data_ptr(), h, w, d_out.data_ptr())
    assert np.array_equal(d_out.cpu().numpy(), _cuda.apply_affine(models, src))
