// Host/device marker for per-pixel kernel bodies. A body written once with TRANSFER_HD is
// compiled by the host compiler for the OpenMP loops and by nvcc for the CUDA kernels, so the
// CPU tests exercise the exact arithmetic the GPU runs.
#pragma once

#if defined(__CUDACC__)
#define TRANSFER_HD __host__ __device__ __forceinline__
#else
#define TRANSFER_HD inline
#endif
