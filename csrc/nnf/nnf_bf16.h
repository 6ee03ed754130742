// The CPU's bfloat16 path of PatchMatch (nnf_cpu_bf16.cpp): the per-tile loops of
// nnf_cpu_tiles.h compiled for AVX512-BF16, on bfloat16 copies of the feature maps. Plain
// types only: that file compiles the kernel bodies in a namespace of its own.
#pragma once

#include <cstdint>

namespace transfer::nnf_bf16_api {

struct Maps16 {  // as nnf::Maps, with the bits of bfloat16 values
  const uint16_t* a;
  const uint16_t* b;
  int ha, wa, hb, wb, c, half;
};

struct State16 {  // as the CPU loops' State
  int* field;
  float* dist;
  int* stamp;
};

// Whether this build has the path and this CPU runs it.
bool supported();

int64_t distances_tile(const Maps16& m, const int* field, float* dist, int y0, int y1, int x0, int x1);
int64_t propagate_tile(const Maps16& m, State16 cur, State16 next, int step, int pass, int prev_pass,
                       int y0, int y1, int x0, int x1);
int64_t random_search_tile(const Maps16& m, State16 s, int radius, uint64_t seed, uint32_t iteration,
                           int pass, int y0, int y1, int x0, int x1);

}  // namespace transfer::nnf_bf16_api
