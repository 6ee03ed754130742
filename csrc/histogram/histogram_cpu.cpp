#include "histogram/histogram.h"

#include "common/parallel.h"
#include "histogram/histogram_impl.h"
#include "histogram/histogram_kernel.h"

namespace transfer::hist {

template <class T>
void histogram_cpu(const T* x, int64_t n, int channels, int bins, const double* lo,
                   const double* hi, int64_t* counts) {
  accumulate_histogram(n, channels, bins, lo, hi, counts, [&](int64_t i, double* v) -> int64_t {
    for (int c = 0; c < channels; ++c) v[c] = static_cast<double>(x[i * channels + c]);
    return 1;
  });
}

template void histogram_cpu<uint8_t>(const uint8_t*, int64_t, int, int, const double*,
                                     const double*, int64_t*);
template void histogram_cpu<uint16_t>(const uint16_t*, int64_t, int, int, const double*,
                                      const double*, int64_t*);
template void histogram_cpu<float>(const float*, int64_t, int, int, const double*,
                                   const double*, int64_t*);

void apply_bin_map_cpu(const float* x, int64_t n, int channels, const float* left,
                       const float* right, int bins, const double* lo, const double* hi, float* out) {
  double inv_width[4];
  for (int c = 0; c < channels; ++c) inv_width[c] = bins / (hi[c] - lo[c]);
  parallel_for(n, [&](int64_t i) {
    for (int c = 0; c < channels; ++c) {
      const size_t off = static_cast<size_t>(c) * bins;
      out[i * channels + c] =
          bin_affine(x[i * channels + c], lo[c], inv_width[c], bins, left + off, right + off);
    }
  });
}

void apply_lut_u8_cpu(const uint8_t* x, int64_t n, int channels, const uint8_t* lut,
                      int lut_channels, uint8_t* out) {
  parallel_for(n, [&](int64_t i) {
    const uint8_t* px = x + i * channels;
    uint8_t* po = out + i * channels;
    for (int c = 0; c < channels; ++c) po[c] = c < lut_channels ? lut[c * 256 + px[c]] : px[c];
  });
}

}  // namespace transfer::hist
