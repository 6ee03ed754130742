// Per-pixel bodies of the grain-reduction solver of Pitie et al. (2007, "Automated colour
// grading using colour distribution transfer", section 5): the output keeps the gradients of
// the original image `in` where it is flat and the colors of the transferred image `col`.
// Borders replicate the edge pixel.
#pragma once

#include <stdint.h>

#include "common/hd.h"

namespace transfer::regrain {

TRANSFER_HD int64_t clampi(int64_t v, int64_t lo, int64_t hi) { return v < lo ? lo : (v > hi ? hi : v); }

// The 4-neighbours of (y, x) in the order right, down, left, up (clamped at the borders).
TRANSFER_HD void neighbours(int64_t h, int64_t w, int64_t y, int64_t x, int64_t* nb) {
  nb[0] = y * w + clampi(x + 1, 0, w - 1);
  nb[1] = clampi(y + 1, 0, h - 1) * w + x;
  nb[2] = y * w + clampi(x - 1, 0, w - 1);
  nb[3] = clampi(y - 1, 0, h - 1) * w + x;
}

// Data weight psi and smoothness weight phi at pixel (y, x) from the gradient of `in`.
TRANSFER_HD void weights_px(const float* in, int64_t h, int64_t w, int c, int64_t y, int64_t x,
                            int level, float smoothness, float* psi, float* phi) {
  const int64_t xl = clampi(x - 1, 0, w - 1), xr = clampi(x + 1, 0, w - 1);
  const int64_t yu = clampi(y - 1, 0, h - 1), yd = clampi(y + 1, 0, h - 1);
  float g2 = 0.0f;
  for (int k = 0; k < c; ++k) {
    const float dx = in[(y * w + xr) * c + k] - in[(y * w + xl) * c + k];
    const float dy = in[(yd * w + x) * c + k] - in[(yu * w + x) * c + k];
    g2 += dx * dx + dy * dy;
  }
  const float delta = sqrtf(g2);
  const float p = 256.0f * delta / 5.0f;
  *psi = p > 1.0f ? 1.0f : p;
  *phi = 30.0f * ldexpf(1.0f, -level) / (1.0f + 10.0f * delta / smoothness);
}

// Edge weights wn[4] (mean of phi over each neighbour pair) and the denominator
// psi + sum(wn) of pixel (y, x); fixed for all iterations of a level.
TRANSFER_HD void edge_weights_px(const float* psi, const float* phi, int64_t h, int64_t w,
                                 int64_t y, int64_t x, float* wn, float* den) {
  int64_t nb[4];
  neighbours(h, w, y, x, nb);
  const int64_t p = y * w + x;
  float d = psi[p];
  for (int j = 0; j < 4; ++j) {
    wn[j] = 0.5f * (phi[nb[j]] + phi[p]);
    d += wn[j];
  }
  *den = d;
}

// One damped Jacobi step of the authors' scheme: the new value of pixel (y, x) from the
// previous iterate `out`.
TRANSFER_HD void step_px(const float* out, const float* in, const float* col, const float* psi,
                         const float* wn, const float* den, int64_t h, int64_t w, int c,
                         int64_t y, int64_t x, float* next) {
  const float rho = 0.2f, eps = 1e-6f;
  const int64_t p = y * w + x;
  int64_t nb[4];
  neighbours(h, w, y, x, nb);
  const float* wp = wn + 4 * p;
  for (int k = 0; k < c; ++k) {
    const float ip = in[p * c + k];
    float num = psi[p] * col[p * c + k];
    for (int j = 0; j < 4; ++j) num += wp[j] * (out[nb[j] * c + k] - in[nb[j] * c + k] + ip);
    next[p * c + k] = num / (den[p] + eps) * (1.0f - rho) + rho * out[p * c + k];
  }
}

}  // namespace transfer::regrain
