// transfer._cuda: host-side bindings of the CUDA launchers. This file is compiled by the host
// compiler; the .cu files export plain C++ functions over device pointers.
//   * NumPy functions stage their input on the device and copy the result back.
//   * *_ptr functions take raw device addresses (for example torch.Tensor.data_ptr() of CUDA
//     tensors) so callers that already hold device memory avoid the copies.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <string>
#include <vector>

#include "color/color.h"
#include "common/cuda_runtime.h"
#include "histogram/histogram.h"

namespace py = pybind11;
namespace tc = transfer::cuda;

namespace {

template <class T>
using carray = py::array_t<T, py::array::c_style | py::array::forcecast>;

// Device buffer freed on scope exit, also when a launcher throws.
struct DeviceBuffer {
  void* ptr;
  explicit DeviceBuffer(size_t bytes) : ptr(tc::device_alloc(bytes)) {}
  ~DeviceBuffer() { tc::device_free(ptr); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  template <class T>
  T* as() const { return static_cast<T*>(ptr); }
};

void require(bool ok, const std::string& msg) {
  if (!ok) throw py::value_error(msg);
}

carray<float> color_convert(const carray<float>& in, void (*fn)(const float*, float*, int64_t)) {
  require(in.ndim() >= 1 && in.shape(in.ndim() - 1) == 3, "expected an array of shape (..., 3)");
  std::vector<py::ssize_t> shape(in.shape(), in.shape() + in.ndim());
  carray<float> out(shape);
  const size_t bytes = static_cast<size_t>(in.size()) * sizeof(float);
  const float* src = in.data();
  float* dst = out.mutable_data();
  {
    py::gil_scoped_release nogil;
    DeviceBuffer d_in(bytes), d_out(bytes);
    tc::copy_to_device(d_in.ptr, src, bytes);
    fn(d_in.as<float>(), d_out.as<float>(), in.size() / 3);
    tc::copy_to_host(dst, d_out.ptr, bytes);
  }
  return out;
}

}  // namespace

PYBIND11_MODULE(_cuda, m) {
  m.doc() = "transfer CUDA kernels";
  m.def("device_count", &tc::device_count, "Visible CUDA devices (0 without driver or GPU).");

  m.def("srgb_to_lab", [](const carray<float>& rgb) {
    return color_convert(rgb, transfer::color::cuda::srgb_to_lab);
  }, py::arg("rgb"));
  m.def("lab_to_srgb", [](const carray<float>& lab) {
    return color_convert(lab, transfer::color::cuda::lab_to_srgb);
  }, py::arg("lab"));

  m.def("srgb_to_lab_ptr", [](std::uintptr_t rgb, std::uintptr_t lab, int64_t n) {
    py::gil_scoped_release nogil;
    transfer::color::cuda::srgb_to_lab(reinterpret_cast<const float*>(rgb),
                                       reinterpret_cast<float*>(lab), n);
  }, py::arg("rgb"), py::arg("lab"), py::arg("n"));
  m.def("lab_to_srgb_ptr", [](std::uintptr_t lab, std::uintptr_t rgb, int64_t n) {
    py::gil_scoped_release nogil;
    transfer::color::cuda::lab_to_srgb(reinterpret_cast<const float*>(lab),
                                       reinterpret_cast<float*>(rgb), n);
  }, py::arg("lab"), py::arg("rgb"), py::arg("n"));

  m.def("histogram", [](const carray<float>& x, int bins, const std::vector<double>& lo,
                        const std::vector<double>& hi) {
    require(x.ndim() == 2 && x.shape(1) >= 1 && x.shape(1) <= 4, "x must have shape (n, 1..4)");
    require(bins >= 1, "bins must be positive");
    const int channels = static_cast<int>(x.shape(1));
    require(lo.size() == static_cast<size_t>(channels) && hi.size() == lo.size(),
            "lo and hi need one value per channel");
    for (int c = 0; c < channels; ++c) require(hi[c] > lo[c], "hi must exceed lo");
    std::vector<unsigned long long> host(static_cast<size_t>(channels) * bins);
    const size_t in_bytes = static_cast<size_t>(x.size()) * sizeof(float);
    const float* src = x.data();
    {
      py::gil_scoped_release nogil;
      DeviceBuffer d_x(in_bytes), d_counts(host.size() * sizeof(unsigned long long));
      tc::copy_to_device(d_x.ptr, src, in_bytes);
      transfer::hist::cuda::histogram(d_x.as<float>(), x.shape(0), channels, bins, lo.data(),
                                      hi.data(), d_counts.as<unsigned long long>());
      tc::copy_to_host(host.data(), d_counts.ptr, host.size() * sizeof(unsigned long long));
    }
    py::array_t<int64_t> counts({static_cast<py::ssize_t>(channels), static_cast<py::ssize_t>(bins)});
    for (size_t i = 0; i < host.size(); ++i) counts.mutable_data()[i] = static_cast<int64_t>(host[i]);
    return counts;
  }, py::arg("x"), py::arg("bins"), py::arg("lo"), py::arg("hi"));
}
