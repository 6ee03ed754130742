// Per-pixel bodies of deep-feature PatchMatch (He et al., after Barnes et al. 2009) and of
// bidirectional-similarity voting, shared by the OpenMP loops (nnf_cpu.cpp) and the CUDA
// kernels (nnf_cuda.cu). The GPU draws its candidates with these bodies and clips and bounds
// its patches with them too, but splits each distance over a half-warp whose 16 lanes are
// the Accumulator's (nnf_cuda.cu), so both produce the same field.
//
// Feature maps are channel-last (H, W, C) float32, L2-normalised per pixel. A field maps every
// pixel of A to a pixel (y, x) of B, stored as int32 pairs. The patch distance between p in A
// and q in B is minus the mean dot product over the patch offsets that fall inside both maps.
//
// On CPUs with AVX512-BF16, the CPU loops can run on bfloat16 copies of the maps (half the
// bytes of every scattered patch row, and one instruction per 32 multiply-adds):
// nnf_cpu_bf16.cpp compiles these bodies a second time, for that instruction set, in a
// namespace of its own (TRANSFER_NNF_NAMESPACE), so that no inline function is defined twice
// with different code.
#pragma once

#include <stdint.h>

#include "common/hd.h"

#ifndef TRANSFER_NNF_NAMESPACE
#define TRANSFER_NNF_NAMESPACE nnf
#endif

namespace transfer::TRANSFER_NNF_NAMESPACE {

// A bfloat16 value: the upper half of a float32's bits (rounded to nearest even).
struct bf16 {
  uint16_t bits;
};

// Feature maps of element type T: float, or bf16 on the CPU's bfloat16 path.
template <class T>
struct MapsOf {
  const T* a;
  const T* b;
  int ha, wa, hb, wb, c;
  int half;  // patch radius: patch_size = 2 * half + 1

  // The largest dot product of two features, for early abandoning: 1 (unit length); in
  // bfloat16 each component is rounded by up to 2^-9 of itself, so a product of two rounded
  // vectors reaches (1 + 2^-9)^2 < 1 + 1/250 at most.
  TRANSFER_HD static constexpr float max_dot() { return sizeof(T) == 4 ? 1.0f : 1.0f + 1.0f / 250; }
};
using Maps = MapsOf<float>;

// Dot products go into 16 independent partial sums (lanes), reduced by a fixed tree: no
// reassociation of floating-point additions (no -ffast-math), so results are reproducible.
// On the CPU the lanes are two 8-wide vectors per candidate, and up to four candidates are
// multiplied against one load of A's row at once (add_products_batch), which gives eight
// independent multiply-add chains (one or two chains leave most of the FMA units idle) and
// fewer loads per multiply-add. The portable version (CUDA, other compilers) does the same
// arithmetic lane by lane, one candidate after the other.
constexpr int kLanes = 16;
constexpr int kBatch = 4;  // candidates evaluated together

#if !defined(__CUDACC__) && defined(__GNUC__)
typedef float f8 __attribute__((vector_size(32)));
typedef float f8u __attribute__((vector_size(32), aligned(4), may_alias));  // unaligned loads

// (a macro: a function returning a vector draws an ABI warning in the non-AVX build)
#define TRANSFER_LOAD8(p) (*reinterpret_cast<const f8u*>(p))

struct Accumulator {
  f8 v[2] = {};  // lane j of v[r] is lane 8 r + j: the portable version's acc[8 r + j]

