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

// Dot product with four independent partial sums, so the compiler can vectorise it without
// reassociating floating-point additions (-ffast-math is not used).
TRANSFER_HD float dot(const float* u, const float* v, int c) {
  float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
  int k = 0;
  for (; k + 4 <= c; k += 4) {
    s0 += u[k] * v[k];
    s1 += u[k + 1] * v[k + 1];
    s2 += u[k + 2] * v[k + 2];
    s3 += u[k + 3] * v[k + 3];
  }
  for (; k < c; ++k) s0 += u[k] * v[k];
  return (s0 + s1) + (s2 + s3);
}

TRANSFER_HD float patch_distance(const Maps& m, int ay, int ax, int by, int bx) {
  float sum = 0.0f;
  int count = 0;
  for (int dy = -m.half; dy <= m.half; ++dy) {
    const int ya = ay + dy, yb = by + dy;
    if (ya < 0 || ya >= m.ha || yb < 0 || yb >= m.hb) continue;
    for (int dx = -m.half; dx <= m.half; ++dx) {
      const int xa = ax + dx, xb = bx + dx;
      if (xa < 0 || xa >= m.wa || xb < 0 || xb >= m.wb) continue;
      sum += dot(m.a + (static_cast<int64_t>(ya) * m.wa + xa) * m.c,
                 m.b + (static_cast<int64_t>(yb) * m.wb + xb) * m.c, m.c);
      ++count;
    }
  }
  return count > 0 ? -sum / count : 0.0f;  // the centre offset is always inside both maps
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

// One jump-flood propagation step at pixel (y, x): the matches of the four neighbours at
// distance `step`, shifted back by the neighbour's offset, compete with the current match.
// Reads `cur`, writes `next` (double-buffered: independent of the order of the pixels).
TRANSFER_HD void propagate_px(const Maps& m, const int* cur, const float* cur_dist, int step,
                              int y, int x, int* next, float* next_dist) {
  const int64_t p = static_cast<int64_t>(y) * m.wa + x;
  int by = cur[2 * p], bx = cur[2 * p + 1];
  float best = cur_dist[p];
  const int dys[4] = {0, 0, -step, step}, dxs[4] = {-step, step, 0, 0};
  for (int k = 0; k < 4; ++k) {
    const int ny = y + dys[k], nx = x + dxs[k];
    if (ny < 0 || ny >= m.ha || nx < 0 || nx >= m.wa) continue;
    const int64_t n = static_cast<int64_t>(ny) * m.wa + nx;
    const int cy = clampi(cur[2 * n] - dys[k], 0, m.hb - 1);
    const int cx = clampi(cur[2 * n + 1] - dxs[k], 0, m.wb - 1);
    if (cy == by && cx == bx) continue;
    const float d = patch_distance(m, y, x, cy, cx);
    if (d < best) {
      best = d;
      by = cy;
      bx = cx;
    }
  }
  next[2 * p] = by;
  next[2 * p + 1] = bx;
  next_dist[p] = best;
}

// Random search at pixel (y, x): candidates drawn uniformly in windows of radius r, r/2,
// ..., 1 around the current best match. Reads and writes only pixel p's own entries.
TRANSFER_HD void random_search_px(const Maps& m, int* field, float* dist, int radius,
                                  uint64_t seed, uint32_t iteration, int y, int x) {
  const int64_t p = static_cast<int64_t>(y) * m.wa + x;
  int by = field[2 * p], bx = field[2 * p + 1];
  float best = dist[p];
  uint32_t draw = 0;
  for (int r = radius; r >= 1; r /= 2) {
    const int cy = clampi(by + uniform_offset(hash4(seed, iteration, p, draw), r), 0, m.hb - 1);
    const int cx = clampi(bx + uniform_offset(hash4(seed, iteration, p, draw + 1), r), 0, m.wb - 1);
    draw += 2;
    if (cy == by && cx == bx) continue;
    const float d = patch_distance(m, y, x, cy, cx);
    if (d < best) {
      best = d;
      by = cy;
      bx = cx;
    }
  }
  field[2 * p] = by;
  field[2 * p + 1] = bx;
  dist[p] = best;
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
