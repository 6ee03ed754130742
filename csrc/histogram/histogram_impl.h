// CPU histogram accumulation shared by the plain and the projected (IDT) histograms.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "common/parallel.h"
#include "histogram/histogram_kernel.h"

namespace transfer::hist {

// counts[c * bins + b] = total weight of the items i whose value c falls in bin b of
// [lo[c], hi[c]); get(i, values) writes item i's values and returns its integer weight.
// One private histogram per thread, merged afterwards: integer sums are exact, so the result
// is identical for any thread count.
template <class Get>
void accumulate_histogram(int64_t n, int channels, int bins, const double* lo, const double* hi,
                          int64_t* counts, Get&& get) {
  double inv[4];
  for (int c = 0; c < channels; ++c) inv[c] = bins / (hi[c] - lo[c]);
  const size_t per_thread = static_cast<size_t>(channels) * bins;
  std::vector<int64_t> local(static_cast<size_t>(num_threads()) * per_thread, 0);
#pragma omp parallel
  {
    int64_t* h = local.data() + static_cast<size_t>(omp_get_thread_num()) * per_thread;
    double values[4];
#pragma omp for schedule(static)
    for (int64_t i = 0; i < n; ++i) {
      const int64_t weight = get(i, values);
      if (weight == 0) continue;
      for (int c = 0; c < channels; ++c)
        h[c * bins + bin_index(values[c], lo[c], inv[c], bins)] += weight;
    }
  }
  std::fill(counts, counts + per_thread, 0);
  for (size_t t = 0; t < local.size() / per_thread; ++t)
    for (size_t j = 0; j < per_thread; ++j) counts[j] += local[t * per_thread + j];
}

}  // namespace transfer::hist
