"""A look kept as a 3-D LUT (transfer.classical.lut): applying it against computing the transfer again.

Group "lut-apply-<size>": `apply_lut` of a 33^3 LUT fitted by mkl and by idt, against the
direct mkl and idt (no grain reduction) on the same image; the LUT's result is what a second
frame of a shot gets without new statistics. Group "lut-fit-512": fitting the LUT
(`fit_lut`: the method's statistics plus the grid's 35,937 colors). Extra info: mean absolute
difference to the direct result, in 8-bit levels.
"""

import numpy as np
import pytest

import transfer
from transfer.classical.lut import apply_lut, fit_lut

SIZES = [512, 2048]
METHODS = {"mkl": {}, "idt": {"regrain": False}}


def measure(benchmark, fn, *args, **kwargs):
    return benchmark.pedantic(fn, args=args, kwargs=kwargs, rounds=5, iterations=1, warmup_rounds=1)


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("method", sorted(METHODS))
def test_apply_lut(benchmark, photos, method, size):
    src, ref = photos(size)
    lut = fit_lut(src, ref, method=method)
    benchmark.group = f"lut-apply-{size}"
    benchmark.name = f"transfer.apply_lut ({method} look, 33^3)"
    out = measure(benchmark, apply_lut, src, lut)
    direct = getattr(transfer, method)(src, ref, **METHODS[method])
    benchmark.extra_info["mean_levels_vs_direct"] = float(np.abs(out.astype(int) - direct.astype(int)).mean())


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("method", sorted(METHODS))
def test_direct(benchmark, photos, method, size):
    src, ref = photos(size)
    benchmark.group = f"lut-apply-{size}"
    benchmark.name = f"transfer.{method} (direct, statistics again)"
    measure(benchmark, getattr(transfer, method), src, ref, **METHODS[method])


@pytest.mark.parametrize("method", sorted(METHODS))
def test_fit_lut(benchmark, photos, method):
    src, ref = photos(512)
    benchmark.group = "lut-fit-512"
    benchmark.name = f"transfer.fit_lut ({method}, 33^3)"
    measure(benchmark, fit_lut, src, ref, method=method)


@pytest.mark.skipif(not transfer.cuda_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("size", SIZES)
def test_apply_lut_cuda(benchmark, photos, size):
    """The same kernel body on the GPU; times include the copies to and from the device."""
    src, ref = photos(size)
    lut = fit_lut(src, ref, method="mkl")
    benchmark.group = f"lut-apply-{size}"
    benchmark.name = "transfer.apply_lut (mkl look, 33^3, device='cuda')"
    out = measure(benchmark, apply_lut, src, lut, device="cuda")
    assert np.abs(out.astype(int) - apply_lut(src, lut).astype(int)).max() <= 1


# ---- frames of a shot ---------------------------------------------------------------------------

FRAME = (1080, 1920)


@pytest.fixture(scope="module")
def hd_frames(photos):
    """Two consecutive 1920 x 1080 frames (a pan of 8 pixels over the 2048 photo)."""
    src, ref = photos(2048)
    return [src[:FRAME[0], x:x + FRAME[1]].copy() for x in (0, 8)], ref


@pytest.mark.parametrize("method", ["mkl", "reinhard", "histogram", "idt"])
@pytest.mark.parametrize("setting", ["alone", "chained"])
def test_frame_of_a_shot(benchmark, hd_frames, method, setting):
    """A 1080p frame after the first of its shot: the method alone, against
    `transfer.classical.frames.classical_frame` with the first frame's look (its own fit, the grid's 65^3
    colors and the look applied on top)."""
    from transfer.classical.frames import classical_frame

    (first, frame), ref = hd_frames
    benchmark.group = f"classical-1080p-frames-{method}"
    if setting == "alone":
        benchmark.name = f"transfer.{method} (each frame alone)"
        measure(benchmark, getattr(transfer, method), frame, ref)
        return
    report = {}
    classical_frame(first, ref, method=method, report=report)
    benchmark.name = f"transfer.classical.frames.classical_frame ({method}, chained)"
    measure(benchmark, classical_frame, frame, ref, method=method, previous=report["frame"])
