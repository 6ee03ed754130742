#include "affine/affine.h"

#include "affine/affine_kernel.h"
#include "common/parallel.h"

namespace transfer::affine {

void apply_affine_cpu(const float* models, int64_t hm, int64_t wm, const float* src, int64_t h,
                      int64_t w, float* out) {
  parallel_for(h, [&](int64_t y) {
    for (int64_t x = 0; x < w; ++x) apply_affine_px(models, hm, wm, src, h, w, y, x, out);
  });
}

}  // namespace transfer::affine
