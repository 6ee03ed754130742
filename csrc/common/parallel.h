// CPU side of the kernels: a static-schedule OpenMP loop. Static scheduling gives each
// thread a fixed index range, and every kernel writes only its own outputs (or private
// partial results merged in thread order with exact integer arithmetic), so results do not
// depend on the thread count.
#pragma once

#include <cstdint>
#include <omp.h>

namespace transfer {

template <class F>
void parallel_for(int64_t n, F&& f) {
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) f(i);
}

inline int num_threads() { return omp_get_max_threads(); }

}  // namespace transfer
