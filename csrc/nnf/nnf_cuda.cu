#include <utility>

#include "common/cuda_check.h"
#include "nnf/nnf.h"

namespace transfer::nnf::cuda {
namespace {

using transfer::cuda::grid_size;
using transfer::cuda::kThreads;

// A pixel per half-warp: its 16 lanes hold the 16 partial sums of Accumulator (lane j takes
// the elements j, j + 16, ... of a patch row, then the same 8-wide block and tail as the
// portable add_products_batch) and reduce them with the same tree, so every distance, and
// so the field, is the per-pixel body's. A thread per pixel instead made each load of a warp
// touch 32 scattered cache lines and ran a patch's multiply-adds one after the other.
// Candidates are drawn by the shared bodies (each lane draws the same list) and evaluated
// one by one: the same decisions as evaluate_candidates' groups (see there).
constexpr int kGroup = kLanes;
static_assert(kGroup == 16 && kThreads % 32 == 0, "two pixels per warp");

struct Group {
  unsigned mask;  // the half-warp's lanes
  int lane;       // 0..15
};

__device__ Group this_group() {
  const int t = threadIdx.x & 31;
  return {0xFFFFu << (t & 16), t & 15};
}

// First pixel of this half-warp, and the stride of the grid-stride loop over pixels.
__device__ long long first_pixel() { return (blockIdx.x * (long long)blockDim.x + threadIdx.x) / kGroup; }
__device__ long long pixel_stride() { return (long long)gridDim.x * blockDim.x / kGroup; }

int group_grid(long long pixels) { return grid_size(pixels * kGroup); }

// This lane's share of add_products_batch's lanes += u . x over n floats, in its order.
__device__ float add_products_lane(const float* u, const float* x, int n, int lane, float v) {
  const int n16 = n - n % kLanes;
  for (int k = lane; k < n16; k += kLanes) v += u[k] * x[k];
  int k = n16;
  if (n - k >= 8) {
    if (lane < 8) v += u[k + lane] * x[k + lane];
    k += 8;
  }
  if (lane < n - k) v += u[k + lane] * x[k + lane];
  return v;
}

// Accumulator::sum's tree (s[j] += s[j + width], width 8, 4, 2, 1), the total to every lane.
__device__ float lanes_sum(float v, Group g) {
  for (int width = kLanes / 2; width > 0; width /= 2) v += __shfl_down_sync(g.mask, v, width, kGroup);
  return __shfl_sync(g.mask, v, 0, kGroup);
}

// patch_distance, by the half-warp.
__device__ float patch_distance_group(const Maps& m, int ay, int ax, int by, int bx, float cutoff,
                                      Group g) {
  const Window w = patch_window(m, ay, ax, by, bx);
  const int cols = w.cols(), count = w.count(), run = cols * m.c;
  float v = 0.0f;
  for (int dy = w.dy0;; ++dy) {
    v = add_products_lane(feature_at(m.a, m.wa, m.c, ay + dy, ax + w.dx0),
                          feature_at(m.b, m.wb, m.c, by + dy, bx + w.dx0), run, g.lane, v);
    const float sum = lanes_sum(v, g);
    if (dy == w.dy1) return -sum / count;
    const float bound = distance_bound(sum, (w.dy1 - dy) * cols, count);
    if (cannot_win(bound, cutoff)) return bound;
  }
}

// evaluate_candidates, one candidate after the other, by the half-warp.
__device__ bool evaluate_group(const Maps& m, int y, int x, const Candidates& c, int* by, int* bx,
                               float* best, Group g) {
  bool changed = false;
  for (int k = 0; k < c.n; ++k) {
    if (c.cy[k] == *by && c.cx[k] == *bx) continue;
    const float d = patch_distance_group(m, y, x, c.cy[k], c.cx[k], *best, g);
    if (!(d < *best)) continue;
    *best = d;
    *by = c.cy[k];
    *bx = c.cx[k];
    changed = true;
  }
  return changed;
}

__global__ void distances_kernel(Maps m, const int* field, float* dist) {
  const Group g = this_group();
  const long long n = static_cast<long long>(m.ha) * m.wa;
  for (long long p = first_pixel(); p < n; p += pixel_stride()) {
    const int y = static_cast<int>(p / m.wa), x = static_cast<int>(p % m.wa);
    const float d = patch_distance_group(m, y, x, field[2 * p], field[2 * p + 1], 3.0e38f, g);
    if (g.lane == 0) dist[p] = d;
  }
}

// propagate_px by the half-warp (double-buffered: reads cur, writes next).
__global__ void propagate_kernel(Maps m, const int* cur, const float* cur_dist, const int* stamp,
                                 int step, int pass, int prev_pass, int* next, float* next_dist,
                                 int* next_stamp) {
  const Group g = this_group();
  const long long n = static_cast<long long>(m.ha) * m.wa;
  for (long long p = first_pixel(); p < n; p += pixel_stride()) {
    const int y = static_cast<int>(p / m.wa), x = static_cast<int>(p % m.wa);
    Candidates c;
    propagation_candidates(m, cur, stamp, step, prev_pass, y, x, &c);
    int by = cur[2 * p], bx = cur[2 * p + 1];
    float best = cur_dist[p];
    const bool changed = evaluate_group(m, y, x, c, &by, &bx, &best, g);
    if (g.lane == 0) {
      next[2 * p] = by;
      next[2 * p + 1] = bx;
      next_dist[p] = best;
      next_stamp[p] = changed ? pass : stamp[p];
    }
  }
}

// random_search_px by the half-warp (in place: pixel p's own entries only).
__global__ void random_search_kernel(Maps m, int* field, float* dist, int* stamp, int radius,
                                     unsigned long long seed, unsigned int iteration, int pass) {
  const Group g = this_group();
  const long long n = static_cast<long long>(m.ha) * m.wa;
  for (long long p = first_pixel(); p < n; p += pixel_stride()) {
    const int y = static_cast<int>(p / m.wa), x = static_cast<int>(p % m.wa);
    Candidates c;
    random_candidates(m, field, radius, seed, iteration, y, x, &c);
    int by = field[2 * p], bx = field[2 * p + 1];
    float best = dist[p];
    const bool changed = evaluate_group(m, y, x, c, &by, &bx, &best, g);
    __syncwarp(g.mask);  // every lane has read pixel p's entries before lane 0 writes them
    if (g.lane == 0) {
      field[2 * p] = by;
      field[2 * p + 1] = bx;
      dist[p] = best;
      if (changed) stamp[p] = pass;
    }
  }
}

}  // namespace

void field_distances(const Maps& m, const int* field, float* dist) {
  const long long n = static_cast<long long>(m.ha) * m.wa;
  distances_kernel<<<group_grid(n), kThreads>>>(m, field, dist);
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
  distances_kernel<<<group_grid(n), kThreads>>>(m, cur, cur_dist);
  for (int it = 0; it < iterations && err == cudaSuccess; ++it) {
    int pass = it * passes;
    for (int step : kJumpSteps) {
      if (step >= longest) continue;
      const int prev_pass = it > 0 ? pass - passes : -1;
      propagate_kernel<<<group_grid(n), kThreads>>>(m, cur, cur_dist, cur_stamp, step, pass,
                                                    prev_pass, nxt, nxt_dist, nxt_stamp);
      std::swap(cur, nxt);
      std::swap(cur_dist, nxt_dist);
      std::swap(cur_stamp, nxt_stamp);
      ++pass;
    }
    random_search_kernel<<<group_grid(n), kThreads>>>(m, cur, cur_dist, cur_stamp, radius, seed,
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
