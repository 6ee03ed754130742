#include "stats/stats.h"

#include <cstddef>
#include <vector>

#include "common/parallel.h"

namespace transfer::stats {

namespace {

// Three channels (colors: the common case) in straight-line code the compiler unrolls;
// the same sums, in the same order, as the general loops below.
void moments3(const float* x, int64_t n, double* mean, double* cov) {
  auto sums = chunked_range_sums(n, 3, [&](int64_t i0, int64_t i1, double* acc) {
    double s0 = 0, s1 = 0, s2 = 0;
    for (int64_t i = i0; i < i1; ++i) {
      s0 += x[3 * i];
      s1 += x[3 * i + 1];
      s2 += x[3 * i + 2];
    }
    acc[0] += s0, acc[1] += s1, acc[2] += s2;
  });
  for (int j = 0; j < 3; ++j) mean[j] = n > 0 ? sums[j] / n : 0.0;
  const double m0 = mean[0], m1 = mean[1], m2 = mean[2];
  auto prods = chunked_range_sums(n, 6, [&](int64_t i0, int64_t i1, double* acc) {
    double p00 = 0, p01 = 0, p02 = 0, p11 = 0, p12 = 0, p22 = 0;
    for (int64_t i = i0; i < i1; ++i) {
      const double d0 = x[3 * i] - m0, d1 = x[3 * i + 1] - m1, d2 = x[3 * i + 2] - m2;
      p00 += d0 * d0, p01 += d0 * d1, p02 += d0 * d2;
      p11 += d1 * d1, p12 += d1 * d2, p22 += d2 * d2;
    }
    acc[0] += p00, acc[1] += p01, acc[2] += p02, acc[3] += p11, acc[4] += p12, acc[5] += p22;
  });
  const int at[9] = {0, 1, 2, 1, 3, 4, 2, 4, 5};  // the symmetric matrix from its upper half
  for (int j = 0; j < 9; ++j) cov[j] = n > 0 ? prods[at[j]] / n : 0.0;
}

}  // namespace

void moments_cpu(const float* x, int64_t n, int channels, double* mean, double* cov) {
  if (channels == 3) return moments3(x, n, mean, cov);
  const int c = channels;
  auto sums = chunked_sums(n, c, [&](int64_t i, double* v) {
    for (int j = 0; j < c; ++j) v[j] = x[i * c + j];
  });
  for (int j = 0; j < c; ++j) mean[j] = n > 0 ? sums[j] / n : 0.0;
  auto prods = chunked_sums(n, c * c, [&](int64_t i, double* v) {
    double d[4];
    for (int j = 0; j < c; ++j) d[j] = x[i * c + j] - mean[j];
    for (int j = 0; j < c; ++j)
      for (int k = 0; k < c; ++k) v[j * c + k] = d[j] * d[k];
  });
  for (int j = 0; j < c * c; ++j) cov[j] = n > 0 ? prods[j] / n : 0.0;
}

}  // namespace transfer::stats

namespace transfer::stats {

void distinct_colors_u8_cpu(const uint8_t* px, int64_t n, int channels, std::vector<int32_t>& ids,
                            std::vector<int64_t>& counts, int32_t* inverse) {
  constexpr uint32_t kSeen = 1u << 31;  // color occurs (possibly only under alpha 0)
  auto key = [&](int64_t i) {
    const uint8_t* p = px + i * channels;
    return (static_cast<uint32_t>(p[0]) << 16) | (static_cast<uint32_t>(p[1]) << 8) | p[2];
  };
  // One slot per 24-bit color: the seen flag and the visible-pixel count, then the index.
  std::vector<uint32_t> table(1u << 24, 0u);
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    const uint32_t add = kSeen | ((channels < 4 || px[i * channels + 3] > 0) ? 1u : 0u);
    uint32_t& slot = table[key(i)];
    // Integer atomics: the counts are exact whatever the interleaving.
#pragma omp atomic
    slot |= kSeen;
#pragma omp atomic
    slot += add & 1u;
  }
  ids.clear();
  counts.clear();
  for (uint32_t k = 0; k < (1u << 24); ++k) {
    if (table[k] & kSeen) {
      counts.push_back(table[k] & ~kSeen);
      table[k] = static_cast<uint32_t>(ids.size());
      ids.push_back(static_cast<int32_t>(k));
    }
  }
  parallel_for(n, [&](int64_t i) { inverse[i] = static_cast<int32_t>(table[key(i)]); });
}

}  // namespace transfer::stats
