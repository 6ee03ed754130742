#include "nnf/nnf.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>
#include <utility>
#include <vector>

#ifdef __linux__
#include <sys/mman.h>
#endif

#include "common/parallel.h"
#include "nnf/nnf_bf16.h"
#include "nnf/nnf_cpu_tiles.h"

namespace transfer::nnf {
namespace {

Tile tile_of(const Maps& m, int64_t t) {
  const int tiles_x = (m.wa + kTile - 1) / kTile;
  const int ty = static_cast<int>(t / tiles_x), tx = static_cast<int>(t % tiles_x);
  return {ty * kTile, std::min(m.ha, (ty + 1) * kTile), tx * kTile, std::min(m.wa, (tx + 1) * kTile)};
}

int64_t tile_count(const Maps& m) {
  return static_cast<int64_t>((m.ha + kTile - 1) / kTile) * ((m.wa + kTile - 1) / kTile);
}

// The tile loops on the float32 maps.
struct FloatTiles {
  const Maps& m;
  int64_t distances(const int* field, float* dist, Tile t) const { return distances_tile(m, field, dist, t); }
  int64_t propagate(State cur, State next, int step, int pass, int prev_pass, Tile t) const {
    return propagate_tile(m, cur, next, step, pass, prev_pass, t);
  }
  int64_t random_search(State s, int radius, uint64_t seed, uint32_t it, int pass, Tile t) const {
    return random_search_tile(m, s, radius, seed, it, pass, t);
  }
};

// The same loops on bfloat16 copies of the maps (nnf_cpu_bf16.cpp).
struct Bf16Tiles {
  nnf_bf16_api::Maps16 m;
  static nnf_bf16_api::State16 of(State s) { return {s.field, s.dist, s.stamp}; }
  int64_t distances(const int* field, float* dist, Tile t) const {
    return nnf_bf16_api::distances_tile(m, field, dist, t.y0, t.y1, t.x0, t.x1);
  }
  int64_t propagate(State cur, State next, int step, int pass, int prev_pass, Tile t) const {
    return nnf_bf16_api::propagate_tile(m, of(cur), of(next), step, pass, prev_pass, t.y0, t.y1, t.x0, t.x1);
  }
  int64_t random_search(State s, int radius, uint64_t seed, uint32_t it, int pass, Tile t) const {
    return nnf_bf16_api::random_search_tile(m, of(s), radius, seed, it, pass, t.y0, t.y1, t.x0, t.x1);
  }
};

// A bfloat16 copy of n floats (round to nearest even; the maps hold no NaN), in memory
// aligned to 2 MiB pages like the float maps (nnf._huge_page_aligned).
struct Bf16Copy {
  uint16_t* data = nullptr;
  Bf16Copy(const float* x, int64_t n) {
    constexpr std::size_t kPage = std::size_t(1) << 21;
    const std::size_t bytes = (static_cast<std::size_t>(n) * 2 + kPage - 1) / kPage * kPage;
    data = static_cast<uint16_t*>(std::aligned_alloc(kPage, bytes));
    if (!data) throw std::bad_alloc();
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    madvise(data, bytes, MADV_HUGEPAGE);  // a hint: transparent huge pages may be on request only
#endif
    parallel_for((n + 4095) / 4096, [&](int64_t k) {
      const int64_t end = std::min(n, (k + 1) * 4096);
      for (int64_t i = k * 4096; i < end; ++i) {
        uint32_t u;
        std::memcpy(&u, x + i, 4);
        data[i] = static_cast<uint16_t>((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16);
      }
    });
  }
  ~Bf16Copy() { std::free(data); }
  Bf16Copy(const Bf16Copy&) = delete;
  Bf16Copy& operator=(const Bf16Copy&) = delete;
};

// bfloat16 copies of both maps, and the tile loops on them.
struct Bf16Maps {
  Bf16Copy a, b;
  Bf16Tiles tiles;
  explicit Bf16Maps(const Maps& m)
      : a(m.a, static_cast<int64_t>(m.ha) * m.wa * m.c),
        b(m.b, static_cast<int64_t>(m.hb) * m.wb * m.c),
        tiles{{a.data, b.data, m.ha, m.wa, m.hb, m.wb, m.c, m.half}} {}
};

// Work per tile goes to pairs[t] (pixel pairs multiplied), when given.
template <class Tiles>
void distances_all(const Maps& m, const Tiles& tiles, const int* field, float* dist,
                   int64_t* pairs = nullptr) {
  parallel_for(tile_count(m), [&](int64_t t) {
    const int64_t done = tiles.distances(field, dist, tile_of(m, t));
    if (pairs) pairs[t] += done;
  });
}

}  // namespace

bool bf16_supported() { return nnf_bf16_api::supported(); }

void field_distances_cpu(const Maps& m, const int* field, float* dist, bool bf16) {
  if (bf16 && bf16_supported()) {
    const Bf16Maps copies(m);
    distances_all(m, copies.tiles, field, dist);
  } else {
    distances_all(m, FloatTiles{m}, field, dist);
  }
}

// Runs f on every tile, in reverse order on odd passes: a pass streams both maps through the
// cache, and starting where the previous pass ended reuses what is still there (maps of a
// few tens of MB do not fit the last-level cache; in order, every pass would miss it all).
template <class F>
void for_each_tile(const Maps& m, int pass, F&& f) {
  const int64_t count = tile_count(m);
  parallel_for(count, [&](int64_t i) { f(pass % 2 ? count - 1 - i : i); });
}

namespace {

template <class Tiles>
void run_patchmatch(const Maps& m, const Tiles& tiles, int* field, float* dist, int iterations,
                    int radius, uint64_t seed, int64_t* pairs) {
  const int64_t n = static_cast<int64_t>(m.ha) * m.wa;
  distances_all(m, tiles, field, dist, pairs);
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
        pairs[t] += tiles.propagate(cur, nxt, step, pass, prev_pass, tile_of(m, t));
      });
      std::swap(cur, nxt);
      ++pass;
    }
    for_each_tile(m, pass, [&](int64_t t) {
      pairs[t] += tiles.random_search(cur, radius, seed, static_cast<uint32_t>(it), pass, tile_of(m, t));
    });
  }
  if (cur.field != field) {
    std::copy(cur.field, cur.field + 2 * n, field);
    std::copy(cur.dist, cur.dist + n, dist);
  }
}

}  // namespace

