#include "nnf/nnf.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "common/parallel.h"

namespace transfer::nnf {
namespace {

// The per-pixel loops, cloned for x86-64-v3 (AVX2 + FMA) and the baseline, picked at load
// time: the patch distance is the hot loop and its dot products vectorise twice as wide.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define TRANSFER_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define TRANSFER_CLONES
#endif

TRANSFER_CLONES void distances_rows(const Maps& m, const int* field, float* dist) {
  parallel_for(m.ha, [&](int64_t y) {
    for (int x = 0; x < m.wa; ++x) {
      const int64_t p = y * m.wa + x;
      dist[p] = patch_distance(m, static_cast<int>(y), x, field[2 * p], field[2 * p + 1]);
    }
  });
}

TRANSFER_CLONES void propagate_rows(const Maps& m, const int* cur, const float* cur_dist, int step,
                                    int* next, float* next_dist) {
  parallel_for(m.ha, [&](int64_t y) {
    for (int x = 0; x < m.wa; ++x)
      propagate_px(m, cur, cur_dist, step, static_cast<int>(y), x, next, next_dist);
  });
}

TRANSFER_CLONES void random_search_rows(const Maps& m, int* field, float* dist, int radius,
                                        uint64_t seed, uint32_t iteration) {
  parallel_for(m.ha, [&](int64_t y) {
    for (int x = 0; x < m.wa; ++x)
      random_search_px(m, field, dist, radius, seed, iteration, static_cast<int>(y), x);
  });
}

}  // namespace

void field_distances_cpu(const Maps& m, const int* field, float* dist) {
  distances_rows(m, field, dist);
}

void patchmatch_cpu(const Maps& m, int* field, float* dist, int iterations, int radius,
                    uint64_t seed) {
  const int64_t n = static_cast<int64_t>(m.ha) * m.wa;
  distances_rows(m, field, dist);
  std::vector<int> other_field(2 * n);
  std::vector<float> other_dist(n);
  int* cur = field;
  float* cur_dist = dist;
  int* nxt = other_field.data();
  float* nxt_dist = other_dist.data();
  const int longest = std::max(m.ha, m.wa);
  for (int it = 0; it < iterations; ++it) {
    for (int step : kJumpSteps) {
      if (step >= longest) continue;
      propagate_rows(m, cur, cur_dist, step, nxt, nxt_dist);
      std::swap(cur, nxt);
      std::swap(cur_dist, nxt_dist);
    }
    random_search_rows(m, cur, cur_dist, radius, seed, static_cast<uint32_t>(it));
  }
  if (cur != field) {
    std::copy(cur, cur + 2 * n, field);
    std::copy(cur_dist, cur_dist + n, dist);
  }
}

void bds_vote_cpu(const float* values, int hb, int wb, int k, const int* field_ab, int ha, int wa,
                  const int* field_ba, int half, float beta, float* out) {
  const int64_t na = static_cast<int64_t>(ha) * wa, nb = static_cast<int64_t>(hb) * wb;
  std::vector<float> coherence(na * k, 0.0f), completeness(na * k, 0.0f);
  std::vector<int> n_coherence(na), n_completeness(na, 0);
  parallel_for(ha, [&](int64_t y) {
    for (int x = 0; x < wa; ++x) {
      const int64_t p = y * wa + x;
      n_coherence[p] = coherence_votes_px(values, hb, wb, k, field_ab, ha, wa, half,
                                          static_cast<int>(y), x, &coherence[p * k]);
    }
  });
  // Completeness scatters votes from B onto A. Threads split the channels, not the pixels,
  // so every sum is accumulated in the same order whatever the thread count.
  auto scatter = [&](int k0, int k1, bool count) {
    for (int64_t r = 0; r < nb; ++r) {
      const int ry = static_cast<int>(r / wb), rx = static_cast<int>(r % wb);
      const int sy = field_ba[2 * r], sx = field_ba[2 * r + 1];
      for (int dy = -half; dy <= half; ++dy) {
        const int ty = sy + dy, vy = ry + dy;
        if (ty < 0 || ty >= ha || vy < 0 || vy >= hb) continue;
        for (int dx = -half; dx <= half; ++dx) {
          const int tx = sx + dx, vx = rx + dx;
          if (tx < 0 || tx >= wa || vx < 0 || vx >= wb) continue;
          const int64_t t = static_cast<int64_t>(ty) * wa + tx;
          const float* v = values + (static_cast<int64_t>(vy) * wb + vx) * k;
          for (int j = k0; j < k1; ++j) completeness[t * k + j] += v[j];
          if (count) ++n_completeness[t];
        }
      }
    }
  };
  const int blocks = std::min(k, std::max(1, num_threads()));
  parallel_for(blocks + 1, [&](int64_t i) {
    if (i == blocks)
      scatter(0, 0, true);
    else
      scatter(static_cast<int>(i * k / blocks), static_cast<int>((i + 1) * k / blocks), false);
  });
  const float wc = 1.0f / static_cast<float>(na), wbeta = beta / static_cast<float>(nb);
  parallel_for(na, [&](int64_t p) {
    const float den = wc * n_coherence[p] + wbeta * n_completeness[p];
    for (int j = 0; j < k; ++j) {
      if (den > 0.0f) {
        out[p * k + j] = (wc * coherence[p * k + j] + wbeta * completeness[p * k + j]) / den;
      } else {  // no vote lands here: take the value at the pixel's own match
        const int64_t q = static_cast<int64_t>(field_ab[2 * p]) * wb + field_ab[2 * p + 1];
        out[p * k + j] = values[q * k + j];
      }
    }
  });
}

}  // namespace transfer::nnf
