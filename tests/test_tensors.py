"""Torch tensors in, tensors out (on the input's device); NumPy in, NumPy out."""

import numpy as np
import pytest

import transfer
from transfer.errors import InputError

torch = pytest.importorskip("torch")


@pytest.fixture(scope="module")
def pair(astronaut, coffee):
    return astronaut[::2, ::2].copy(), coffee[::2, ::2].copy()


def tensor(x, device="cpu"):
    return torch.from_numpy(np.ascontiguousarray(x)).to(device)


def assert_same(out, expected, device="cpu"):
    assert isinstance(out, torch.Tensor) and out.device.type == device
    assert out.dtype == tensor(expected).dtype
    np.testing.assert_array_equal(out.cpu().numpy(), expected)


@pytest.mark.parametrize("method", ["reinhard", "histogram", "mkl", "idt"])
def test_classical_methods(pair, method):
    src, ref = pair
    fn = getattr(transfer, method)
    expected = fn(src, ref)
    assert isinstance(expected, np.ndarray)
    assert_same(fn(tensor(src), tensor(ref)), expected)
    # float tensors, several references as a list of tensors
    f, r = src.astype(np.float32) / 255, ref.astype(np.float32) / 255
    assert_same(fn(tensor(f), [tensor(r), tensor(r[::-1].copy())]), fn(f, [r, r[::-1].copy()]))


def test_luts_regions_and_conversions(pair):
    src, ref = pair
    lut = transfer.fit_lut(src, ref)
    assert_same(transfer.fit_lut(tensor(src), tensor(ref)), lut)
    assert_same(transfer.apply_lut(tensor(src), tensor(lut)), transfer.apply_lut(src, lut))
    mask = np.zeros(src.shape[:2], bool)
    mask[:, : src.shape[1] // 2] = True
    assert_same(transfer.regional(tensor(src), [tensor(ref), tensor(ref[::-1].copy())], tensor(mask)),
                transfer.regional(src, [ref, ref[::-1].copy()], mask))
    f = src.astype(np.float32) / 255
    lab = transfer.rgb2lab(f)
    assert_same(transfer.rgb2lab(tensor(f)), lab)
    assert_same(transfer.lab2rgb(tensor(lab)), transfer.lab2rgb(lab))


def test_deep_methods(pair):
    src, ref = pair
    small, ref_small = src[::2, ::2].copy(), ref[::2, ::2].copy()
    kw = dict(progress=False, levels=(5, 4))
    assert_same(transfer.neural_transfer(tensor(small), tensor(ref_small), **kw),
                transfer.neural_transfer(small, ref_small, **kw))
    gray = small[..., 0].copy()
    assert_same(transfer.colorize(tensor(gray), tensor(ref_small), method="welsh"),
                transfer.colorize(gray, ref_small, method="welsh"))


def test_tensors_that_numpy_cannot_hold_directly(pair):
    """A tensor that needs grad is read detached; bfloat16 is read as float32."""
    src, ref = pair
    f = torch.tensor(src.astype(np.float32) / 255, requires_grad=True)
    out = transfer.reinhard(f, tensor(ref))
    assert isinstance(out, torch.Tensor) and not out.requires_grad
    half = transfer.reinhard(f.detach().to(torch.bfloat16), tensor(ref))
    assert half.dtype == torch.float32
    np.testing.assert_allclose(half.numpy(), out.numpy(), atol=0.02)


def test_bad_tensors_get_the_arrays_messages(pair):
    src, ref = pair
    with pytest.raises(InputError, match="src is empty"):
        transfer.reinhard(tensor(src[:0]), tensor(ref))
    with pytest.raises(TypeError, match="dtype int64"):
        transfer.reinhard(tensor(src.astype(np.int64)), tensor(ref))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA build of torch and a GPU")
def test_cuda_tensors_come_back_on_the_gpu(pair):
    src, ref = pair
    assert_same(transfer.mkl(tensor(src, "cuda"), tensor(ref, "cuda")), transfer.mkl(src, ref), device="cuda")
    small, ref_small = src[::2, ::2].copy(), ref[::2, ::2].copy()
    out = transfer.neural_transfer(tensor(small, "cuda"), tensor(ref_small, "cuda"), progress=False)
    assert out.device.type == "cuda" and out.shape == small.shape