  TRANSFER_HD float sum() const {  // the portable tree, in registers
    typedef float f4 __attribute__((vector_size(16)));
    const f8 h = v[0] + v[1];                                                   // width 8
    const f4 q = __builtin_shufflevector(h, h, 0, 1, 2, 3) + __builtin_shufflevector(h, h, 4, 5, 6, 7);
    const f4 d = q + __builtin_shufflevector(q, q, 2, 3, 2, 3);                 // width 2
    return d[0] + d[1];                                                         // width 1
  }
};

// acc[i] += u . w[i] over n floats, for the K candidates at once
template <int K>
TRANSFER_HD void add_products_k(const float* u, const float* const* w, int n, Accumulator* const* acc) {
  f8 v0[K], v1[K];
  for (int i = 0; i < K; ++i) v0[i] = acc[i]->v[0], v1[i] = acc[i]->v[1];
  int k = 0;
  for (; k + 16 <= n; k += 16) {
    const f8 a0 = TRANSFER_LOAD8(u + k), a1 = TRANSFER_LOAD8(u + k + 8);
    for (int i = 0; i < K; ++i) {
      v0[i] += a0 * TRANSFER_LOAD8(w[i] + k);
      v1[i] += a1 * TRANSFER_LOAD8(w[i] + k + 8);
    }
  }
  for (; k + 8 <= n; k += 8) {
    const f8 a0 = TRANSFER_LOAD8(u + k);
    for (int i = 0; i < K; ++i) v0[i] += a0 * TRANSFER_LOAD8(w[i] + k);
  }
  for (int i = 0; i < K; ++i) acc[i]->v[0] = v0[i], acc[i]->v[1] = v1[i];
  for (int j = 0; k < n; ++k, ++j)
    for (int i = 0; i < K; ++i) acc[i]->v[0][j] += u[k] * w[i][k];
}

TRANSFER_HD void add_products_batch(const float* u, const float* const* w, int count, int n,
                                    Accumulator* const* acc) {
  switch (count) {
    case 1: add_products_k<1>(u, w, n, acc); break;
    case 2: add_products_k<2>(u, w, n, acc); break;
    case 3: add_products_k<3>(u, w, n, acc); break;
    default: add_products_k<4>(u, w, n, acc); break;
  }
}
#undef TRANSFER_LOAD8

#if defined(TRANSFER_NNF_BF16)  // nnf_cpu_bf16.cpp, compiled for AVX512-BF16 (a pragma: in
                                 // C++ it does not define the instruction sets' macros)
}  // namespace transfer::TRANSFER_NNF_NAMESPACE
#include <immintrin.h>
namespace transfer::TRANSFER_NNF_NAMESPACE {

// acc[i] += u . w[i] over n bfloat16 values for the K candidates at once: vdpbf16ps adds the
// products of pairs of bfloat16 values to 16 float32 lanes (lane j takes elements 2j and
// 2j + 1 of every 32), one instruction per 32 multiply-adds; a row's tail is loaded masked.
template <int K>
inline TRANSFER_FORCE_INLINE void add_products_k(const bf16* u, const bf16* const* w, int n,
                                                 Accumulator* const* acc) {
  __m512 v[K];
  for (int i = 0; i < K; ++i)
    v[i] = _mm512_insertf32x8(_mm512_castps256_ps512(reinterpret_cast<__m256>(acc[i]->v[0])),
                              reinterpret_cast<__m256>(acc[i]->v[1]), 1);
  int k = 0;
  for (; k + 32 <= n; k += 32) {
    const __m512bh a = reinterpret_cast<__m512bh>(_mm512_loadu_si512(u + k));
    for (int i = 0; i < K; ++i)
      v[i] = _mm512_dpbf16_ps(v[i], a, reinterpret_cast<__m512bh>(_mm512_loadu_si512(w[i] + k)));
  }
  if (k < n) {
    const __mmask32 tail = (1u << (n - k)) - 1u;  // n - k < 32
    const __m512bh a = reinterpret_cast<__m512bh>(_mm512_maskz_loadu_epi16(tail, u + k));
    for (int i = 0; i < K; ++i)
      v[i] = _mm512_dpbf16_ps(v[i], a, reinterpret_cast<__m512bh>(_mm512_maskz_loadu_epi16(tail, w[i] + k)));
  }
  for (int i = 0; i < K; ++i) {
    acc[i]->v[0] = reinterpret_cast<f8>(_mm512_castps512_ps256(v[i]));
    acc[i]->v[1] = reinterpret_cast<f8>(_mm512_extractf32x8_ps(v[i], 1));
  }
}

inline TRANSFER_FORCE_INLINE void add_products_batch(const bf16* u, const bf16* const* w, int count,
                                                     int n, Accumulator* const* acc) {
  switch (count) {
    case 1: add_products_k<1>(u, w, n, acc); break;
    case 2: add_products_k<2>(u, w, n, acc); break;
    case 3: add_products_k<3>(u, w, n, acc); break;
    default: add_products_k<4>(u, w, n, acc); break;
  }
}
#endif
#else
struct Accumulator {
  float v[kLanes] = {};

