#include "regrain/regrain.h"

#include <cmath>
#include <utility>
#include <vector>

#include "common/parallel.h"
#include "regrain/regrain_kernel.h"

namespace transfer::regrain {

void solve_level_cpu(float* out, const float* in, const float* col, int64_t h, int64_t w, int c,
                     int iterations, int level, float smoothness) {
  const int64_t n = h * w;
  std::vector<float> psi(n), phi(n), wn(4 * n), den(n), next(n * c);
  parallel_for(n, [&](int64_t p) {
    weights_px(in, h, w, c, p / w, p % w, level, smoothness, &psi[p], &phi[p]);
  });
  parallel_for(n, [&](int64_t p) {
    edge_weights_px(psi.data(), phi.data(), h, w, p / w, p % w, &wn[4 * p], &den[p]);
  });
  // Double-buffered Jacobi steps: each pixel reads only the previous iterate, so the result
  // does not depend on the thread count.
  float* cur = out;
  float* nxt = next.data();
  for (int it = 0; it < iterations; ++it) {
    parallel_for(h, [&](int64_t y) {
      for (int64_t x = 0; x < w; ++x)
        step_px(cur, in, col, psi.data(), wn.data(), den.data(), h, w, c, y, x, nxt);
    });
    std::swap(cur, nxt);
  }
  if (cur != out)
    parallel_for(n * c, [&](int64_t i) { out[i] = cur[i]; });
}

}  // namespace transfer::regrain
