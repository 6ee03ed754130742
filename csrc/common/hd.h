// Host/device marker for per-pixel kernel bodies. A body written once with TRANSFER_HD is
// compiled by the host compiler for the OpenMP loops and by nvcc for the CUDA kernels, so the
// CPU tests exercise the exact arithmetic the GPU runs.
#pragma once

// Always inlined on the CPU too: a body called from a loop compiled for AVX2 (the
// target_clones of the hot loops) runs with AVX2 only where it is inlined into it.
#if defined(__GNUC__)
#define TRANSFER_FORCE_INLINE __attribute__((always_inline))
#else
#define TRANSFER_FORCE_INLINE
#endif

#if defined(__CUDACC__)
#define TRANSFER_HD __host__ __device__ __forceinline__
#else
#define TRANSFER_HD inline TRANSFER_FORCE_INLINE
#endif
