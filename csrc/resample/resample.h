#pragma once

#include <cstdint>

namespace transfer::resample {

// Bilinear resize of an (h, w, c) float32 image to (out_h, out_w, c), pixel centers aligned.
void resize_bilinear_cpu(const float* in, int64_t h, int64_t w, int c, int64_t out_h,
                         int64_t out_w, float* out);

}  // namespace transfer::resample
