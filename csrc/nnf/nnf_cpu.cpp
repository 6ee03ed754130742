#include "nnf/nnf.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "common/parallel.h"

namespace transfer::nnf {
namespace {

// The per-pixel loops over one tile, cloned for x86-64-v3 (AVX2 + FMA) and the baseline
// and picked at load time: the patch distance is the hot loop, and its dot products run on
// twice as wide vectors with fused multiply-adds. (Clone the tile functions, not the OpenMP
// regions: outlined parallel regions do not inherit a clone's target.)
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define TRANSFER_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define TRANSFER_CLONES
#endif

// Pixels are visited in square tiles: neighbouring pixels have nearby matches, so a tile's
// patches in A and their candidates in B stay in cache (rows of deep features do not).
constexpr int kTile = 8;

struct Tile {
  int y0, y1, x0, x1;
};

Tile tile_of(const Maps& m, int64_t t) {
  const int tiles_x = (m.wa + kTile - 1) / kTile;
  const int ty = static_cast<int>(t / tiles_x), tx = static_cast<int>(t % tiles_x);
  return {ty * kTile, std::min(m.ha, (ty + 1) * kTile), tx * kTile, std::min(m.wa, (tx + 1) * kTile)};
}

int64_t tile_count(const Maps& m) {
  return static_cast<int64_t>((m.ha + kTile - 1) / kTile) * ((m.wa + kTile - 1) / kTile);
}

TRANSFER_CLONES int64_t distances_tile(const Maps& m, const int* field, float* dist, Tile t) {
  int pairs = 0;
  for (int y = t.y0; y < t.y1; ++y)
    for (int x = t.x0; x < t.x1; ++x) {
      const int64_t p = static_cast<int64_t>(y) * m.wa + x;
      dist[p] = patch_distance(m, y, x, field[2 * p], field[2 * p + 1], 3.0e38f, &pairs);
    }
  return pairs;
}

struct State {  // one buffer of the double-buffered field
  int* field;
  float* dist;
  int* stamp;
};

// How much of each candidate patch is requested ahead: propagation candidates mostly lie next
// to cached ones (coherent fields); random ones are scattered, and most of them are abandoned
// after their first row.
struct Prefetch {
  int rows, bytes;
};
constexpr Prefetch kPropagationPrefetch{3, 256}, kRandomPrefetch{1, 1024};

// Visits the tile's pixels in order; while `evaluate` works on one pixel, the next pixel's
// candidates are drawn and their patches requested (software pipelining of the misses).
template <class Draw, class Evaluate>
inline TRANSFER_FORCE_INLINE int64_t pipelined_tile(const Maps& m, Tile t, Prefetch prefetch,
                                              Draw draw, Evaluate evaluate) {
  int64_t pairs = 0;
  Candidates c[2];
  draw(t.y0, t.x0, &c[0]);
  prefetch_candidates(m, c[0], prefetch.rows, prefetch.bytes);
  int k = 0;
  for (int y = t.y0; y < t.y1; ++y)
    for (int x = t.x0; x < t.x1; ++x, k ^= 1) {
      const bool row_end = x + 1 == t.x1;
      if (!row_end || y + 1 < t.y1) {
        draw(row_end ? y + 1 : y, row_end ? t.x0 : x + 1, &c[k ^ 1]);
        prefetch_candidates(m, c[k ^ 1], prefetch.rows, prefetch.bytes);
      }
      pairs += evaluate(y, x, c[k]);
    }
  return pairs;
}

TRANSFER_CLONES int64_t propagate_tile(const Maps& m, State cur, State next, int step, int pass,
                                       int prev_pass, Tile t) {
  return pipelined_tile(
      m, t, kPropagationPrefetch,
      [&](int y, int x, Candidates* c) TRANSFER_FORCE_INLINE {
        propagation_candidates(m, cur.field, cur.stamp, step, prev_pass, y, x, c);
      },
      [&](int y, int x, const Candidates& c) TRANSFER_FORCE_INLINE {
        return propagate_px(m, cur.field, cur.dist, cur.stamp, c, pass, y, x, next.field,
                            next.dist, next.stamp);
      });
}

TRANSFER_CLONES int64_t random_search_tile(const Maps& m, State s, int radius, uint64_t seed,
                                           uint32_t iteration, int pass, Tile t) {
  return pipelined_tile(
      m, t, kRandomPrefetch,
      [&](int y, int x, Candidates* c) TRANSFER_FORCE_INLINE {
        random_candidates(m, s.field, radius, seed, iteration, y, x, c);
      },
      [&](int y, int x, const Candidates& c) TRANSFER_FORCE_INLINE {
        return random_search_px(m, s.field, s.dist, s.stamp, c, pass, y, x);
      });
}

// Work per tile goes to pairs[t] (pixel pairs multiplied), when given.
void distances_all(const Maps& m, const int* field, float* dist, int64_t* pairs = nullptr) {
  parallel_for(tile_count(m), [&](int64_t t) {
    const int64_t done = distances_tile(m, field, dist, tile_of(m, t));
    if (pairs) pairs[t] += done;
  });
}

}  // namespace

void field_distances_cpu(const Maps& m, const int* field, float* dist) {
  distances_all(m, field, dist);
}

// Runs f on every tile, in reverse order on odd passes: a pass streams both maps through the
// cache, and starting where the previous pass ended reuses what is still there (maps of a
// few tens of MB do not fit the last-level cache; in order, every pass would miss it all).
template <class F>
void for_each_tile(const Maps& m, int pass, F&& f) {
  const int64_t count = tile_count(m);
  parallel_for(count, [&](int64_t i) { f(pass % 2 ? count - 1 - i : i); });
}

int64_t patchmatch_cpu(const Maps& m, int* field, float* dist, int iterations, int radius,
                       uint64_t seed) {
  const int64_t n = static_cast<int64_t>(m.ha) * m.wa;
  std::vector<int64_t> pairs(tile_count(m), 0);
  distances_all(m, field, dist, pairs.data());
  std::vector<int> other_field(2 * n), stamps(n, -1), other_stamps(n, -1);
  std::vector<float> other_dist(n);
  State cur{field, dist, stamps.data()}, nxt{other_field.data(), other_dist.data(), other_stamps.data()};
  const int longest = std::max(m.ha, m.wa);
  int steps = 0;
  for (int step : kJumpSteps) steps += step < longest ? 1 : 0;
  const int passes = steps + 1;  // per iteration: the propagation steps, then random search
  for (int it = 0; it < iterations; ++it) {
    int pass = it * passes;
    for (int step : kJumpSteps) {
      if (step >= longest) continue;
      const int prev_pass = it > 0 ? pass - passes : -1;
      for_each_tile(m, pass, [&](int64_t t) {
        pairs[t] += propagate_tile(m, cur, nxt, step, pass, prev_pass, tile_of(m, t));
      });
      std::swap(cur, nxt);
      ++pass;
    }
    for_each_tile(m, pass, [&](int64_t t) {
      pairs[t] += random_search_tile(m, cur, radius, seed, static_cast<uint32_t>(it), pass,
                                     tile_of(m, t));
    });
  }
  if (cur.field != field) {
    std::copy(cur.field, cur.field + 2 * n, field);
    std::copy(cur.dist, cur.dist + n, dist);
  }
  int64_t total = 0;
  for (int64_t e : pairs) total += e;
  return total;
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
