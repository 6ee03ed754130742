// The per-tile loops of PatchMatch on bfloat16 copies of the maps, for CPUs with AVX512-BF16
// (AMD Zen 4 and later, Intel Sapphire Rapids and later): the kernel bodies compiled here a
// second time, for that instruction set, in the namespace nnf_bf16 (so that no inline
// function of the default build is redefined with AVX-512 code), behind plain-typed entry
// points (nnf_bf16.h). The caller checks supported() first.
#include "nnf/nnf_bf16.h"

#include <stdint.h>

// GCC 11 and later (clang does not take `#pragma GCC target`; its builds go without)
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && __GNUC__ >= 11
#define TRANSFER_HAVE_BF16_PATH 1
#include <immintrin.h>  // before the target pragma: the intrinsics carry their own targets

#pragma GCC push_options
#pragma GCC target("avx2,fma,avx512f,avx512bw,avx512dq,avx512vl,avx512bf16")
#define TRANSFER_NNF_BF16 1
#define TRANSFER_NNF_NAMESPACE nnf_bf16
#define TRANSFER_NNF_ELEMENT bf16
#define TRANSFER_CLONES
#include "nnf/nnf_cpu_tiles.h"

namespace transfer::nnf_bf16 {

static CpuMaps maps_of(const nnf_bf16_api::Maps16& m) {
  return {reinterpret_cast<const bf16*>(m.a), reinterpret_cast<const bf16*>(m.b), m.ha, m.wa, m.hb,
          m.wb, m.c, m.half};
}

static State state_of(nnf_bf16_api::State16 s) { return {s.field, s.dist, s.stamp}; }

}  // namespace transfer::nnf_bf16

namespace transfer::nnf_bf16_api {

int64_t distances_tile(const Maps16& m, const int* field, float* dist, int y0, int y1, int x0, int x1) {
  return nnf_bf16::distances_tile(nnf_bf16::maps_of(m), field, dist, {y0, y1, x0, x1});
}

int64_t propagate_tile(const Maps16& m, State16 cur, State16 next, int step, int pass, int prev_pass,
                       int y0, int y1, int x0, int x1) {
  return nnf_bf16::propagate_tile(nnf_bf16::maps_of(m), nnf_bf16::state_of(cur),
                                  nnf_bf16::state_of(next), step, pass, prev_pass, {y0, y1, x0, x1});
}

int64_t random_search_tile(const Maps16& m, State16 s, int radius, uint64_t seed, uint32_t iteration,
                           int pass, int y0, int y1, int x0, int x1) {
  return nnf_bf16::random_search_tile(nnf_bf16::maps_of(m), nnf_bf16::state_of(s), radius, seed,
                                      iteration, pass, {y0, y1, x0, x1});
}

}  // namespace transfer::nnf_bf16_api
#pragma GCC pop_options
#endif

namespace transfer::nnf_bf16_api {

bool supported() {
#ifdef TRANSFER_HAVE_BF16_PATH
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512bf16") && __builtin_cpu_supports("avx512dq") &&
         __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw");
#else
  return false;
#endif
}

#ifndef TRANSFER_HAVE_BF16_PATH  // never called: supported() is false
int64_t distances_tile(const Maps16&, const int*, float*, int, int, int, int) { return 0; }
int64_t propagate_tile(const Maps16&, State16, State16, int, int, int, int, int, int, int) { return 0; }
int64_t random_search_tile(const Maps16&, State16, int, uint64_t, uint32_t, int, int, int, int, int) {
  return 0;
}
#endif

}  // namespace transfer::nnf_bf16_api
