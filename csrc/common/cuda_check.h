// Error handling shared by the CUDA launchers: a failed CUDA call becomes a C++ exception
// whose message names the call; the host binding turns it into a Python RuntimeError.
#pragma once

#include <stdexcept>
#include <string>

#include <cuda_runtime.h>

#define TRANSFER_CUDA_CHECK(expr)                                                        \
  do {                                                                                   \
    cudaError_t err_ = (expr);                                                           \
    if (err_ != cudaSuccess)                                                             \
      throw std::runtime_error(std::string("CUDA error in ") + #expr + ": " +            \
                               cudaGetErrorString(err_));                                \
  } while (0)

namespace transfer::cuda {

constexpr int kThreads = 256;

// Blocks for a grid-stride loop over n items (capped: the loop covers the rest).
inline int grid_size(long long n) {
  const long long b = (n + kThreads - 1) / kThreads;
  return static_cast<int>(b < 4096 ? (b > 0 ? b : 1) : 4096);
}

}  // namespace transfer::cuda

#define TRANSFER_GRID_STRIDE(i, n)                                                       \
  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < (n);          \
       i += (long long)blockDim.x * gridDim.x)
