// Per-pixel sRGB <-> CIELab (D65, 2 degree observer) bodies, shared by the OpenMP loop in
// color_cpu.cpp and the CUDA kernels in color_cuda.cu. Constants and piecewise thresholds
// are scikit-image's (skimage.color.rgb2lab / lab2rgb), so results agree with it.
#pragma once

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "common/hd.h"

namespace transfer::color {

// D65 reference white used to normalise XYZ.
constexpr float kWhiteX = 0.95047f, kWhiteY = 1.0f, kWhiteZ = 1.08883f;

// Cube root of t > 0: a bit-level first guess refined by Halley steps, the last in double so
// the result is within float rounding (Lab's a = 500 (fx - fy) magnifies any error 500x);
// about 2x faster than cbrtf.
TRANSFER_HD float cbrt_pos(float t) {
  uint32_t bits;
  memcpy(&bits, &t, sizeof bits);
  bits = bits / 3u + 709921077u;
  float y;
  memcpy(&y, &bits, sizeof y);
  const float y3 = y * y * y;
  y = y * (y3 + 2.0f * t) / (2.0f * y3 + t);
  const double yd = y, td = t, yd3 = yd * yd * yd;
  return static_cast<float>(yd * (yd3 + 2.0 * td) / (2.0 * yd3 + td));
}

TRANSFER_HD float srgb_to_linear(float c) {
  return c > 0.04045f ? powf((c + 0.055f) / 1.055f, 2.4f) : c / 12.92f;
}

TRANSFER_HD float linear_to_srgb(float c) {
  return c > 0.0031308f ? 1.055f * powf(c, 1.0f / 2.4f) - 0.055f : 12.92f * c;
}

TRANSFER_HD float lab_f(float t) { return t > 0.008856f ? cbrt_pos(t) : 7.787f * t + 16.0f / 116.0f; }

TRANSFER_HD float lab_f_inv(float f) {
  return f > 0.2068966f ? f * f * f : (f - 16.0f / 116.0f) / 7.787f;
}

TRANSFER_HD float clamp01(float v) { return v < 0.0f ? 0.0f : (v > 1.0f ? 1.0f : v); }

// Linear RGB -> Lab: L in [0, 100], a and b roughly in [-128, 127].
TRANSFER_HD void linear_to_lab_px(float r, float g, float b, float* lab) {
  const float x = (0.412453f * r + 0.357580f * g + 0.180423f * b) / kWhiteX;
  const float y = (0.212671f * r + 0.715160f * g + 0.072169f * b) / kWhiteY;
  const float z = (0.019334f * r + 0.119193f * g + 0.950227f * b) / kWhiteZ;
  const float fx = lab_f(x), fy = lab_f(y), fz = lab_f(z);
  lab[0] = 116.0f * fy - 16.0f;
  lab[1] = 500.0f * (fx - fy);
  lab[2] = 200.0f * (fy - fz);
}

// rgb: sRGB in [0, 1].
TRANSFER_HD void srgb_to_lab_px(const float* rgb, float* lab) {
  linear_to_lab_px(srgb_to_linear(rgb[0]), srgb_to_linear(rgb[1]), srgb_to_linear(rgb[2]), lab);
}

// Inverse of srgb_to_lab_px. Like scikit-image, negative Z is clipped to 0 and the result is
// clipped to the sRGB gamut [0, 1].
TRANSFER_HD void lab_to_srgb_px(const float* lab, float* rgb) {
  const float fy = (lab[0] + 16.0f) / 116.0f;
  const float fx = lab[1] / 500.0f + fy;
  float fz = fy - lab[2] / 200.0f;
  if (fz < 0.0f) fz = 0.0f;
  const float x = lab_f_inv(fx) * kWhiteX, y = lab_f_inv(fy) * kWhiteY, z = lab_f_inv(fz) * kWhiteZ;
  const float r = 3.2404813432f * x - 1.5371515163f * y - 0.4985363262f * z;
  const float g = -0.9692549500f * x + 1.8759900015f * y + 0.0415559266f * z;
  const float b = 0.0556466391f * x - 0.2040413384f * y + 1.0573110696f * z;
  rgb[0] = clamp01(linear_to_srgb(r));
  rgb[1] = clamp01(linear_to_srgb(g));
  rgb[2] = clamp01(linear_to_srgb(b));
}

// A 3-D look-up table at one color, by trilinear interpolation. lut holds n^3 RGB entries
// (n >= 2), lut[((r * n + g) * n + b) * 3 + c] the output of the input (r, g, b) / (n - 1);
// rgb is clamped to [0, 1] (a color beyond the grid takes its face's values).
TRANSFER_HD void lut3d_trilinear_px(const float* lut, int n, const float* rgb, float* out) {
  int64_t base = 0;
  float f[3];
  for (int c = 0; c < 3; ++c) {
    const float p = clamp01(rgb[c]) * static_cast<float>(n - 1);
    const int top = static_cast<int>(p);  // the cell's lower corner; the last cell at 1
    const int k = top < n - 2 ? top : n - 2;
    f[c] = p - static_cast<float>(k);
    base = base * n + k;
  }
  const int64_t sb = 3, sg = 3 * static_cast<int64_t>(n), sr = sg * n;
  const float* q = lut + base * 3;
  for (int c = 0; c < 3; ++c, ++q) {  // along b, then g, then r
    const float c00 = q[0] + f[2] * (q[sb] - q[0]);
    const float c01 = q[sg] + f[2] * (q[sg + sb] - q[sg]);
    const float c10 = q[sr] + f[2] * (q[sr + sb] - q[sr]);
    const float c11 = q[sr + sg] + f[2] * (q[sr + sg + sb] - q[sr + sg]);
    const float c0 = c00 + f[1] * (c01 - c00), c1 = c10 + f[1] * (c11 - c10);
    out[c] = c0 + f[0] * (c1 - c0);
  }
}

}  // namespace transfer::color
