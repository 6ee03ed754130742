#include <utility>

#include <cub/device/device_radix_sort.cuh>
#include <cub/device/device_scan.cuh>

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

// evaluate_candidates, one candidate after the other, by the half-warp; lane 0 writes.
struct GroupEvaluator {
  Group g;

  __device__ bool operator()(const Maps& m, int y, int x, const Candidates& c, int* by, int* bx,
                             float* best) const {
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
  __device__ bool writes() const { return g.lane == 0; }
  __device__ void before_write() const { __syncwarp(g.mask); }
};

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
  GroupEvaluator evaluate{this_group()};
  const long long n = static_cast<long long>(m.ha) * m.wa;
  for (long long p = first_pixel(); p < n; p += pixel_stride()) {
    const int y = static_cast<int>(p / m.wa), x = static_cast<int>(p % m.wa);
    Candidates c;
    propagation_candidates(m, cur, stamp, step, prev_pass, y, x, &c);
    propagate_px(m, cur, cur_dist, stamp, c, pass, y, x, next, next_dist, next_stamp, evaluate);
  }
}

// random_search_px by the half-warp (in place: pixel p's own entries only).
__global__ void random_search_kernel(Maps m, int* field, float* dist, int* stamp, int radius,
                                     unsigned long long seed, unsigned int iteration, int pass) {
  GroupEvaluator evaluate{this_group()};
  const long long n = static_cast<long long>(m.ha) * m.wa;
  for (long long p = first_pixel(); p < n; p += pixel_stride()) {
    const int y = static_cast<int>(p / m.wa), x = static_cast<int>(p % m.wa);
    Candidates c;
    random_candidates(m, field, radius, seed, iteration, y, x, &c);
    random_search_px(m, field, dist, stamp, c, pass, y, x, evaluate);
  }
}

// Each pixel r of B: its match's index in A (the sort key) and how many share that match.
__global__ void match_keys_kernel(const int* field_ba, long long nb, int wa, int* keys, int* ids,
                                  int* counts) {
  TRANSFER_GRID_STRIDE(r, nb) {
    const int s = field_ba[2 * r] * wa + field_ba[2 * r + 1];
    keys[r] = s;
    ids[r] = static_cast<int>(r);
    atomicAdd(&counts[s + 1], 1);  // integer: the same counts in any order
  }
}

__global__ void vote_kernel(const float* values, int hb, int wb, int k, const int* field_ab, int ha,
                            int wa, const int* order, const int* start, int half, float wc,
                            float wbeta, float* scratch, float* out) {
  TRANSFER_GRID_STRIDE(p, static_cast<long long>(ha) * wa) {
    bds_vote_px(values, hb, wb, k, field_ab, ha, wa, order, start, half, wc, wbeta,
                static_cast<int>(p / wa), static_cast<int>(p % wa), scratch, out);
  }
}

int key_bits(long long n) {  // bits of the largest key, n - 1
  int bits = 1;
  while (bits < 31 && (1LL << bits) < n) ++bits;
  return bits;
}

}  // namespace

void bds_vote(const float* values, int hb, int wb, int k, const int* field_ab, int ha, int wa,
              const int* field_ba, int half, float beta, float* out) {
  const long long na = static_cast<long long>(ha) * wa, nb = static_cast<long long>(hb) * wb;
  const float wc = 1.0f / static_cast<float>(na), wbeta = beta / static_cast<float>(nb);
  // completeness_votes_px's index, by a stable radix sort of B's pixels on their match
  // (the same order as matches_by_target's counting sort), and the scratch sums
  const bool complete = wbeta > 0.0f;
  const long long ints = complete ? 4 * nb + 2 * (na + 1) : 0;
  size_t scan_bytes = 0, sort_bytes = 0;
  int bits = key_bits(na);
  if (complete) {
    TRANSFER_CUDA_CHECK(cub::DeviceScan::InclusiveSum(nullptr, scan_bytes, static_cast<int*>(nullptr),
                                                      static_cast<int*>(nullptr), static_cast<int>(na + 1)));
    TRANSFER_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(
        nullptr, sort_bytes, static_cast<const int*>(nullptr), static_cast<int*>(nullptr),
        static_cast<const int*>(nullptr), static_cast<int*>(nullptr), static_cast<int>(nb), 0, bits));
  }
  const size_t temp_bytes = ((scan_bytes > sort_bytes ? scan_bytes : sort_bytes) + 255) / 256 * 256;
  void* buffer = nullptr;  // cub's temporaries first, where cudaMalloc's alignment holds
  TRANSFER_CUDA_CHECK(cudaMalloc(&buffer, temp_bytes + na * k * sizeof(float) + ints * sizeof(int)));
  void* temp = buffer;
  float* scratch = reinterpret_cast<float*>(static_cast<char*>(buffer) + temp_bytes);
  int* keys = reinterpret_cast<int*>(scratch + na * k);
  int* ids = keys + nb;
  int* sorted_keys = ids + nb;
  int* order = sorted_keys + nb;
  int* counts = order + nb;
  int* start = counts + (na + 1);
  cudaError_t err = cudaSuccess;
  if (complete) {
    err = cudaMemset(counts, 0, (na + 1) * sizeof(int));
    if (err == cudaSuccess) {
      match_keys_kernel<<<grid_size(nb), kThreads>>>(field_ba, nb, wa, keys, ids, counts);
      err = cub::DeviceScan::InclusiveSum(temp, scan_bytes, counts, start, static_cast<int>(na + 1));
    }
    if (err == cudaSuccess)
      err = cub::DeviceRadixSort::SortPairs(temp, sort_bytes, keys, sorted_keys, ids, order,
                                            static_cast<int>(nb), 0, bits);
  }
  if (err == cudaSuccess) {
    vote_kernel<<<grid_size(na), kThreads>>>(values, hb, wb, k, field_ab, ha, wa,
                                             complete ? order : nullptr, complete ? start : nullptr,
                                             half, wc, wbeta, scratch, out);
    err = cudaGetLastError();
  }
  if (err == cudaSuccess) err = cudaDeviceSynchronize();
  cudaFree(buffer);
  TRANSFER_CUDA_CHECK(err);
}

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
