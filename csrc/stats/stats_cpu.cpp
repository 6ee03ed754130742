#include "stats/stats.h"

#include <cstddef>
#include <vector>

#include "common/parallel.h"

namespace transfer::stats {

void moments_cpu(const float* x, int64_t n, int channels, double* mean, double* cov) {
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