int64_t patchmatch_cpu(const Maps& m, int* field, float* dist, int iterations, int radius,
                       uint64_t seed, bool bf16) {
  std::vector<int64_t> pairs(tile_count(m), 0);
  if (bf16 && bf16_supported()) {
    const Bf16Maps copies(m);
    run_patchmatch(m, copies.tiles, field, dist, iterations, radius, seed, pairs.data());
    // The distances of the field found, in float32: what the caller gets is exact.
    distances_all(m, FloatTiles{m}, field, dist, pairs.data());
  } else {
    run_patchmatch(m, FloatTiles{m}, field, dist, iterations, radius, seed, pairs.data());
  }
  int64_t total = 0;
  for (int64_t e : pairs) total += e;
  return total;
}

void matches_by_target(const int* field_ba, int64_t nb, int ha, int wa, int* order, int* start) {
  const int64_t na = static_cast<int64_t>(ha) * wa;
  std::fill(start, start + na + 1, 0);
  for (int64_t r = 0; r < nb; ++r) ++start[static_cast<int64_t>(field_ba[2 * r]) * wa + field_ba[2 * r + 1] + 1];
  for (int64_t s = 0; s < na; ++s) start[s + 1] += start[s];
  std::vector<int> next(start, start + na);
  for (int64_t r = 0; r < nb; ++r)
    order[next[static_cast<int64_t>(field_ba[2 * r]) * wa + field_ba[2 * r + 1]]++] = static_cast<int>(r);
}

void bds_vote_cpu(const float* values, int hb, int wb, int k, const int* field_ab, int ha, int wa,
                  const int* field_ba, int half, float beta, float* out) {
  const int64_t na = static_cast<int64_t>(ha) * wa, nb = static_cast<int64_t>(hb) * wb;
  const float wc = 1.0f / static_cast<float>(na), wbeta = beta / static_cast<float>(nb);
  std::vector<int> order, start;
  if (wbeta > 0.0f) {  // completeness_votes_px's index
    order.resize(nb);
    start.resize(na + 1);
    matches_by_target(field_ba, nb, ha, wa, order.data(), start.data());
  }
  std::vector<float> scratch(na * k);
  parallel_for(ha, [&](int64_t y) {
    for (int x = 0; x < wa; ++x)
      bds_vote_px(values, hb, wb, k, field_ab, ha, wa, order.data(), start.data(), half, wc, wbeta,
                  static_cast<int>(y), x, scratch.data(), out);
  });
}

}  // namespace transfer::nnf
