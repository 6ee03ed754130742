// The CPU's per-tile loops of PatchMatch over the bodies of nnf_kernel.h, for one element
// type of the feature maps (TRANSFER_NNF_ELEMENT): float in nnf_cpu.cpp, bf16 in
// nnf_cpu_bf16.cpp (compiled for AVX512-BF16 in a namespace of its own). The OpenMP loops
// over the tiles, and the driver of the passes, are nnf_cpu.cpp's.
#pragma once

#include "nnf/nnf_kernel.h"

#ifndef TRANSFER_NNF_ELEMENT
#define TRANSFER_NNF_ELEMENT float
#endif

// The per-pixel loops over one tile, cloned for x86-64-v3 (AVX2 + FMA) and the baseline
// and picked at load time: the patch distance is the hot loop, and its dot products run on
// twice as wide vectors with fused multiply-adds. (Clone the tile functions, not the OpenMP
// regions: outlined parallel regions do not inherit a clone's target.) The bfloat16 copy is
// compiled for its own target and defines TRANSFER_CLONES empty.
#ifndef TRANSFER_CLONES
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define TRANSFER_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define TRANSFER_CLONES
#endif
#endif

namespace transfer::TRANSFER_NNF_NAMESPACE {

using CpuMaps = MapsOf<TRANSFER_NNF_ELEMENT>;

// Pixels are visited in square tiles: neighbouring pixels have nearby matches, so a tile's
// patches in A and their candidates in B stay in cache (rows of deep features do not).
constexpr int kTile = 8;

struct Tile {
  int y0, y1, x0, x1;
};

struct State {  // one buffer of the double-buffered field
  int* field;
  float* dist;
  int* stamp;
};

TRANSFER_CLONES static int64_t distances_tile(const CpuMaps& m, const int* field, float* dist, Tile t) {
  int pairs = 0;
  for (int y = t.y0; y < t.y1; ++y)
    for (int x = t.x0; x < t.x1; ++x) {
      const int64_t p = static_cast<int64_t>(y) * m.wa + x;
      dist[p] = patch_distance(m, y, x, field[2 * p], field[2 * p + 1], 3.0e38f, &pairs);
    }
  return pairs;
}

// How much of each candidate patch is requested ahead: propagation candidates mostly lie next
// to cached ones (coherent fields); random ones are scattered, and most of them are abandoned
// after their first row. (bfloat16: the propagation candidates' rows whole, 384 bytes at C =
// 64: a little faster than 256 in alternating runs; two rows of the random ones no better.)
struct Prefetch {
  int rows, bytes;
};
constexpr Prefetch kPropagationPrefetch{3, sizeof(TRANSFER_NNF_ELEMENT) == 2 ? 384 : 256},
    kRandomPrefetch{1, 1024};

// Visits the tile's pixels in order; while `evaluate` works on one pixel, the next pixel's
// candidates are drawn and their patches requested (software pipelining of the misses).
template <class Draw, class Evaluate>
inline TRANSFER_FORCE_INLINE int64_t pipelined_tile(const CpuMaps& m, Tile t, Prefetch prefetch,
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

TRANSFER_CLONES static int64_t propagate_tile(const CpuMaps& m, State cur, State next, int step,
                                              int pass, int prev_pass, Tile t) {
  return pipelined_tile(
      m, t, kPropagationPrefetch,
      [&](int y, int x, Candidates* c) TRANSFER_FORCE_INLINE {
        propagation_candidates(m, cur.field, cur.stamp, step, prev_pass, y, x, c);
      },
      [&](int y, int x, const Candidates& c) TRANSFER_FORCE_INLINE {
        SerialEvaluator evaluate;
        propagate_px(m, cur.field, cur.dist, cur.stamp, c, pass, y, x, next.field, next.dist,
                     next.stamp, evaluate);
        return evaluate.pairs;
      });
}

TRANSFER_CLONES static int64_t random_search_tile(const CpuMaps& m, State s, int radius,
                                                  uint64_t seed, uint32_t iteration, int pass,
                                                  Tile t) {
  return pipelined_tile(
      m, t, kRandomPrefetch,
      [&](int y, int x, Candidates* c) TRANSFER_FORCE_INLINE {
        random_candidates(m, s.field, radius, seed, iteration, y, x, c);
      },
      [&](int y, int x, const Candidates& c) TRANSFER_FORCE_INLINE {
        SerialEvaluator evaluate;
        random_search_px(m, s.field, s.dist, s.stamp, c, pass, y, x, evaluate);
        return evaluate.pairs;
      });
}

}  // namespace transfer::TRANSFER_NNF_NAMESPACE
