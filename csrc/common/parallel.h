// CPU side of the kernels: a static-schedule OpenMP loop. Static scheduling gives each
// thread a fixed index range, and every kernel writes only its own outputs (or private
// partial results merged in thread order with exact integer arithmetic), so results do not
// depend on the thread count.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include <omp.h>

namespace transfer {

// Loops of fewer than `from` items run on the calling thread: starting a region costs more
// than a small loop of cheap items takes (tens of microseconds where the team sleeps).
template <class F>
void parallel_for(int64_t n, F&& f, int64_t from = 2) {
#pragma omp parallel for schedule(static) if (n >= from)
  for (int64_t i = 0; i < n; ++i) f(i);
}

// `from` for loops over the nodes of a grid (per value of a vector: times the values per node)
constexpr int64_t kSerialNodes = 1 << 14;

inline int num_threads() { return omp_get_max_threads(); }

constexpr int64_t kSumChunk = 1 << 14;  // items per partial sum: fixed, not per thread
constexpr int kMaxSumWidth = 32;

// Sums over i < n of `width` <= kMaxSumWidth values per item: range(i0, i1, acc) adds the
// items of [i0, i1) to acc[0, width), in order. The ranges are fixed-size chunks whose
// partial sums are added in chunk order, so the result is bit-identical for any thread count.
template <class Range>
std::vector<double> chunked_range_sums(int64_t n, int width, Range&& range) {
  const int64_t chunks = (n + kSumChunk - 1) / kSumChunk;
  std::vector<double> partial(static_cast<std::size_t>(chunks) * width, 0.0);
  parallel_for(chunks, [&](int64_t k) {
    const int64_t end = (k + 1) * kSumChunk < n ? (k + 1) * kSumChunk : n;
    double acc[kMaxSumWidth] = {0};  // a thread's own: no false sharing while it adds
    range(k * kSumChunk, end, acc);
    for (int j = 0; j < width; ++j) partial[k * width + j] = acc[j];
  });
  std::vector<double> total(width, 0.0);
  for (int64_t k = 0; k < chunks; ++k)
    for (int j = 0; j < width; ++j) total[j] += partial[k * width + j];
  return total;
}

// Sums of term(i, v) over i < n, width <= kMaxSumWidth values per item (see above).
template <class Term>
std::vector<double> chunked_sums(int64_t n, int width, Term&& term) {
  return chunked_range_sums(n, width, [&](int64_t i0, int64_t i1, double* acc) {
    double v[kMaxSumWidth];
    for (int64_t i = i0; i < i1; ++i) {
      term(i, v);
      for (int j = 0; j < width; ++j) acc[j] += v[j];
    }
  });
}

}  // namespace transfer
