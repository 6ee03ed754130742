// Color conversions over n interleaved 3-channel float32 pixels.
#pragma once

#include <cstdint>

namespace transfer::color {

void srgb_to_lab_cpu(const float* rgb, float* lab, int64_t n);
void lab_to_srgb_cpu(const float* lab, float* rgb, int64_t n);

// lab_to_srgb of (scale * lab + shift) per channel: the Reinhard transfer fused with the
// conversion back, without an intermediate Lab image.
// 8-bit sRGB (3 or 4 channels; alpha copied) -> Lab -> scale * lab + shift -> 8-bit sRGB, in
// one pass: srgb8_to_lab, lab_affine_to_srgb and the rounding to 8 bits, to the bit.
void lab_affine_u8_cpu(const uint8_t* px, int channels, const float* scale, const float* shift,
                       uint8_t* out, int64_t n);
void lab_affine_to_srgb_cpu(const float* lab, const float* scale, const float* shift, float* rgb,
                            int64_t n);

// 8-bit sRGB with `channels` (3, or 4 with alpha ignored) per pixel -> Lab; the same values
// as srgb_to_lab_cpu on k / 255, with the linearisation looked up per level.
void srgb8_to_lab_cpu(const uint8_t* rgb, int channels, float* lab, int64_t n);

// n_px colors through an n x n x n 3-D LUT (color_kernel.h's lut3d_trilinear_px); the 8-bit
// version reads and writes `channels` (3, or 4 with alpha copied) per pixel, and its values
// are those of the float version on k / 255, rounded as transfer.image.from_float rounds.
void apply_lut3d_cpu(const float* lut, int n, const float* rgb, float* out, int64_t n_px);
void apply_lut3d_u8_cpu(const float* lut, int n, const uint8_t* px, int channels, uint8_t* out,
                        int64_t n_px);

namespace cuda {
// Device pointers; synchronous with respect to the default stream.
void srgb_to_lab(const float* rgb, float* lab, int64_t n);
void lab_to_srgb(const float* lab, float* rgb, int64_t n);
void apply_lut3d(const float* lut, int n, const float* rgb, float* out, int64_t n_px);
}  // namespace cuda

}  // namespace transfer::color
