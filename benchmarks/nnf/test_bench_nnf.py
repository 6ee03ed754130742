"""PatchMatch against exact search on real feature maps, and the machine's matmul throughput.

Features: a fixed conv layer pair (transfer.testing.conv_features, luminance input) on
skimage's motorcycle stereo pair, the right view recolored (hue +0.35, saturation x0.6), at
each (C, H, W). Extra info per entry: the work of the distance evaluations (pixel pairs whose
C features were multiplied, counted by the kernel, so early-abandoned patches count only the
rows done), its GFLOP/s (2 C flops per pair), the mean similarity, and the ratio to exact's
mean similarity where exact ran.
"""

import numpy as np
import pytest
from skimage import data
from skimage.color import hsv2rgb, rgb2hsv

import transfer
from transfer import _C, nnf
from transfer.testing import conv_features

SHAPES = [(512, 64, 64), (256, 128, 128), (64, 256, 256), (64, 512, 512)]
EXACT_MAX_PAIRS = 1 << 28  # |A| |B| up to this: exact runs (about 4 s at 128 x 128 here)

_cache = {}


def features(shape):
    if shape not in _cache:
        c, h, w = shape
        left, right, _ = data.stereo_motorcycle()
        hsv = rgb2hsv(right)
        hsv[..., 0] = (hsv[..., 0] + 0.35) % 1.0
        hsv[..., 1] *= 0.6
        right = (hsv2rgb(hsv) * 255).round().astype(np.uint8)
        _cache[shape] = (conv_features(left, c, (h, w), gray=True),
                         conv_features(right, c, (h, w), gray=True))
    return _cache[shape]


def median_seconds(benchmark):
    """The entry's median time; NaN under --benchmark-disable (the code runs once, untimed),
    so that the derived figures stay empty instead of failing the smoke run."""
    return benchmark.stats.stats.median if benchmark.stats else float("nan")


def search_inputs(shape):
    """The kernels' inputs: both maps normalised channel-last, and the initial field."""
    _, h, w = shape
    a, b = features(shape)
    return nnf.normalize(a), nnf.normalize(b), nnf.proportional_field((h, w), (h, w))


_exact_similarity = {}
_cpu = {}  # shape -> (median seconds, pixel pairs multiplied) of the CPU entry


def shape_id(shape):
    return "x".join(map(str, shape))


@pytest.mark.parametrize("shape", SHAPES, ids=shape_id)
def test_exact(benchmark, shape):
    c, h, w = shape
    if (h * w) ** 2 > EXACT_MAX_PAIRS:
        pytest.skip("exact search does not fit this machine's time and memory at this size")
    a, b = features(shape)
    benchmark.group = f"nnf-{shape_id(shape)}"
    benchmark.name = "exact (torch matmul)"
    field = benchmark.pedantic(nnf.exact, args=(a, b), rounds=3 if h <= 64 else 1, iterations=1)
    _exact_similarity[shape] = float(field.similarity.mean())
    benchmark.extra_info["mean_similarity"] = _exact_similarity[shape]


@pytest.mark.parametrize("precision", ["float32", "bfloat16"])
@pytest.mark.parametrize("shape", SHAPES, ids=shape_id)
def test_patchmatch_cpu(benchmark, shape, precision):
    """The CPU kernel in float32, and on bfloat16 copies of the maps where the CPU has
    AVX512-BF16 (`nnf.patchmatch`'s precision='auto' there). The bfloat16 entry's work
    includes converting the maps and the float32 distances of the field found at the end;
    `mean_similarity` is of those float32 distances."""
    c, h, w = shape
    bf16 = precision == "bfloat16"
    if bf16 and not nnf.bfloat16_available():
        pytest.skip("needs a CPU with AVX512-BF16")
    fa, fb, init = search_inputs(shape)
    result = {}

    def run():
        field = init.copy()
        dist, pairs = _C.patchmatch(fa, fb, field, 1, 10, max(h, w), 0, bf16)
        result.update(dist=dist, pairs=pairs)

    benchmark.group = f"nnf-{shape_id(shape)}"
    benchmark.name = f"transfer patchmatch cpu{' bfloat16' if bf16 else ''} (10 iterations)"
    benchmark.pedantic(run, rounds=5 if h <= 256 else 3, iterations=1, warmup_rounds=1)
    median = median_seconds(benchmark)
    if not bf16:
        _cpu[shape] = (median, result["pairs"])
    similarity = float(-result["dist"].mean())
    info = benchmark.extra_info
    info["pairs_per_pixel"] = result["pairs"] / (h * w)
    info["gflops"] = result["pairs"] * c * 2 / median / 1e9
    info["b_read_gbs"] = result["pairs"] * c * (2 if bf16 else 4) / median / 1e9  # B's bytes per pair
    info["mean_similarity"] = similarity
    if shape in _exact_similarity:
        info["similarity_vs_exact"] = similarity / _exact_similarity[shape]


