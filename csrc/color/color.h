// Color conversions over n interleaved 3-channel float32 pixels.
#pragma once

#include <cstdint>

namespace transfer::color {

void srgb_to_lab_cpu(const float* rgb, float* lab, int64_t n);
void lab_to_srgb_cpu(const float* lab, float* rgb, int64_t n);

namespace cuda {
// Device pointers; synchronous with respect to the default stream.
void srgb_to_lab(const float* rgb, float* lab, int64_t n);
void lab_to_srgb(const float* lab, float* rgb, int64_t n);
}  // namespace cuda

}  // namespace transfer::color
