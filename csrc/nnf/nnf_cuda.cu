#include <utility>

#include "common/cuda_check.h"
#include "nnf/nnf.h"

namespace transfer::nnf::cuda {
namespace {

using transfer::cuda::grid_size;
using transfer::cuda::kThreads;

__global__ void distances_kernel(Maps m, const int* field, float* dist) {
  const long long n = static_cast<long long>(m.ha) * m.wa;
  TRANSFER_GRID_STRIDE(p, n) {
    const int y = static_cast<int>(p / m.wa), x = static_cast<int>(p % m.wa);
    dist[p] = patch_distance(m, y, x, field[2 * p], field[2 * p + 1]);
  }
}

__global__ void propagate_kernel(Maps m, const int* cur, const float* cur_dist, int step, int* next,
                                 float* next_dist) {
  const long long n = static_cast<long long>(m.ha) * m.wa;
  TRANSFER_GRID_STRIDE(p, n) {
    propagate_px(m, cur, cur_dist, step, static_cast<int>(p / m.wa), static_cast<int>(p % m.wa),
                 next, next_dist);
  }
}

__global__ void random_search_kernel(Maps m, int* field, float* dist, int radius,
                                     unsigned long long seed, unsigned int iteration) {
  const long long n = static_cast<long long>(m.ha) * m.wa;
  TRANSFER_GRID_STRIDE(p, n) {
    random_search_px(m, field, dist, radius, seed, iteration, static_cast<int>(p / m.wa),
                     static_cast<int>(p % m.wa));
  }
}

}  // namespace

void field_distances(const Maps& m, const int* field, float* dist) {
  const long long n = static_cast<long long>(m.ha) * m.wa;
  distances_kernel<<<grid_size(n), kThreads>>>(m, field, dist);
  TRANSFER_CUDA_CHECK(cudaGetLastError());
  TRANSFER_CUDA_CHECK(cudaDeviceSynchronize());
}

void patchmatch(const Maps& m, int* field, float* dist, int iterations, int radius,
                uint64_t seed) {
  const long long n = static_cast<long long>(m.ha) * m.wa;
  int* other_field = nullptr;
  float* other_dist = nullptr;
  TRANSFER_CUDA_CHECK(cudaMalloc(&other_field, 2 * n * sizeof(int)));
  if (cudaMalloc(&other_dist, n * sizeof(float)) != cudaSuccess) {
    cudaFree(other_field);
    throw std::runtime_error("CUDA error: out of device memory for the PatchMatch buffers");
  }
  int* cur = field;
  float* cur_dist = dist;
  int* nxt = other_field;
  float* nxt_dist = other_dist;
  const int longest = m.ha > m.wa ? m.ha : m.wa;
  distances_kernel<<<grid_size(n), kThreads>>>(m, cur, cur_dist);
  for (int it = 0; it < iterations; ++it) {
    for (int step : kJumpSteps) {
      if (step >= longest) continue;
      propagate_kernel<<<grid_size(n), kThreads>>>(m, cur, cur_dist, step, nxt, nxt_dist);
      std::swap(cur, nxt);
      std::swap(cur_dist, nxt_dist);
    }
    random_search_kernel<<<grid_size(n), kThreads>>>(m, cur, cur_dist, radius, seed,
                                                      static_cast<unsigned int>(it));
  }
  cudaError_t err = cudaGetLastError();
  if (err == cudaSuccess && cur != field) {
    err = cudaMemcpy(field, cur, 2 * n * sizeof(int), cudaMemcpyDeviceToDevice);
    if (err == cudaSuccess)
      err = cudaMemcpy(dist, cur_dist, n * sizeof(float), cudaMemcpyDeviceToDevice);
  }
  if (err == cudaSuccess) err = cudaDeviceSynchronize();
  cudaFree(other_field);
  cudaFree(other_dist);
  TRANSFER_CUDA_CHECK(err);
}

}  // namespace transfer::nnf::cuda
