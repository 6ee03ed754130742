// Per-pixel bodies of iterative distribution transfer (Pitie et al. 2005): project a color on
// the three axes of a rotation, and move it by the 1-D transfers of its projections.
#pragma once

#include "common/hd.h"
#include "histogram/histogram_kernel.h"

namespace transfer::idt {

// p[a] = <R[a, :], x> for the rows a of the row-major 3x3 rotation R.
TRANSFER_HD void project_px(const float* x, const float* R, double* p) {
  for (int a = 0; a < 3; ++a)
    p[a] = static_cast<double>(R[3 * a] * x[0] + R[3 * a + 1] * x[1] + R[3 * a + 2] * x[2]);
}

// x += relax * R^T (t(p) - p) with p = R x, where t applies, per axis a, the bin_affine map
// with tables left/right[a * bins + .] over [lo[a], lo[a] + bins / inv_width[a]).
TRANSFER_HD void update_px(float* x, const float* R, const float* left, const float* right,
                           int bins, const double* lo, const double* inv_width, float relax) {
  float d[3];
  for (int a = 0; a < 3; ++a) {
    const float p = R[3 * a] * x[0] + R[3 * a + 1] * x[1] + R[3 * a + 2] * x[2];
    d[a] = hist::bin_affine(p, lo[a], inv_width[a], bins, left + a * bins, right + a * bins) - p;
  }
  for (int c = 0; c < 3; ++c) x[c] += relax * (R[c] * d[0] + R[3 + c] * d[1] + R[6 + c] * d[2]);
}

}  // namespace transfer::idt
