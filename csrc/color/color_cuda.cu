#include "color/color.h"

#include "color/color_kernel.h"
#include "common/cuda_check.h"

namespace transfer::color::cuda {
namespace {

// Grid-stride loops over pixels calling the shared per-pixel bodies.
__global__ void srgb_to_lab_kernel(const float* rgb, float* lab, int64_t n) {
  TRANSFER_GRID_STRIDE(i, n) srgb_to_lab_px(rgb + 3 * i, lab + 3 * i);
}

__global__ void lab_to_srgb_kernel(const float* lab, float* rgb, int64_t n) {
  TRANSFER_GRID_STRIDE(i, n) lab_to_srgb_px(lab + 3 * i, rgb + 3 * i);
}

__global__ void apply_lut3d_kernel(const float* lut, int n, const float* rgb, float* out, int64_t n_px) {
  TRANSFER_GRID_STRIDE(i, n_px) lut3d_trilinear_px(lut, n, rgb + 3 * i, out + 3 * i);
}

}  // namespace

using transfer::cuda::grid_size;
using transfer::cuda::kThreads;

void srgb_to_lab(const float* rgb, float* lab, int64_t n) {
  if (n == 0) return;
  srgb_to_lab_kernel<<<grid_size(n), kThreads>>>(rgb, lab, n);
  TRANSFER_CUDA_CHECK(cudaGetLastError());
  TRANSFER_CUDA_CHECK(cudaDeviceSynchronize());
}

void lab_to_srgb(const float* lab, float* rgb, int64_t n) {
  if (n == 0) return;
  lab_to_srgb_kernel<<<grid_size(n), kThreads>>>(lab, rgb, n);
  TRANSFER_CUDA_CHECK(cudaGetLastError());
  TRANSFER_CUDA_CHECK(cudaDeviceSynchronize());
}

void apply_lut3d(const float* lut, int n, const float* rgb, float* out, int64_t n_px) {
  if (n_px == 0) return;
  apply_lut3d_kernel<<<grid_size(n_px), kThreads>>>(lut, n, rgb, out, n_px);
  TRANSFER_CUDA_CHECK(cudaGetLastError());
  TRANSFER_CUDA_CHECK(cudaDeviceSynchronize());
}

}  // namespace transfer::color::cuda
