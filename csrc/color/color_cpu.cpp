#include "color/color.h"

#include "color/color_kernel.h"
#include "common/parallel.h"

namespace transfer::color {

void srgb_to_lab_cpu(const float* rgb, float* lab, int64_t n) {
  parallel_for(n, [&](int64_t i) { srgb_to_lab_px(rgb + 3 * i, lab + 3 * i); });
}

void lab_to_srgb_cpu(const float* lab, float* rgb, int64_t n) {
  parallel_for(n, [&](int64_t i) { lab_to_srgb_px(lab + 3 * i, rgb + 3 * i); });
}

void lab_affine_to_srgb_cpu(const float* lab, const float* scale, const float* shift, float* rgb,
                            int64_t n) {
  parallel_for(n, [&](int64_t i) {
    float v[3];
    for (int c = 0; c < 3; ++c) v[c] = lab[3 * i + c] * scale[c] + shift[c];
    lab_to_srgb_px(v, rgb + 3 * i);
  });
}

void srgb8_to_lab_cpu(const uint8_t* rgb, int channels, float* lab, int64_t n) {
  float linear[256];
  for (int k = 0; k < 256; ++k) linear[k] = srgb_to_linear(static_cast<float>(k) * (1.0f / 255.0f));
  parallel_for(n, [&](int64_t i) {
    const uint8_t* p = rgb + i * channels;
    linear_to_lab_px(linear[p[0]], linear[p[1]], linear[p[2]], lab + 3 * i);
  });
}

void lab_affine_u8_cpu(const uint8_t* px, int channels, const float* scale, const float* shift,
                       uint8_t* out, int64_t n) {
  float linear[256];
  for (int k = 0; k < 256; ++k) linear[k] = srgb_to_linear(static_cast<float>(k) * (1.0f / 255.0f));
  parallel_for(n, [&](int64_t i) {
    const uint8_t* p = px + i * channels;
    uint8_t* q = out + i * channels;
    float lab[3], rgb[3];
    linear_to_lab_px(linear[p[0]], linear[p[1]], linear[p[2]], lab);
    for (int c = 0; c < 3; ++c) lab[c] = lab[c] * scale[c] + shift[c];
    lab_to_srgb_px(lab, rgb);
    for (int c = 0; c < 3; ++c) q[c] = static_cast<uint8_t>(rintf(clamp01(rgb[c]) * 255.0f));
    if (channels == 4) q[3] = p[3];
  });
}

void apply_lut3d_cpu(const float* lut, int n, const float* rgb, float* out, int64_t n_px) {
  parallel_for(n_px, [&](int64_t i) { lut3d_trilinear_px(lut, n, rgb + 3 * i, out + 3 * i); });
}

void apply_lut3d_u8_cpu(const float* lut, int n, const uint8_t* px, int channels, uint8_t* out,
                        int64_t n_px) {
  parallel_for(n_px, [&](int64_t i) {
    const uint8_t* p = px + i * channels;
    uint8_t* q = out + i * channels;
    float rgb[3], v[3];
    for (int c = 0; c < 3; ++c) rgb[c] = static_cast<float>(p[c]) * (1.0f / 255.0f);
    lut3d_trilinear_px(lut, n, rgb, v);
    for (int c = 0; c < 3; ++c) q[c] = static_cast<uint8_t>(rintf(clamp01(v[c]) * 255.0f));
    if (channels == 4) q[3] = p[3];
  });
}

}  // namespace transfer::color
