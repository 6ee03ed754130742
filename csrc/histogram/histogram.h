// Histograms and look-up tables over interleaved multi-channel data.
#pragma once

#include <cstdint>

namespace transfer::hist {

// counts[c * bins + b]: number of x[i * channels + c] in bin b of [lo[c], hi[c]).
// Exact integer counts: the result does not depend on the thread count.
template <class T>
void histogram_cpu(const T* x, int64_t n, int channels, int bins, const double* lo,
                   const double* hi, int64_t* counts);

// out[i * channels + c] = bin_affine map of channel c (tables left/right[c * bins + .] over
// [lo[c], hi[c])) evaluated at x[i * channels + c].
void apply_bin_map_cpu(const float* x, int64_t n, int channels, const float* left,
                       const float* right, int bins, const double* lo, const double* hi, float* out);

// out[i * channels + c] = lut[c * 256 + x[i * channels + c]] for c < lut_channels; the other
// channels (alpha) are copied.
void apply_lut_u8_cpu(const uint8_t* x, int64_t n, int channels, const uint8_t* lut,
                      int lut_channels, uint8_t* out);

namespace cuda {
// Device pointers; counts (channels * bins) are overwritten.
void histogram(const float* x, int64_t n, int channels, int bins, const double* lo,
               const double* hi, unsigned long long* counts);
}  // namespace cuda

}  // namespace transfer::hist
