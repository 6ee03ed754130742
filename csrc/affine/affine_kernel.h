// Per-pixel body of the local affine color models' application (algorithm.md section 4):
// the models, solved on a coarser grid, sampled at the pixel, applied to its color in the
// models' space (CIELab scaled to [0, 1] per channel), and the result back in sRGB. One pass
// over the full-size image, with no full-size copy of the models or of the source's Lab.
#pragma once

#include <stdint.h>

#include "color/color_kernel.h"
#include "common/hd.h"
#include "resample/resample_kernel.h"

namespace transfer::affine {

// CIELab (L in [0, 100], a and b in about [-128, 127]) <-> each channel in [0, 1]; the
// scaling of transfer.neural.affine.lab_to_unit.
TRANSFER_HD void lab_to_unit_px(float* v) {
  v[0] = v[0] / 100.0f;
  v[1] = (v[1] + 128.0f) / 255.0f;
  v[2] = (v[2] + 128.0f) / 255.0f;
}

TRANSFER_HD void unit_to_lab_px(float* v) {
  v[0] = v[0] * 100.0f;
  v[1] = v[1] * 255.0f - 128.0f;
  v[2] = v[2] * 255.0f - 128.0f;
}

// Output pixel (y, x) of an (h, w) image: the models (hm, wm, 6), a per channel then b,
// sampled bilinearly (transfer.resample's pixel-centre alignment), and
// out = sRGB(clip(a * unit(src) + b, 0, 1)); src and out (h, w, 3) float sRGB.
TRANSFER_HD void apply_affine_px(const float* models, int64_t hm, int64_t wm, const float* src,
                                 int64_t h, int64_t w, int64_t y, int64_t x, float* out) {
  float ab[6], v[3];
  resample::bilinear_at(models, hm, wm, 6, h, w, y, x, ab);
  const int64_t p = (y * w + x) * 3;
  color::srgb_to_lab_px(src + p, v);
  lab_to_unit_px(v);
  for (int k = 0; k < 3; ++k) v[k] = color::clamp01(ab[k] * v[k] + ab[3 + k]);
  unit_to_lab_px(v);
  color::lab_to_srgb_px(v, out + p);
}

}  // namespace transfer::affine
