#include "resample/resample.h"

#include "common/parallel.h"
#include "resample/resample_kernel.h"

namespace transfer::resample {

void resize_bilinear_cpu(const float* in, int64_t h, int64_t w, int c, int64_t out_h,
                         int64_t out_w, float* out) {
  parallel_for(out_h, [&](int64_t y) {
    for (int64_t x = 0; x < out_w; ++x) bilinear_px(in, h, w, c, out_h, out_w, y, x, out);
  });
}

}  // namespace transfer::resample
