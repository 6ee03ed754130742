#include "common/cuda_runtime.h"

#include "common/cuda_check.h"

namespace transfer::cuda {

int device_count() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky "no driver" error
    return 0;
  }
  return n;
}

void* device_alloc(size_t bytes) {
  void* p = nullptr;
  TRANSFER_CUDA_CHECK(cudaMalloc(&p, bytes == 0 ? 1 : bytes));
  return p;
}

void device_free(void* ptr) { cudaFree(ptr); }

void copy_to_device(void* dst, const void* src, size_t bytes) {
  TRANSFER_CUDA_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyHostToDevice));
}

void copy_to_host(void* dst, const void* src, size_t bytes) {
  TRANSFER_CUDA_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyDeviceToHost));
}

void synchronize() { TRANSFER_CUDA_CHECK(cudaDeviceSynchronize()); }

}  // namespace transfer::cuda
