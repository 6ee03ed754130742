"""Classical transfers at 512x512 and 2048x2048: ours and, in the same run, the peers.

Groups are "<method>-<size>" so pytest-benchmark lines each of ours up against the peers'
implementations of the same method. Peers are optional (`pip install -e .[bench]`): a missing
one is skipped.
"""

import numpy as np
import pytest

import transfer

SIZES = [512, 2048]


def measure(benchmark, size, fn, *args, slow=False, **kwargs):
    """Median-friendly timing: automatic rounds for fast code, 3 rounds for slow code."""
    if slow or size >= 2048:
        return benchmark.pedantic(fn, args=args, kwargs=kwargs, rounds=3 if slow else 5,
                                  iterations=1, warmup_rounds=0 if slow else 1)
    return benchmark(fn, *args, **kwargs)


def as_float(img):
    return img.astype(np.float64) / 255


# ---- ours ---------------------------------------------------------------------------------------

OURS = {
    "reinhard": (transfer.reinhard, {}),
    "histogram": (transfer.histogram, {}),
    "mkl": (transfer.mkl, {}),
    "idt": (transfer.idt, {"regrain": False}),
    "idt-regrain": (transfer.idt, {"regrain": True}),
}


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("method", sorted(OURS))
def test_ours(benchmark, photos, method, size):
    src, ref = photos(size)
    fn, kwargs = OURS[method]
    benchmark.group = f"{method}-{size}"
    benchmark.name = f"transfer.{method}"
    out = measure(benchmark, size, fn, src, ref, **kwargs)
    assert out.shape == src.shape


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("regrain", [False, True])
def test_ours_idt_six_rotations(benchmark, photos, size, regrain):
    """Like for like with python-color-transfer's pdf_transfer, which uses 6 rotations."""
    src, ref = photos(size)
    benchmark.group = f"idt{'-regrain' if regrain else ''}-{size}"
    benchmark.name = "transfer.idt(iterations=6)"
    measure(benchmark, size, transfer.idt, src, ref, iterations=6, regrain=regrain)


# ---- peers --------------------------------------------------------------------------------------

COLOR_MATCHER = {"reinhard": "reinhard", "mkl": "mkl", "histogram": "hm", "hm-mvgd-hm": "hm-mvgd-hm"}


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("method", sorted(COLOR_MATCHER))
def test_color_matcher(benchmark, photos, method, size):
    cm = pytest.importorskip("color_matcher")
    src, ref = (as_float(x) for x in photos(size))  # float input: its reinhard is NaN on uint8
    benchmark.group = f"{method}-{size}"
    benchmark.name = f"color-matcher {COLOR_MATCHER[method]}"
    matcher = cm.ColorMatcher()
    measure(benchmark, size, matcher.transfer, src=src, ref=ref, method=COLOR_MATCHER[method],
            slow=size >= 2048)


@pytest.mark.parametrize("size", SIZES)
def test_skimage_match_histograms(benchmark, photos, size):
    from skimage.exposure import match_histograms

    src, ref = photos(size)
    benchmark.group = f"histogram-{size}"
    benchmark.name = "skimage match_histograms"
    measure(benchmark, size, match_histograms, src, ref, channel_axis=-1)


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("regrain", [False, True])
def test_python_color_transfer_pdf(benchmark, photos, size, regrain):
    pct = pytest.importorskip("python_color_transfer.color_transfer")
    src, ref = photos(size)
    benchmark.group = f"idt{'-regrain' if regrain else ''}-{size}"
    benchmark.name = "python-color-transfer pdf_transfer"
    ct = pct.ColorTransfer()
    measure(benchmark, size, ct.pdf_transfer, img_arr_in=src[..., ::-1].copy(),
            img_arr_ref=ref[..., ::-1].copy(), regrain=regrain, slow=True)


@pytest.mark.parametrize("size", SIZES)
def test_ours_hm_mkl_hm(benchmark, photos, size):
    """Our composition for color-matcher's hm-mvgd-hm group: histogram, MKL, histogram."""
    src, ref = photos(size)
    benchmark.group = f"hm-mvgd-hm-{size}"
    benchmark.name = "transfer histogram>mkl>histogram"

    def chain(s, r):
        return transfer.histogram(transfer.mkl(transfer.histogram(s, r), r), r)

    measure(benchmark, size, chain, src, ref)
