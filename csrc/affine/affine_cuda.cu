#include "affine/affine.h"
#include "affine/affine_kernel.h"
#include "common/cuda_check.h"

namespace transfer::affine::cuda {
namespace {

__global__ void apply_affine_kernel(const float* models, int64_t hm, int64_t wm, const float* src,
                                    int64_t h, int64_t w, float* out) {
  TRANSFER_GRID_STRIDE(p, h * w) { apply_affine_px(models, hm, wm, src, h, w, p / w, p % w, out); }
}

}  // namespace

void apply_affine(const float* models, int64_t hm, int64_t wm, const float* src, int64_t h,
                  int64_t w, float* out) {
  apply_affine_kernel<<<transfer::cuda::grid_size(h * w), transfer::cuda::kThreads>>>(models, hm, wm, src, h, w, out);
  TRANSFER_CUDA_CHECK(cudaGetLastError());
  TRANSFER_CUDA_CHECK(cudaDeviceSynchronize());
}

}  // namespace transfer::affine::cuda
