#include "histogram/histogram.h"

#include <vector>

#include "common/cuda_check.h"
#include "histogram/histogram_kernel.h"

namespace transfer::hist::cuda {
namespace {

struct Ranges {
  double lo[4];
  double inv[4];
};

// Each block accumulates into shared memory when the histogram fits, then adds its partial
// counts to global memory; integer atomics make the result exact and order-independent.
__global__ void histogram_kernel(const float* x, int64_t n, int channels, int bins, Ranges r,
                                 unsigned long long* counts, bool use_shared) {
  extern __shared__ unsigned int sh[];
  const int total = channels * bins;
  if (use_shared) {
    for (int j = threadIdx.x; j < total; j += blockDim.x) sh[j] = 0;
    __syncthreads();
  }
  TRANSFER_GRID_STRIDE(i, n) {
    for (int c = 0; c < channels; ++c) {
      const int b = c * bins + bin_index(x[i * channels + c], r.lo[c], r.inv[c], bins);
      if (use_shared)
        atomicAdd(&sh[b], 1u);
      else
        atomicAdd(&counts[b], 1ull);
    }
  }
  if (use_shared) {
    __syncthreads();
    for (int j = threadIdx.x; j < total; j += blockDim.x)
      if (sh[j]) atomicAdd(&counts[j], static_cast<unsigned long long>(sh[j]));
  }
}

}  // namespace

void histogram(const float* x, int64_t n, int channels, int bins, const double* lo,
               const double* hi, unsigned long long* counts) {
  if (channels < 1 || channels > 4) throw std::invalid_argument("histogram: 1 to 4 channels");
  Ranges r{};
  for (int c = 0; c < channels; ++c) {
    r.lo[c] = lo[c];
    r.inv[c] = bins / (hi[c] - lo[c]);
  }
  const size_t total = static_cast<size_t>(channels) * bins;
  TRANSFER_CUDA_CHECK(cudaMemset(counts, 0, total * sizeof(unsigned long long)));
  if (n == 0) return;
  const size_t shared_bytes = total * sizeof(unsigned int);
  const bool use_shared = shared_bytes <= 32 * 1024;
  histogram_kernel<<<transfer::cuda::grid_size(n), transfer::cuda::kThreads,
                     use_shared ? shared_bytes : 0>>>(x, n, channels, bins, r, counts,
                                                      use_shared);
  TRANSFER_CUDA_CHECK(cudaGetLastError());
  TRANSFER_CUDA_CHECK(cudaDeviceSynchronize());
}

}  // namespace transfer::hist::cuda
