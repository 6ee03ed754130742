// Deep-feature PatchMatch and BDS voting. Host (CPU) functions take host pointers, the
// functions in namespace cuda take device pointers; both run the bodies of nnf_kernel.h.
#pragma once

#include <cstdint>

#include "nnf/nnf_kernel.h"

namespace transfer::nnf {

// Jump-flood propagation steps of every iteration (those shorter than the map are used).
constexpr int kJumpSteps[4] = {8, 4, 2, 1};

// field (ha * wa * 2, in: initial field inside B, out: result), dist (ha * wa, out).
// radius: random-search radius in pixels of B. Deterministic for a given seed. Returns the
// number of pixel pairs whose features were multiplied (c multiply-adds each): the work done.
// With bf16 (and a CPU with AVX512-BF16: bf16_supported()), the candidates are compared on
// bfloat16 copies of the maps (nnf_cpu_bf16.cpp), and the distances returned are the float32
// distances of the field found.
int64_t patchmatch_cpu(const Maps& m, int* field, float* dist, int iterations, int radius,
                       uint64_t seed, bool bf16 = false);

// Whether this build and this CPU have the bfloat16 path.
bool bf16_supported();

// Patch distances of a given field (with bf16: on bfloat16 copies of the maps, as the
// bfloat16 path of patchmatch_cpu compares its candidates).
void field_distances_cpu(const Maps& m, const int* field, float* dist, bool bf16 = false);

// Bidirectional-similarity voting of B's values (hb, wb, k) onto A's grid (ha, wa, k):
// coherence votes through field_ab (ha, wa, 2) weighted 1 / |A|, completeness votes through
// field_ba (hb, wb, 2) weighted beta / |B| (bds_vote_px at every pixel). Deterministic for any
// thread count, and the same on both devices.
void bds_vote_cpu(const float* values, int hb, int wb, int k, const int* field_ab, int ha, int wa,
                  const int* field_ba, int half, float beta, float* out);

// B's pixels ordered by their match in A, stably: order (hb wb), and start (ha wa + 1), where
// each match's run of order begins (completeness_votes_px's index).
void matches_by_target(const int* field_ba, int64_t nb, int ha, int wa, int* order, int* start);

namespace cuda {
void patchmatch(const Maps& m, int* field, float* dist, int iterations, int radius, uint64_t seed);
void field_distances(const Maps& m, const int* field, float* dist);
void bds_vote(const float* values, int hb, int wb, int k, const int* field_ab, int ha, int wa,
              const int* field_ba, int half, float beta, float* out);
}  // namespace cuda

}  // namespace transfer::nnf
