// Plain C++ interface of the CUDA module (implemented in .cu files, bound in
// bindings/module_cuda.cpp). Device pointers in, device pointers out; no pybind11 here.
#pragma once

#include <cstddef>
#include <cstdint>

namespace transfer::cuda {

// Number of visible CUDA devices; 0 when there is no driver or no GPU (never throws).
int device_count();

// Device memory helpers used by the bindings to stage NumPy buffers.
void* device_alloc(size_t bytes);
void device_free(void* ptr);
void copy_to_device(void* dst, const void* src, size_t bytes);
void copy_to_host(void* dst, const void* src, size_t bytes);
void synchronize();

}  // namespace transfer::cuda
