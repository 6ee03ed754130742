// Kernels of one IDT iteration over n interleaved RGB float32 pixels; the loop over
// iterations and the 1-D transfer maps live in transfer/classical.py.
#pragma once

#include <cstdint>

namespace transfer::idt {

// The colors x come with integer weights w (pixel counts of each distinct color, or 1/0 for
// visible/transparent pixels); colors of weight 0 take no part in ranges or histograms.

// Per-axis min and max of the projections of x (weight > 0) on the rows of R.
void projected_range_cpu(const float* x, const int64_t* w, int64_t n, const float* R,
                         double* mins, double* maxs);

// counts[a * bins + b]: total weight of the projections on axis a in bin b of [lo[a], hi[a]).
void projected_histogram_cpu(const float* x, const int64_t* w, int64_t n, const float* R,
                             int bins, const double* lo, const double* hi, int64_t* counts);

// In place: x += relax * R^T (t(R x) - R x), t given per axis by the bin maps left/right
// (3 x bins over [lo, hi)).
void update_cpu(float* x, int64_t n, const float* R, const float* left, const float* right,
                int bins, const double* lo, const double* hi, float relax);

}  // namespace transfer::idt
