// Per-pixel body of bilinear resampling with pixel-center alignment (the convention of
// OpenCV's INTER_LINEAR and scikit-image's resize(order=1, anti_aliasing=False)); edges clamp.
#pragma once

#include <stdint.h>

#include "common/hd.h"

namespace transfer::resample {

// Output pixel (y, x) of an (out_h, out_w) resize of the (h, w, c) image `in`, written to
// value[0..c).
TRANSFER_HD void bilinear_at(const float* in, int64_t h, int64_t w, int c, int64_t out_h,
                             int64_t out_w, int64_t y, int64_t x, float* value) {
  float sy = (static_cast<float>(y) + 0.5f) * (static_cast<float>(h) / out_h) - 0.5f;
  float sx = (static_cast<float>(x) + 0.5f) * (static_cast<float>(w) / out_w) - 0.5f;
  sy = sy < 0.0f ? 0.0f : (sy > h - 1 ? static_cast<float>(h - 1) : sy);
  sx = sx < 0.0f ? 0.0f : (sx > w - 1 ? static_cast<float>(w - 1) : sx);
  const int64_t y0 = static_cast<int64_t>(sy), x0 = static_cast<int64_t>(sx);
  const int64_t y1 = y0 + 1 < h ? y0 + 1 : y0, x1 = x0 + 1 < w ? x0 + 1 : x0;
  const float fy = sy - y0, fx = sx - x0;
  for (int k = 0; k < c; ++k) {
    const float top = in[(y0 * w + x0) * c + k] + fx * (in[(y0 * w + x1) * c + k] - in[(y0 * w + x0) * c + k]);
    const float bot = in[(y1 * w + x0) * c + k] + fx * (in[(y1 * w + x1) * c + k] - in[(y1 * w + x0) * c + k]);
    value[k] = top + fy * (bot - top);
  }
}

// The same, written to out (out_h, out_w, c).
TRANSFER_HD void bilinear_px(const float* in, int64_t h, int64_t w, int c, int64_t out_h,
                             int64_t out_w, int64_t y, int64_t x, float* out) {
  bilinear_at(in, h, w, c, out_h, out_w, y, x, out + (y * out_w + x) * c);
}

}  // namespace transfer::resample
