// The local affine color models applied at full size (affine_kernel.h's apply_affine_px at
// every pixel). Host function on host pointers; the one in namespace cuda on device pointers.
#pragma once

#include <cstdint>

namespace transfer::affine {

// models (hm, wm, 6): a for the three channels, then b; src and out (h, w, 3) float sRGB.
void apply_affine_cpu(const float* models, int64_t hm, int64_t wm, const float* src, int64_t h,
                      int64_t w, float* out);

namespace cuda {
void apply_affine(const float* models, int64_t hm, int64_t wm, const float* src, int64_t h,
                  int64_t w, float* out);
}  // namespace cuda

}  // namespace transfer::affine
