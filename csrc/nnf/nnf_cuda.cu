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

__global__ void propagate_kernel(Maps m, const int* cur, const float* cur_dist, const int* stamp,
                                 int step, int pass, int prev_pass, int* next, float* next_dist,
                                 int* next_stamp) {
  const long long n = static_cast<long long>(m.ha) * m.wa;
  TRANSFER_GRID_STRIDE(p, n) {
    const int y = static_cast<int>(p / m.wa), x = static_cast<int>(p % m.wa);
    Candidates c;
    propagation_candidates(m, cur, stamp, step, prev_pass, y, x, &c);
    propagate_px(m, cur, cur_dist, stamp, c, pass, y, x, next, next_dist, next_stamp);
  }
}

__global__ void random_search_kernel(Maps m, int* field, float* dist, int* stamp, int radius,
                                     unsigned long long seed, unsigned int iteration, int pass) {
  const long long n = static_cast<long long>(m.ha) * m.wa;
  TRANSFER_GRID_STRIDE(p, n) {
    const int y = static_cast<int>(p / m.wa), x = static_cast<int>(p % m.wa);
    Candidates c;
    random_candidates(m, field, radius, seed, iteration, y, x, &c);
    random_search_px(m, field, dist, stamp, c, pass, y, x);
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
  // one allocation: the second field, both distance buffers' partner and both stamp buffers
  void* scratch = nullptr;
  TRANSFER_CUDA_CHECK(cudaMalloc(&scratch, n * (2 * sizeof(int) + sizeof(float) + 2 * sizeof(int))));
  int* other_field = static_cast<int*>(scratch);
  float* other_dist = reinterpret_cast<float*>(other_field + 2 * n);
  int* stamps = reinterpret_cast<int*>(other_dist + n);
  int* other_stamps = stamps + n;
  cudaError_t err = cudaMemset(stamps, 0xFF, 2 * n * sizeof(int));  // -1: never changed
  int* cur = field;
  float* cur_dist = dist;
  int* cur_stamp = stamps;
  int* nxt = other_field;
  float* nxt_dist = other_dist;
  int* nxt_stamp = other_stamps;
  const int longest = m.ha > m.wa ? m.ha : m.wa;
  int steps = 0;
  for (int step : kJumpSteps) steps += step < longest ? 1 : 0;
  const int passes = steps + 1;
  distances_kernel<<<grid_size(n), kThreads>>>(m, cur, cur_dist);
  for (int it = 0; it < iterations && err == cudaSuccess; ++it) {
    int pass = it * passes;
    for (int step : kJumpSteps) {
      if (step >= longest) continue;
      const int prev_pass = it > 0 ? pass - passes : -1;
      propagate_kernel<<<grid_size(n), kThreads>>>(m, cur, cur_dist, cur_stamp, step, pass,
                                                    prev_pass, nxt, nxt_dist, nxt_stamp);
      std::swap(cur, nxt);
      std::swap(cur_dist, nxt_dist);
      std::swap(cur_stamp, nxt_stamp);
      ++pass;
    }
    random_search_kernel<<<grid_size(n), kThreads>>>(m, cur, cur_dist, cur_stamp, radius, seed,
                                                      static_cast<unsigned int>(it), pass);
  }
  if (err == cudaSuccess) err = cudaGetLastError();
  if (err == cudaSuccess && cur != field) {
    err = cudaMemcpy(field, cur, 2 * n * sizeof(int), cudaMemcpyDeviceToDevice);
    if (err == cudaSuccess)
      err = cudaMemcpy(dist, cur_dist, n * sizeof(float), cudaMemcpyDeviceToDevice);
  }
  if (err == cudaSuccess) err = cudaDeviceSynchronize();
  cudaFree(scratch);
  TRANSFER_CUDA_CHECK(err);
}

}  // namespace transfer::nnf::cuda