@pytest.mark.skipif(not transfer.cuda_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("shape", SHAPES, ids=shape_id)
def test_patchmatch_cuda(benchmark, shape):
    """The same search on the GPU (a half-warp per pixel), host arrays in and out.

    Times include the copies to and from the device, as `nnf.patchmatch(device="cuda")` does
    them. The CUDA kernels do not count their work; `gflops_at_cpu_pairs` uses the CPU entry's
    count on the same inputs (the same candidates, draws and early abandoning: the same work).
    """
    from transfer import _cuda

    c, h, w = shape
    fa, fb, init = search_inputs(shape)
    result = {}

    def run():
        _, result["dist"] = _cuda.patchmatch(fa, fb, init, 1, 10, max(h, w), 0)

    benchmark.group = f"nnf-{shape_id(shape)}"
    benchmark.name = "transfer patchmatch cuda (10 iterations)"
    benchmark.pedantic(run, rounds=5, iterations=1, warmup_rounds=1)
    median = median_seconds(benchmark)
    similarity = float(-result["dist"].mean())
    info = benchmark.extra_info
    info["mean_similarity"] = similarity
    if shape in _exact_similarity:
        info["similarity_vs_exact"] = similarity / _exact_similarity[shape]
    if shape in _cpu:
        cpu_median, pairs = _cpu[shape]
        info["speedup_vs_cpu"] = cpu_median / median
        info["gflops_at_cpu_pairs"] = pairs * c * 2 / median / 1e9


@pytest.mark.parametrize("shape", [s for s in SHAPES if s[0] == 64], ids=shape_id)
def test_random_row_reads(benchmark, shape):
    """The memory's yardstick for the distance evaluations: reading patch rows of B.

    A pixel pair costs 2 C flops and 4 C bytes of B (A's rows stay in cache), so the kernel
    cannot run faster than B's rows arrive. This reads 2^20 patch rows (three adjacent
    pixels) at uniformly random places of the same B, with no arithmetic but the sums of
    embedding_bag (eight rows per bag, so the output is small), on the same threads.
    """
    import torch
    import torch.nn.functional as F

    c, h, w = shape
    _, b = features(shape)
    table = torch.from_numpy(np.ascontiguousarray(nnf.normalize(b).transpose(1, 2, 0))).reshape(h * w, c)
    rows = 1 << 20
    start = torch.randint(0, h * w - 2, (rows,), generator=torch.Generator().manual_seed(0))
    pixels = (start[:, None] + torch.arange(3)).reshape(-1)
    offsets = torch.arange(0, pixels.numel(), 24)
    benchmark.group = f"memory-{shape_id(shape)}"
    benchmark.name = "random patch-row reads of B (embedding_bag, no products)"
    benchmark.pedantic(F.embedding_bag, args=(pixels, table, offsets), kwargs={"mode": "sum"},
                       rounds=7, iterations=1, warmup_rounds=1)
    gbs = pixels.numel() * c * 4 / median_seconds(benchmark) / 1e9
    benchmark.extra_info["b_read_gbs"] = gbs
    benchmark.extra_info["gflops_at_0.5_flop_per_byte"] = gbs / 2


def test_matmul_throughput(benchmark):
    """float32 matmul of the same threads, the yardstick for the distance evaluations."""
    import torch

    x = torch.randn(2048, 2048)
    benchmark.group = "matmul"
    benchmark.name = "torch matmul 2048^3 float32"
    benchmark.pedantic(lambda: x @ x, rounds=10, iterations=1, warmup_rounds=2)
    benchmark.extra_info["gflops"] = 2 * 2048**3 / median_seconds(benchmark) / 1e9
