#pragma once

#include <cstdint>

namespace transfer::regrain {

// `iterations` damped Jacobi steps at one pyramid level; out (h x w x c) is updated in place.
void solve_level_cpu(float* out, const float* in, const float* col, int64_t h, int64_t w, int c,
                     int iterations, int level, float smoothness);

}  // namespace transfer::regrain