  TRANSFER_HD float sum() const {
    float s[kLanes];
    for (int j = 0; j < kLanes; ++j) s[j] = v[j];
    for (int width = kLanes / 2; width > 0; width /= 2)
      for (int j = 0; j < width; ++j) s[j] += s[j + width];
    return s[0];
  }
};

TRANSFER_HD void add_products_batch(const float* u, const float* const* w, int count, int n,
                                    Accumulator* const* acc) {
  for (int i = 0; i < count; ++i) {
    float* v = acc[i]->v;
    const float* x = w[i];
    int k = 0;
    for (; k + kLanes <= n; k += kLanes)
      for (int j = 0; j < kLanes; ++j) v[j] += u[k + j] * x[k + j];
    for (; k + 8 <= n; k += 8)
      for (int j = 0; j < 8; ++j) v[j] += u[k + j] * x[k + j];
    for (int j = 0; k < n; ++k, ++j) v[j] += u[k] * x[k];
  }
}
#endif

template <class T>
TRANSFER_HD const T* feature_at(const T* map, int w, int c, int y, int x) {
  return map + (static_cast<int64_t>(y) * w + x) * c;
}

TRANSFER_HD int mini(int a, int b) { return a < b ? a : b; }

// The patch offsets that fall inside both maps: dy in [dy0, dy1], dx in [dx0, dx1]. (Written
// as minima of the room on each side: the equivalent chain of `d = d < -y ? -y : d` updates
// was miscompiled by nvcc 13.0 at its default optimisation, giving wrong bounds and NaN
// distances at every clipped patch; found on an H100, right with -Xptxas -O0.)
struct Window {
  int dy0, dy1, dx0, dx1;
  TRANSFER_HD int cols() const { return dx1 - dx0 + 1; }
  TRANSFER_HD int count() const { return (dy1 - dy0 + 1) * cols(); }  // >= 1: the centre
};

template <class M>
TRANSFER_HD Window patch_window(const M& m, int ay, int ax, int by, int bx) {
  return {-mini(m.half, mini(ay, by)), mini(m.half, mini(m.ha - 1 - ay, m.hb - 1 - by)),
          -mini(m.half, mini(ax, bx)), mini(m.half, mini(m.wa - 1 - ax, m.wb - 1 - bx))};
}

// Early abandoning: features have unit length, so each of the `pixels_left` pixel pairs not
// multiplied yet adds at most `max_dot` (1) to the similarity `sum`; the distance is then at
// least this.
TRANSFER_HD float distance_bound(float sum, int pixels_left, int count, float max_dot = 1.0f) {
  return -(sum + max_dot * static_cast<float>(pixels_left)) / count;
}

// Whether a candidate whose distance is at least `bound` cannot beat `cutoff` (with a margin
// far above rounding).
TRANSFER_HD bool cannot_win(float bound, float cutoff) { return bound > cutoff + 1e-5f; }

// Patch distance, abandoned early against `cutoff` (the distance to beat): once even perfect
// remaining pixels could not bring the patch below cutoff, a bound >= cutoff is returned
// instead of the exact value. Accepting or rejecting the candidate is the same as with the
// exact value, so results do not change, only the work. Adds the number of pixel pairs whose
// features were multiplied to *pairs (the work done).
template <class M>
TRANSFER_HD float patch_distance(const M& m, int ay, int ax, int by, int bx,
                                 float cutoff = 3.0e38f, int* pairs = nullptr) {
  const Window w = patch_window(m, ay, ax, by, bx);
  const int cols = w.cols(), count = w.count();
  const int run = cols * m.c;  // one patch row, contiguous in memory on both sides
  Accumulator acc, *accs[1] = {&acc};
  for (int dy = w.dy0; dy <= w.dy1; ++dy) {
    decltype(m.b) brow[1] = {feature_at(m.b, m.wb, m.c, by + dy, bx + w.dx0)};
    add_products_batch(feature_at(m.a, m.wa, m.c, ay + dy, ax + w.dx0), brow, 1, run, accs);
    if (pairs) *pairs += cols;
    if (dy < w.dy1) {
      const float bound = distance_bound(acc.sum(), (w.dy1 - dy) * cols, count, M::max_dot());
      if (cannot_win(bound, cutoff)) return bound;
    }
  }
  return -acc.sum() / count;
}

// Whether the whole patch around (y, x) lies inside an h x w map.
TRANSFER_HD bool patch_inside(int y, int x, int h, int w, int half) {
  return y >= half && x >= half && y + half < h && x + half < w;
}

// patch_distance of pixel (ay, ax) to n <= kBatch candidates at once, all patches inside
// both maps: each candidate's lanes hold the same sums as patch_distance's, and a candidate
// is dropped after the first row that shows it cannot beat `cutoff`. Writes the distances
// (or the bounds of dropped candidates) to d.
template <class M>
TRANSFER_HD void patch_distances_batch(const M& m, int ay, int ax, const int* cy,
                                       const int* cx, int n, float cutoff, float* d,
                                       int* pairs) {
  const int side = 2 * m.half + 1, count = side * side, run = side * m.c;
  Accumulator acc[kBatch];
  Accumulator* live[kBatch];
  int ids[kBatch], n_live = n;
  for (int i = 0; i < n; ++i) live[i] = &acc[i], ids[i] = i;
  for (int dy = -m.half; dy <= m.half; ++dy) {
    decltype(m.b) brow[kBatch];
    for (int i = 0; i < n_live; ++i)
      brow[i] = feature_at(m.b, m.wb, m.c, cy[ids[i]] + dy, cx[ids[i]] - m.half);
    add_products_batch(feature_at(m.a, m.wa, m.c, ay + dy, ax - m.half), brow, n_live, run, live);
    if (pairs) *pairs += n_live * side;
    if (dy == m.half) break;
    int kept = 0;
    for (int i = 0; i < n_live; ++i) {
      const float bound = distance_bound(live[i]->sum(), (m.half - dy) * side, count, M::max_dot());
      if (cannot_win(bound, cutoff)) {
        d[ids[i]] = bound;
      } else {
        live[kept] = live[i];
        ids[kept++] = ids[i];
      }
    }
    n_live = kept;
    if (n_live == 0) return;
  }
  for (int i = 0; i < n_live; ++i) d[ids[i]] = -live[i]->sum() / count;
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

// Uniform integer in [-r, r], by multiplication instead of a (slow) modulo (Lemire 2019).
TRANSFER_HD int uniform_offset(uint32_t bits, int r) {
  return static_cast<int>((static_cast<uint64_t>(bits) * static_cast<uint32_t>(2 * r + 1)) >> 32) - r;
}

// Both PatchMatch steps at a pixel draw a short list of candidate matches, then evaluate
// them in order against the current match. The list depends only on state that the step
// does not write at other pixels, so the CPU loops draw the next pixel's list, and ask the
// memory for its patches, while they evaluate this pixel's: candidates are scattered over B,
// and their cache misses, not the arithmetic, are what a naive loop waits on.
constexpr int kMaxCandidates = 32;  // random-search radii up to 2^31

struct Candidates {
  int n;
  int cy[kMaxCandidates], cx[kMaxCandidates];
};

// Asks the CPU to start loading each candidate's patch in B: up to `bytes` of each of its
// first `rows` rows (a no-op on the GPU, whose warps hide latency by switching).
template <class M>
TRANSFER_HD void prefetch_candidates(const M& m, const Candidates& c, int rows, int bytes) {
#if !defined(__CUDA_ARCH__) && defined(__GNUC__)
  const int run = (2 * m.half + 1) * m.c * static_cast<int>(sizeof(*m.b));
  bytes = bytes < run ? bytes : run;
  for (int k = 0; k < c.n; ++k) {
    const int y0 = c.cy[k] - m.half < 0 ? 0 : c.cy[k] - m.half;
    int y1 = c.cy[k] + m.half >= m.hb ? m.hb - 1 : c.cy[k] + m.half;  // the patch's last row
    y1 = y1 < y0 + rows - 1 ? y1 : y0 + rows - 1;
    const int x = c.cx[k] - m.half < 0 ? 0 : c.cx[k] - m.half;
    for (int y = y0; y <= y1; ++y) {
      const char* row = reinterpret_cast<const char*>(m.b + (static_cast<int64_t>(y) * m.wb + x) * m.c);
      for (int off = 0; off < bytes; off += 64) __builtin_prefetch(row + off);
    }
  }
#else
  (void)m;
  (void)c;
  (void)rows;
  (void)bytes;
#endif
}

// Evaluates the candidates for pixel (y, x) in order, skipping the current match (by, bx),
// and takes each that is closer. Adds the pixel pairs multiplied to *pairs; returns whether
// the match changed.
//
// Where the pixel's patch and the candidates' lie inside the maps, the candidates go in
// groups of kBatch through patch_distances_batch, against the best match at the start of the
// group. The fields are the same as one by one: a candidate dropped against that best is
// worse than the current one too (the best only improves), and the others get their exact
// distance; only more rows get multiplied, where a candidate of the group would have been
// dropped against a match found earlier in the group.
template <class M>
TRANSFER_HD bool evaluate_candidates(const M& m, int y, int x, const Candidates& c, int* by,
                                     int* bx, float* best, int* pairs) {
  bool changed = false;
  const bool inside = patch_inside(y, x, m.ha, m.wa, m.half);
  for (int k = 0; k < c.n;) {
    int gy[kBatch], gx[kBatch], n = 0;
    bool batch = inside;
    for (; k < c.n && n < kBatch; ++k) {
      if (c.cy[k] == *by && c.cx[k] == *bx) continue;
      gy[n] = c.cy[k];
      gx[n++] = c.cx[k];
      batch = batch && patch_inside(c.cy[k], c.cx[k], m.hb, m.wb, m.half);
    }
    float d[kBatch];
    if (batch && n > 0) patch_distances_batch(m, y, x, gy, gx, n, *best, d, pairs);
    for (int i = 0; i < n; ++i) {
      if (!batch) d[i] = patch_distance(m, y, x, gy[i], gx[i], *best, pairs);
      if (!(d[i] < *best)) continue;
      *best = d[i];
      *by = gy[i];
      *bx = gx[i];
      changed = true;
    }
  }
  return changed;
}

// One jump-flood propagation step at pixel (y, x): the matches of the four neighbours at
// distance `step`, shifted back by the neighbour's offset. Each pixel carries a stamp: the
// last pass in which its match changed. The candidate from neighbour n is the same as in
// the same step of the previous iteration (pass prev_pass) if n's match has not changed
// since before that pass; it lost or won then, and the pixel's match has only improved
// since, so it is left out.
template <class M>
TRANSFER_HD void propagation_candidates(const M& m, const int* cur, const int* stamp, int step,
                                        int prev_pass, int y, int x, Candidates* c) {
  const int dys[4] = {0, 0, -step, step}, dxs[4] = {-step, step, 0, 0};
  c->n = 0;
  for (int k = 0; k < 4; ++k) {
    const int ny = y + dys[k], nx = x + dxs[k];
    if (ny < 0 || ny >= m.ha || nx < 0 || nx >= m.wa) continue;
    const int64_t n = static_cast<int64_t>(ny) * m.wa + nx;
    if (prev_pass >= 0 && stamp[n] < prev_pass) continue;  // tried in the previous iteration
    c->cy[c->n] = clampi(cur[2 * n] - dys[k], 0, m.hb - 1);
    c->cx[c->n] = clampi(cur[2 * n + 1] - dxs[k], 0, m.wb - 1);
    ++c->n;
  }
}

// A pixel's candidates are scored by an evaluator: SerialEvaluator on the CPU, a thread per
// pixel (evaluate_candidates, in batches); on the GPU a half-warp per pixel (nnf_cuda.cu).
// Whatever scores them, the steps below decide and write the same: the evaluator says which
// of its threads writes the pixel's entries, and lets them all finish reading first.
struct SerialEvaluator {
  int pairs = 0;  // pixel pairs whose features were multiplied: the work done

  template <class M>
  TRANSFER_HD bool operator()(const M& m, int y, int x, const Candidates& c, int* by, int* bx,
                              float* best) {
    return evaluate_candidates(m, y, x, c, by, bx, best, &pairs);
  }
  TRANSFER_HD bool writes() const { return true; }
  TRANSFER_HD void before_write() const {}
};

// The propagation candidates compete with the current match. Reads `cur`, writes `next`
// (double-buffered: independent of the order of the pixels).
template <class M, class Evaluator>
TRANSFER_HD void propagate_px(const M& m, const int* cur, const float* cur_dist,
                              const int* stamp, const Candidates& c, int pass, int y, int x,
                              int* next, float* next_dist, int* next_stamp, Evaluator& evaluate) {
  const int64_t p = static_cast<int64_t>(y) * m.wa + x;
  int by = cur[2 * p], bx = cur[2 * p + 1];
  float best = cur_dist[p];
  const bool changed = evaluate(m, y, x, c, &by, &bx, &best);
  if (!evaluate.writes()) return;
  next[2 * p] = by;
  next[2 * p + 1] = bx;
  next_dist[p] = best;
  next_stamp[p] = changed ? pass : stamp[p];
}

// Random search at pixel (y, x), as in Barnes et al. 2009: candidates drawn uniformly in
// windows of radius r, r/2, ..., 1 around the pixel's match at the start of the search.
template <class M>
TRANSFER_HD void random_candidates(const M& m, const int* field, int radius, uint64_t seed,
                                   uint32_t iteration, int y, int x, Candidates* c) {
  const int64_t p = static_cast<int64_t>(y) * m.wa + x;
  const int y0 = field[2 * p], x0 = field[2 * p + 1];
  uint32_t draw = 0;
  c->n = 0;
  for (int r = radius; r >= 1 && c->n < kMaxCandidates; r /= 2, draw += 2, ++c->n) {
    c->cy[c->n] = clampi(y0 + uniform_offset(hash4(seed, iteration, p, draw), r), 0, m.hb - 1);
    c->cx[c->n] = clampi(x0 + uniform_offset(hash4(seed, iteration, p, draw + 1), r), 0, m.wb - 1);
  }
}

// The random candidates compete with the current match; reads and writes only pixel p's own
// entries (in place).
template <class M, class Evaluator>
TRANSFER_HD void random_search_px(const M& m, int* field, float* dist, int* stamp,
                                  const Candidates& c, int pass, int y, int x,
                                  Evaluator& evaluate) {
  const int64_t p = static_cast<int64_t>(y) * m.wa + x;
  int by = field[2 * p], bx = field[2 * p + 1];
  float best = dist[p];
  const bool changed = evaluate(m, y, x, c, &by, &bx, &best);
  evaluate.before_write();
  if (!evaluate.writes()) return;
  if (changed) stamp[p] = pass;
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


// Completeness half of BDS voting at target pixel (y, x) of A, as a gather: each pixel r of B
// whose match s lies in the patch around (y, x) votes B's value at r + (y, x) - s. `order`
// lists B's pixels by their match (a stable sort: increasing r for each match), and
// start[s] .. start[s + 1] is match s's run of it. Adds the votes to sum[0..k) and returns
// their number.
TRANSFER_HD int completeness_votes_px(const float* values, int hb, int wb, int k, const int* order,
                                      const int* start, int ha, int wa, int half, int y, int x,
                                      float* sum) {
  int count = 0;
  for (int dy = -half; dy <= half; ++dy) {
    const int sy = y - dy;
    if (sy < 0 || sy >= ha) continue;
    for (int dx = -half; dx <= half; ++dx) {
      const int sx = x - dx;
      if (sx < 0 || sx >= wa) continue;
      const int64_t s = static_cast<int64_t>(sy) * wa + sx;
      for (int i = start[s]; i < start[s + 1]; ++i) {
        const int vy = order[i] / wb + dy, vx = order[i] % wb + dx;
        if (vy < 0 || vy >= hb || vx < 0 || vx >= wb) continue;
        const float* v = values + (static_cast<int64_t>(vy) * wb + vx) * k;
        for (int j = 0; j < k; ++j) sum[j] += v[j];
        ++count;
      }
    }
  }
  return count;
}

// BDS voting at pixel (y, x) of A: the coherence votes (weight wc each) and the completeness
// votes (wbeta each; none gathered when wbeta is 0) averaged; where no vote lands, the value at
// the pixel's own match. out (ha, wa, k) holds the coherence sums on the way, scratch (ha, wa,
// k) the completeness sums.
TRANSFER_HD void bds_vote_px(const float* values, int hb, int wb, int k, const int* field_ab,
                             int ha, int wa, const int* order, const int* start, int half, float wc,
                             float wbeta, int y, int x, float* scratch, float* out) {
  const int64_t p = static_cast<int64_t>(y) * wa + x;
  float* coherence = out + p * k;
  float* completeness = scratch + p * k;
  for (int j = 0; j < k; ++j) coherence[j] = completeness[j] = 0.0f;
  const int nc = coherence_votes_px(values, hb, wb, k, field_ab, ha, wa, half, y, x, coherence);
  const int nd = wbeta > 0.0f ? completeness_votes_px(values, hb, wb, k, order, start, ha, wa, half,
                                                      y, x, completeness)
                              : 0;
  const float den = wc * nc + wbeta * nd;
  if (den > 0.0f) {
    for (int j = 0; j < k; ++j) coherence[j] = (wc * coherence[j] + wbeta * completeness[j]) / den;
  } else {
    const float* v = values + (static_cast<int64_t>(field_ab[2 * p]) * wb + field_ab[2 * p + 1]) * k;
    for (int j = 0; j < k; ++j) coherence[j] = v[j];
  }
}

}  // namespace transfer::TRANSFER_NNF_NAMESPACE
