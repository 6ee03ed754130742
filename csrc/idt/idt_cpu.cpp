#include "idt/idt.h"

#include <limits>
#include <vector>

#include "common/parallel.h"
#include "histogram/histogram_impl.h"
#include "idt/idt_kernel.h"

namespace transfer::idt {

void projected_range_cpu(const float* x, const int64_t* w, int64_t n, const float* R,
                         double* mins, double* maxs) {
  const int nt = num_threads();
  // Extrema per thread, kept in registers in the loop (no false sharing) and merged after;
  // min/max are exact, so the merge order is irrelevant.
  std::vector<double> lo(3 * nt, std::numeric_limits<double>::infinity());
  std::vector<double> hi(3 * nt, -std::numeric_limits<double>::infinity());
#pragma omp parallel
  {
    double l[3], h[3];
    for (int a = 0; a < 3; ++a) {
      l[a] = std::numeric_limits<double>::infinity();
      h[a] = -std::numeric_limits<double>::infinity();
    }
#pragma omp for schedule(static)
    for (int64_t i = 0; i < n; ++i) {
      if (w[i] == 0) continue;
      double p[3];
      project_px(x + 3 * i, R, p);
      for (int a = 0; a < 3; ++a) {
        l[a] = p[a] < l[a] ? p[a] : l[a];
        h[a] = p[a] > h[a] ? p[a] : h[a];
      }
    }
    const int t = omp_get_thread_num();
    for (int a = 0; a < 3; ++a) {
      lo[3 * t + a] = l[a];
      hi[3 * t + a] = h[a];
    }
  }
  for (int a = 0; a < 3; ++a) {
    mins[a] = std::numeric_limits<double>::infinity();
    maxs[a] = -std::numeric_limits<double>::infinity();
    for (int t = 0; t < nt; ++t) {
      mins[a] = lo[3 * t + a] < mins[a] ? lo[3 * t + a] : mins[a];
      maxs[a] = hi[3 * t + a] > maxs[a] ? hi[3 * t + a] : maxs[a];
    }
  }
}

void projected_histogram_cpu(const float* x, const int64_t* w, int64_t n, const float* R,
                             int bins, const double* lo, const double* hi, int64_t* counts) {
  hist::accumulate_histogram(n, 3, bins, lo, hi, counts, [&](int64_t i, double* p) -> int64_t {
    if (w[i] != 0) project_px(x + 3 * i, R, p);
    return w[i];
  });
}

void update_cpu(float* x, int64_t n, const float* R, const float* left, const float* right,
                int bins, const double* lo, const double* hi, float relax) {
  double inv_width[3];
  for (int a = 0; a < 3; ++a) inv_width[a] = bins / (hi[a] - lo[a]);
  parallel_for(n, [&](int64_t i) {
    update_px(x + 3 * i, R, left, right, bins, lo, inv_width, relax);
  });
}

}  // namespace transfer::idt
