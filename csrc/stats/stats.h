// Color statistics over n interleaved float32 samples of `channels` (1 to 4) values.
#pragma once

#include <cstdint>
#include <vector>

namespace transfer::stats {

// mean[c] and covariance cov[c * channels + d] (divided by n), in double precision, by two
// passes. Sums run over fixed-size chunks combined in a fixed order, so the result is
// bit-identical for any thread count.
void moments_cpu(const float* x, int64_t n, int channels, double* mean, double* cov);

}  // namespace transfer::stats

namespace transfer::stats {

// The distinct colors of n 8-bit pixels (channels 3, or 4 with alpha last). ids receives
// the distinct colors as keys r << 16 | g << 8 | b in increasing order, counts the number of
// visible pixels (alpha > 0, or all without alpha) of each, and inverse[i] the index in ids
// of pixel i. Deterministic: the order is the key order.
void distinct_colors_u8_cpu(const uint8_t* px, int64_t n, int channels, std::vector<int32_t>& ids,
                            std::vector<int64_t>& counts, int32_t* inverse);

}  // namespace transfer::stats
