// Per-element bodies of the 1-D distribution kernels (histogram binning, look-up-table
// interpolation), shared by the CPU loops and the CUDA kernels. Binning is done in double so
// that the NumPy reference (float64) puts every value in the same bin.
#pragma once

#include "common/hd.h"

namespace transfer::hist {

// Bin of v among `bins` equal bins over [lo, hi), inv_width = bins / (hi - lo). Values below
// lo (or NaN) fall in the first bin, values at or above hi in the last.
TRANSFER_HD int bin_index(double v, double lo, double inv_width, int bins) {
  const double t = (v - lo) * inv_width;
  if (!(t >= 0.0)) return 0;
  if (t >= static_cast<double>(bins)) return bins - 1;
  return static_cast<int>(t);
}

// Piecewise-affine map over `bins` equal bins of [lo, hi): inside bin k it goes linearly from
// left[k] at the lower edge to right[k] at the upper edge (a 1-D transfer map; see
// transfer.classical.cdf_transfer_map). Constant beyond the ends.
TRANSFER_HD float bin_affine(float v, double lo, double inv_width, int bins, const float* left,
                             const float* right) {
  const double t = (static_cast<double>(v) - lo) * inv_width;
  if (!(t > 0.0)) return left[0];
  if (t >= static_cast<double>(bins)) return right[bins - 1];
  const int k = static_cast<int>(t);
  const float f = static_cast<float>(t - k);
  return left[k] + f * (right[k] - left[k]);
}

}  // namespace transfer::hist
