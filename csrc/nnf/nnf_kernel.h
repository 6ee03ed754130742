// Per-pixel bodies of deep-feature PatchMatch (He et al., after Barnes et al. 2009) and of
// bidirectional-similarity voting, shared by the OpenMP loops (nnf_cpu.cpp) and the CUDA
// kernels (nnf_cuda.cu).
//
// Feature maps are channel-last (H, W, C) float32, L2-normalised per pixel. A field maps every
// pixel of A to a pixel (y, x) of B, stored as int32 pairs. The patch distance between p in A
// and q in B is minus the mean dot product over the patch offsets that fall inside both maps.
#pragma once

#include <stdint.h>

#include "common/hd.h"

namespace transfer::nnf {

struct Maps {
  const float* a;
  const float* b;
  int ha, wa, hb, wb, c;
  int half;  // patch radius: patch_size = 2 * half + 1
};

// Dot products go into 16 independent partial sums, reduced once per patch: the compiler
// vectorises them (two AVX registers, or four SSE ones) without reassociating floating-point
// additions (no -ffast-math), and the independent chains hide the multiply-add latency.
constexpr int kLanes = 16;

TRANSFER_HD void dot_accumulate(const float* u, const float* v, int c, float* acc) {
  int k = 0;
  for (; k + kLanes <= c; k += kLanes)
    for (int j = 0; j < kLanes; ++j) acc[j] += u[k + j] * v[k + j];
  for (int j = 0; k < c; ++k, ++j) acc[j] += u[k] * v[k];
}

TRANSFER_HD float reduce_lanes(float* acc) {
  for (int width = kLanes / 2; width > 0; width /= 2)
    for (int j = 0; j < width; ++j) acc[j] += acc[j + width];
  return acc[0];
}

TRANSFER_HD float dot(const float* u, const float* v, int c) {
  float acc[kLanes] = {0.0f};
  dot_accumulate(u, v, c, acc);
  return reduce_lanes(acc);
}

// Asks the CPU to start loading the first row of the patch at (by, bx) of B (a no-op on the
// GPU): random-search candidates are scattered over B, and requesting all of a pixel's
// candidates before evaluating them overlaps their cache misses instead of queueing them.
TRANSFER_HD void prefetch_patch_row(const Maps& m, int by, int bx) {
#if !defined(__CUDA_ARCH__) && defined(__GNUC__)
  const int y = by - m.half < 0 ? 0 : by - m.half;
  const int x = bx - m.half < 0 ? 0 : bx - m.half;
  const char* row = reinterpret_cast<const char*>(m.b + (static_cast<int64_t>(y) * m.wb + x) * m.c);
  const int bytes = (2 * m.half + 1) * m.c * 4;
  for (int off = 0; off < bytes && off < 1024; off += 64) __builtin_prefetch(row + off);
#else
  (void)m;
  (void)by;
  (void)bx;
#endif
}

// Patch distance, abandoned early against `cutoff` (the distance to beat): features have
// unit length, so every remaining pixel pair adds at most 1 to the similarity sum; once even
// that cannot bring the patch below cutoff (with a margin far above rounding), a bound
// >= cutoff is returned instead of the exact value. Accepting or rejecting the candidate is
// the same as with the exact value, so results do not change, only the work. Adds the
// number of pixel pairs whose features were multiplied to *pairs (the work done).
TRANSFER_HD float patch_distance(const Maps& m, int ay, int ax, int by, int bx,
                                 float cutoff = 3.0e38f, int* pairs = nullptr) {
  // offsets inside both maps: dy in [dy0, dy1], dx in [dx0, dx1]
  int dy0 = -m.half, dy1 = m.half, dx0 = -m.half, dx1 = m.half;
  dy0 = dy0 < -ay ? -ay : dy0;
  dy0 = dy0 < -by ? -by : dy0;
  dy1 = dy1 > m.ha - 1 - ay ? m.ha - 1 - ay : dy1;
  dy1 = dy1 > m.hb - 1 - by ? m.hb - 1 - by : dy1;
  dx0 = dx0 < -ax ? -ax : dx0;
  dx0 = dx0 < -bx ? -bx : dx0;
  dx1 = dx1 > m.wa - 1 - ax ? m.wa - 1 - ax : dx1;
  dx1 = dx1 > m.wb - 1 - bx ? m.wb - 1 - bx : dx1;
  const int cols = dx1 - dx0 + 1, count = (dy1 - dy0 + 1) * cols;
  const int run = cols * m.c;  // one patch row, contiguous in memory on both sides
#if !defined(__CUDA_ARCH__) && defined(__GNUC__)
  // Candidates in B are scattered: ask for the start of each of the patch's rows in B before
  // the first dot product needs it, so the cache misses overlap instead of queueing (the
  // hardware prefetcher follows each row from there).
  for (int dy = dy0; dy <= dy1; ++dy) {
    const char* row = reinterpret_cast<const char*>(
        m.b + (static_cast<int64_t>(by + dy) * m.wb + bx + dx0) * m.c);
    for (int off = 0; off < run * 4 && off < 512; off += 64) __builtin_prefetch(row + off);
  }
#endif
  float acc[kLanes] = {0.0f};
  for (int dy = dy0; dy <= dy1; ++dy) {
    dot_accumulate(m.a + (static_cast<int64_t>(ay + dy) * m.wa + ax + dx0) * m.c,
                   m.b + (static_cast<int64_t>(by + dy) * m.wb + bx + dx0) * m.c, run, acc);
    if (pairs) *pairs += cols;
    if (dy < dy1) {
      float partial[kLanes];
      for (int j = 0; j < kLanes; ++j) partial[j] = acc[j];
      const float bound = -(reduce_lanes(partial) + static_cast<float>((dy1 - dy) * cols)) / count;
      if (bound > cutoff + 1e-5f) return bound;
    }
  }
  return -reduce_lanes(acc) / count;  // count >= 1: the centre is inside both maps
}

TRANSFER_HD int clampi(int v, int lo, int hi) { return v < lo ? lo : (v > hi ? hi : v); }

// Counter-based random numbers: a 32-bit value from (seed, iteration, pixel, draw), with no
// state, so every pixel draws the same numbers whatever the thread or the schedule.
TRANSFER_HD uint32_t hash4(uint64_t seed, uint32_t iteration, uint64_t pixel, uint32_t draw) {
  uint64_t z = seed * 0x9E3779B97F4A7C15ull + pixel * 0xBF58476D1CE4E5B9ull +
               (static_cast<uint64_t>(iteration) << 32 | draw) * 0x94D049BB133111EBull;
  z ^= z >> 30;
  z *= 0xBF58476D1CE4E5B9ull;
  z ^= z >> 27;
  z *= 0x94D049BB133111EBull;
  z ^= z >> 31;
  return static_cast<uint32_t>(z);
}

// Uniform integer in [-r, r].
TRANSFER_HD int uniform_offset(uint32_t bits, int r) {
  return static_cast<int>(bits % static_cast<uint32_t>(2 * r + 1)) - r;
}

// Evaluates candidate (cy, cx) for pixel (y, x) unless it is the current match (by, bx), and
// takes it if it is closer. Returns whether the match changed.
TRANSFER_HD bool try_candidate(const Maps& m, int y, int x, int cy, int cx, int* by, int* bx,
                               float* best, int* pairs) {
  if (cy == *by && cx == *bx) return false;
  const float d = patch_distance(m, y, x, cy, cx, *best, pairs);
  if (!(d < *best)) return false;
  *best = d;
  *by = cy;
  *bx = cx;
  return true;
}

// Each pixel carries a stamp: the last pass in which its match changed. A propagation
// candidate from neighbour n at step s is the same as in the same step of the previous
// iteration (pass prev_pass) if n's match has not changed since before that pass; it lost or
// won then, and the pixel's match has only improved since, so it is not evaluated again.

// One jump-flood propagation step at pixel (y, x): the matches of the four neighbours at
// distance `step`, shifted back by the neighbour's offset, compete with the current match.
// Reads `cur`, writes `next` (double-buffered: independent of the order of the pixels).
// Returns the number of pixel pairs whose features were multiplied (the work done).
TRANSFER_HD int propagate_px(const Maps& m, const int* cur, const float* cur_dist,
                             const int* stamp, int step, int pass, int prev_pass, int y, int x,
                             int* next, float* next_dist, int* next_stamp) {
  const int64_t p = static_cast<int64_t>(y) * m.wa + x;
  int by = cur[2 * p], bx = cur[2 * p + 1];
  float best = cur_dist[p];
  bool changed = false;
  int pairs = 0;
  const int dys[4] = {0, 0, -step, step}, dxs[4] = {-step, step, 0, 0};
  for (int k = 0; k < 4; ++k) {
    const int ny = y + dys[k], nx = x + dxs[k];
    if (ny < 0 || ny >= m.ha || nx < 0 || nx >= m.wa) continue;
    const int64_t n = static_cast<int64_t>(ny) * m.wa + nx;
    if (prev_pass >= 0 && stamp[n] < prev_pass) continue;  // tried in the previous iteration
    const int cy = clampi(cur[2 * n] - dys[k], 0, m.hb - 1);
    const int cx = clampi(cur[2 * n + 1] - dxs[k], 0, m.wb - 1);
    changed |= try_candidate(m, y, x, cy, cx, &by, &bx, &best, &pairs);
  }
  next[2 * p] = by;
  next[2 * p + 1] = bx;
  next_dist[p] = best;
  next_stamp[p] = changed ? pass : stamp[p];
  return pairs;
}

// Random search at pixel (y, x): candidates drawn uniformly in windows of radius r, r/2,
// ..., 1 around the pixel's match at the start of the search, as in Barnes et al. 2009
// (all drawn first, so that their memory is requested before the first is evaluated: about
// 20% faster at C >= 256). Reads and writes only pixel p's own entries. Returns the number of
// pixel pairs whose features were multiplied.
TRANSFER_HD int random_search_px(const Maps& m, int* field, float* dist, int* stamp, int radius,
                                 uint64_t seed, uint32_t iteration, int pass, int y, int x) {
  const int64_t p = static_cast<int64_t>(y) * m.wa + x;
  const int y0 = field[2 * p], x0 = field[2 * p + 1];
  int by = y0, bx = x0;
  float best = dist[p];
  bool changed = false;
  constexpr int kMaxDraws = 32;
  int cys[kMaxDraws], cxs[kMaxDraws], n = 0;
  uint32_t draw = 0;
  for (int r = radius; r >= 1 && n < kMaxDraws; r /= 2, draw += 2, ++n) {
    cys[n] = clampi(y0 + uniform_offset(hash4(seed, iteration, p, draw), r), 0, m.hb - 1);
    cxs[n] = clampi(x0 + uniform_offset(hash4(seed, iteration, p, draw + 1), r), 0, m.wb - 1);
    prefetch_patch_row(m, cys[n], cxs[n]);
  }
  int pairs = 0;
  for (int k = 0; k < n; ++k) changed |= try_candidate(m, y, x, cys[k], cxs[k], &by, &bx, &best, &pairs);
  field[2 * p] = by;
  field[2 * p + 1] = bx;
  dist[p] = best;
  if (changed) stamp[p] = pass;
  return pairs;
}

// Coherence half of BDS voting at target pixel (y, x) of A: each pixel p' of A in the patch
// around (y, x), matched to q', votes for B's value at q' + (y, x) - p'. Adds the votes to
// sum[0..k) and returns their number.
TRANSFER_HD int coherence_votes_px(const float* values, int hb, int wb, int k, const int* field_ab,
                                   int ha, int wa, int half, int y, int x, float* sum) {
  int count = 0;
  for (int dy = -half; dy <= half; ++dy) {
    const int py = y + dy;
    if (py < 0 || py >= ha) continue;
    for (int dx = -half; dx <= half; ++dx) {
      const int px = x + dx;
      if (px < 0 || px >= wa) continue;
      const int64_t pp = static_cast<int64_t>(py) * wa + px;
      const int ry = field_ab[2 * pp] - dy, rx = field_ab[2 * pp + 1] - dx;
      if (ry < 0 || ry >= hb || rx < 0 || rx >= wb) continue;
      const float* v = values + (static_cast<int64_t>(ry) * wb + rx) * k;
      for (int j = 0; j < k; ++j) sum[j] += v[j];
      ++count;
    }
  }
  return count;
}

}  // namespace transfer::nnf
