// Color conversions over n interleaved 3-channel float32 pixels.
#pragma once

#include <cstdint>

namespace transfer::color {

void srgb_to_lab_cpu(const float* rgb, float* lab, int64_t n);
void lab_to_srgb_cpu(const float* lab, float* rgb, int64_t n);

// lab_to_srgb of (scale * lab + shift) per channel: the Reinhard transfer fused with the
// conversion back, without an intermediate Lab image.
void lab_affine_to_srgb_cpu(const float* lab, const float* scale, const float* shift, float* rgb,
                            int64_t n);

// 8-bit sRGB with `channels` (3, or 4 with alpha ignored) per pixel -> Lab; the same values
// as srgb_to_lab_cpu on k / 255, with the linearisation looked up per level.
void srgb8_to_lab_cpu(const uint8_t* rgb, int channels, float* lab, int64_t n);

namespace cuda {
// Device pointers; synchronous with respect to the default stream.
void srgb_to_lab(const float* rgb, float* lab, int64_t n);
void lab_to_srgb(const float* lab, float* rgb, int64_t n);
}  // namespace cuda

}  // namespace transfer::color
