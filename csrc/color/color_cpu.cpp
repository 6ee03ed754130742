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

}  // namespace transfer::color
