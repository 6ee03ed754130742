// transfer._cuda: host-side bindings of the CUDA launchers. This file is compiled by the host
// compiler; the .cu files export plain C++ functions over device pointers.
//   * NumPy functions stage their input on the device and copy the result back.
//   * *_ptr functions take raw device addresses (for example torch.Tensor.data_ptr() of CUDA
//     tensors) so callers that already hold device memory avoid the copies.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "color/color.h"
#include "common/cuda_runtime.h"
#include "histogram/histogram.h"
#include "affine/affine.h"
#include "bindings/affine_binding.h"
#include "bindings/multigrid_binding.h"
#include "bindings/vote_binding.h"
#include "nnf/nnf.h"
#include "solve/multigrid.h"
#include "solve/multigrid_kernel.h"

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

// A float64 array copied to the device.
struct Staged : DeviceBuffer {
  explicit Staged(const carray<double>& a)
      : DeviceBuffer(static_cast<size_t>(a.size()) * sizeof(double)) {
    tc::copy_to_device(ptr, a.data(), static_cast<size_t>(a.size()) * sizeof(double));
  }
  const double* data() const { return as<double>(); }
};

using transfer::bindings::grid_shape;

void require_shape(const py::array& a, std::vector<int64_t> shape, const char* name) {
  bool ok = a.ndim() == static_cast<py::ssize_t>(shape.size());
  for (size_t d = 0; ok && d < shape.size(); ++d) ok = a.shape(d) == shape[d];
  require(ok, std::string(name) + " has the wrong shape");
}

// diag = the weights of each node's stencil edges + extra (multigrid_kernel.h's degree_px)
std::vector<double> grid_diag(const carray<double>& wx, const carray<double>& wy, const carray<double>& extra) {
  const int64_t h = wx.shape(0), w = wx.shape(1);
  require_shape(extra, {h, w}, "extra");
  std::vector<double> diag(h * w);
  for (int64_t i = 0; i < h * w; ++i)
    diag[i] = transfer::solve::degree_px(h, w, wx.data(), wy.data(), extra.data(), i);
  return diag;
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

  m.def("apply_lut3d", [](const carray<float>& rgb, const carray<float>& lut) {
    require(rgb.ndim() >= 1 && rgb.shape(rgb.ndim() - 1) == 3, "expected colors of shape (..., 3)");
    require(lut.ndim() == 4 && lut.shape(0) >= 2 && lut.shape(1) == lut.shape(0) &&
            lut.shape(2) == lut.shape(0) && lut.shape(3) == 3, "lut must have shape (n, n, n, 3), n >= 2");
    std::vector<py::ssize_t> shape(rgb.shape(), rgb.shape() + rgb.ndim());
    carray<float> out(shape);
    const size_t bytes = static_cast<size_t>(rgb.size()) * sizeof(float);
    const size_t lut_bytes = static_cast<size_t>(lut.size()) * sizeof(float);
    const float* src = rgb.data();
    const float* table = lut.data();
    float* dst = out.mutable_data();
    {
      py::gil_scoped_release nogil;
      DeviceBuffer d_in(bytes), d_out(bytes), d_lut(lut_bytes);
      tc::copy_to_device(d_in.ptr, src, bytes);
      tc::copy_to_device(d_lut.ptr, table, lut_bytes);
      transfer::color::cuda::apply_lut3d(d_lut.as<float>(), static_cast<int>(lut.shape(0)),
                                       d_in.as<float>(), d_out.as<float>(), rgb.size() / 3);
      tc::copy_to_host(dst, d_out.ptr, bytes);
    }
    return out;
  }, py::arg("rgb"), py::arg("lut"));

  m.def("apply_lut3d_ptr", [](std::uintptr_t lut, int n, std::uintptr_t rgb, std::uintptr_t out,
                              int64_t n_px) {
    require(n >= 2, "the LUT needs n >= 2 points per axis");
    py::gil_scoped_release nogil;
    transfer::color::cuda::apply_lut3d(reinterpret_cast<const float*>(lut), n,
                                       reinterpret_cast<const float*>(rgb), reinterpret_cast<float*>(out),
                                       n_px);
  }, py::arg("lut"), py::arg("n"), py::arg("rgb"), py::arg("out"), py::arg("n_px"),
     "3-D LUT on device memory (e.g. torch CUDA tensors' data_ptr()): lut (n, n, n, 3), "
     "colors and output (n_px, 3), float32, contiguous.");
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

  // PatchMatch on normalised channel-last maps; the Python layer validates and clamps `field`.
  m.def("patchmatch", [](const carray<float>& a, const carray<float>& b,
                         const carray<int32_t>& field, int half, int iterations, int radius,
                         uint64_t seed) {
    require(a.ndim() == 3 && b.ndim() == 3 && a.shape(2) == b.shape(2), "maps must be (h, w, c)");
    require(field.ndim() == 3 && field.shape(0) == a.shape(0) && field.shape(1) == a.shape(1) &&
                field.shape(2) == 2, "field must have shape (ha, wa, 2)");
    transfer::nnf::Maps m{nullptr, nullptr, static_cast<int>(a.shape(0)), static_cast<int>(a.shape(1)),
                          static_cast<int>(b.shape(0)), static_cast<int>(b.shape(1)),
                          static_cast<int>(a.shape(2)), half};
    const size_t na = static_cast<size_t>(m.ha) * m.wa;
    py::array_t<int32_t> out_field({a.shape(0), a.shape(1), py::ssize_t{2}});
    py::array_t<float> out_dist({a.shape(0), a.shape(1)});
    const float *pa = a.data(), *pb = b.data();
    const int32_t* pf = field.data();
    int32_t* of = out_field.mutable_data();
    float* od = out_dist.mutable_data();
    {
      py::gil_scoped_release nogil;
      DeviceBuffer d_a(a.size() * sizeof(float)), d_b(b.size() * sizeof(float));
      DeviceBuffer d_f(2 * na * sizeof(int32_t)), d_d(na * sizeof(float));
      tc::copy_to_device(d_a.ptr, pa, a.size() * sizeof(float));
      tc::copy_to_device(d_b.ptr, pb, b.size() * sizeof(float));
      tc::copy_to_device(d_f.ptr, pf, 2 * na * sizeof(int32_t));
      m.a = d_a.as<float>();
      m.b = d_b.as<float>();
      transfer::nnf::cuda::patchmatch(m, d_f.as<int>(), d_d.as<float>(), iterations, radius, seed);
      tc::copy_to_host(of, d_f.ptr, 2 * na * sizeof(int32_t));
      tc::copy_to_host(od, d_d.ptr, na * sizeof(float));
    }
    return py::make_tuple(out_field, out_dist);
  }, py::arg("a"), py::arg("b"), py::arg("field"), py::arg("half"), py::arg("iterations"),
     py::arg("radius"), py::arg("seed"));

  m.def("patchmatch_ptr", [](std::uintptr_t a, std::uintptr_t b, int ha, int wa, int hb, int wb,
                             int c, std::uintptr_t field, std::uintptr_t dist, int half,
                             int iterations, int radius, uint64_t seed) {
    transfer::nnf::Maps m{reinterpret_cast<const float*>(a), reinterpret_cast<const float*>(b),
                          ha, wa, hb, wb, c, half};
    py::gil_scoped_release nogil;
    transfer::nnf::cuda::patchmatch(m, reinterpret_cast<int*>(field), reinterpret_cast<float*>(dist),
                                    iterations, radius, seed);
  }, py::arg("a"), py::arg("b"), py::arg("ha"), py::arg("wa"), py::arg("hb"), py::arg("wb"),
     py::arg("c"), py::arg("field"), py::arg("dist"), py::arg("half"), py::arg("iterations"),
     py::arg("radius"), py::arg("seed"),
     "PatchMatch on device memory (e.g. torch CUDA tensors' data_ptr()): normalised "
     "channel-last float32 maps, int32 field (ha, wa, 2) updated in place, float32 dist.");

  transfer::bindings::def_bds_vote(m, [](const float* values, int hb, int wb, int k, const int* field_ab,
                                          int ha, int wa, const int* field_ba, int half, float beta,
                                          float* out) {
    const size_t na = static_cast<size_t>(ha) * wa, nb = static_cast<size_t>(hb) * wb;
    DeviceBuffer d_v(nb * k * sizeof(float)), d_ab(2 * na * sizeof(int)), d_ba(2 * nb * sizeof(int));
    DeviceBuffer d_out(na * k * sizeof(float));
    tc::copy_to_device(d_v.ptr, values, nb * k * sizeof(float));
    tc::copy_to_device(d_ab.ptr, field_ab, 2 * na * sizeof(int));
    tc::copy_to_device(d_ba.ptr, field_ba, 2 * nb * sizeof(int));
    transfer::nnf::cuda::bds_vote(d_v.as<float>(), hb, wb, k, d_ab.as<int>(), ha, wa, d_ba.as<int>(),
                                  half, beta, d_out.as<float>());
    tc::copy_to_host(out, d_out.ptr, na * k * sizeof(float));
  });

  m.def("bds_vote_ptr", [](std::uintptr_t values, int hb, int wb, int k, std::uintptr_t field_ab,
                           int ha, int wa, std::uintptr_t field_ba, int half, float beta,
                           std::uintptr_t out) {
    require(half >= 0 && beta >= 0, "half and beta must be >= 0");
    py::gil_scoped_release nogil;
    transfer::nnf::cuda::bds_vote(reinterpret_cast<const float*>(values), hb, wb, k,
                                  reinterpret_cast<const int*>(field_ab), ha, wa,
                                  reinterpret_cast<const int*>(field_ba), half, beta,
                                  reinterpret_cast<float*>(out));
  }, py::arg("values"), py::arg("hb"), py::arg("wb"), py::arg("k"), py::arg("field_ab"),
     py::arg("ha"), py::arg("wa"), py::arg("field_ba"), py::arg("half"), py::arg("beta"),
     py::arg("out"),
     "BDS voting on device memory: float32 values (hb, wb, k), int32 fields (ha, wa, 2) and "
     "(hb, wb, 2) inside their target maps, float32 out (ha, wa, k).");

  transfer::bindings::def_apply_affine(m, [](const float* models, int64_t hm, int64_t wm, const float* src,
                                              int64_t h, int64_t w, float* out) {
    const size_t nm = static_cast<size_t>(hm) * wm * 6, n = static_cast<size_t>(h) * w * 3;
    DeviceBuffer d_m(nm * sizeof(float)), d_src(n * sizeof(float)), d_out(n * sizeof(float));
    tc::copy_to_device(d_m.ptr, models, nm * sizeof(float));
    tc::copy_to_device(d_src.ptr, src, n * sizeof(float));
    transfer::affine::cuda::apply_affine(d_m.as<float>(), hm, wm, d_src.as<float>(), h, w, d_out.as<float>());
    tc::copy_to_host(out, d_out.ptr, n * sizeof(float));
  });

  m.def("apply_affine_ptr", [](std::uintptr_t models, int64_t hm, int64_t wm, std::uintptr_t src,
                               int64_t h, int64_t w, std::uintptr_t out) {
    py::gil_scoped_release nogil;
    transfer::affine::cuda::apply_affine(reinterpret_cast<const float*>(models), hm, wm,
                                         reinterpret_cast<const float*>(src), h, w,
                                         reinterpret_cast<float*>(out));
  }, py::arg("models"), py::arg("hm"), py::arg("wm"), py::arg("src"), py::arg("h"), py::arg("w"),
     py::arg("out"),
     "apply_affine on device memory: float32 models (hm, wm, 6), src and out (h, w, 3).");

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

  namespace ts = transfer::solve;

  transfer::bindings::def_multigrid(m, ts::cuda::multigrid,
                                    "_C.multigrid on the GPU (the grids built on the host); x in place.");

  m.def("grid_apply", [](const carray<double>& wx, const carray<double>& wy, const carray<double>& extra,
                         const carray<double>& block, const carray<double>& x) {
    const auto [h, w, mm, k] = grid_shape(wx, wy, block);
    require_shape(x, {h * w, mm, k}, "x");
    const std::vector<double> dv = grid_diag(wx, wy, extra);
    const carray<double> diag(static_cast<py::ssize_t>(dv.size()), dv.data());
    carray<double> out({h * w, mm, k});
    Staged d_wx(wx), d_wy(wy), d_diag(diag), d_block(block), d_x(x);
    DeviceBuffer d_out(static_cast<size_t>(x.size()) * sizeof(double));
    ts::cuda::grid_apply(h, w, static_cast<int>(mm), static_cast<int>(k), d_wx.data(), d_wy.data(),
                         d_diag.data(), d_block.data(), d_x.data(), d_out.as<double>());
    tc::copy_to_host(out.mutable_data(), d_out.ptr, static_cast<size_t>(x.size()) * sizeof(double));
    return out;
  }, "_C.grid_apply on the GPU (for tests).");

  m.def("grid_relax", [](const carray<double>& wx, const carray<double>& wy, const carray<double>& extra,
                         const carray<double>& block, const carray<double>& f, const carray<double>& x,
                         int color) {
    const auto [h, w, mm, k] = grid_shape(wx, wy, block);
    require_shape(f, {h * w, mm, k}, "f");
    require_shape(x, {h * w, mm, k}, "x");
    require(color == 0 || color == 1, "color must be 0 or 1");
    const std::vector<double> dv = grid_diag(wx, wy, extra);
    const carray<double> diag(static_cast<py::ssize_t>(dv.size()), dv.data());
    Staged d_wx(wx), d_wy(wy), d_diag(diag), d_block(block), d_f(f), d_x(x);
    ts::cuda::grid_relax(h, w, static_cast<int>(mm), static_cast<int>(k), d_wx.data(), d_wy.data(),
                         d_diag.data(), d_block.data(), d_f.data(), d_x.as<double>(), color);
    carray<double> out({h * w, mm, k});
    tc::copy_to_host(out.mutable_data(), d_x.ptr, static_cast<size_t>(x.size()) * sizeof(double));
    return out;
  }, "_C.grid_relax on the GPU, returning the new x (for tests).");

  m.def("grid_coarsen", [](const carray<double>& wx, const carray<double>& wy, const carray<double>& extra,
                           const carray<double>& block) {
    const auto [h, w, mm, k] = grid_shape(wx, wy, block);
    require_shape(extra, {h, w}, "extra");
    const int64_t hc = (h + 1) / 2, wc = (w + 1) / 2;
    carray<double> cwx({hc, wc}), cwy({hc, wc}), cextra({hc, wc}), cblock({hc * wc, mm, mm, k});
    Staged d_wx(wx), d_wy(wy), d_extra(extra), d_block(block);
    DeviceBuffer a(hc * wc * sizeof(double)), b(hc * wc * sizeof(double)), c(hc * wc * sizeof(double)),
        d(static_cast<size_t>(cblock.size()) * sizeof(double));
    ts::cuda::grid_coarsen(h, w, static_cast<int>(mm), static_cast<int>(k), d_wx.data(), d_wy.data(),
                           d_extra.data(), d_block.data(), a.as<double>(), b.as<double>(), c.as<double>(),
                           d.as<double>());
    tc::copy_to_host(cwx.mutable_data(), a.ptr, hc * wc * sizeof(double));
    tc::copy_to_host(cwy.mutable_data(), b.ptr, hc * wc * sizeof(double));
    tc::copy_to_host(cextra.mutable_data(), c.ptr, hc * wc * sizeof(double));
    tc::copy_to_host(cblock.mutable_data(), d.ptr, static_cast<size_t>(cblock.size()) * sizeof(double));
    return py::make_tuple(cwx, cwy, cextra, cblock);
  }, "_C.grid_coarsen on the GPU (for tests).");

  m.def("grid_restrict", [](const carray<double>& wx, const carray<double>& wy, const carray<double>& r) {
    require(r.ndim() == 3 && r.shape(2) >= 1 && r.shape(2) <= 6, "r must have shape (h, w, 1..6)");
    const int64_t h = r.shape(0), w = r.shape(1), width = r.shape(2);
    require_shape(wx, {h, w}, "wx");
    require_shape(wy, {h, w}, "wy");
    carray<double> out({(h + 1) / 2, (w + 1) / 2, width});
    Staged d_wx(wx), d_wy(wy), d_r(r);
    DeviceBuffer d_out(static_cast<size_t>(out.size()) * sizeof(double));
    ts::cuda::grid_restrict(h, w, static_cast<int>(width), d_wx.data(), d_wy.data(), d_r.data(), d_out.as<double>());
    tc::copy_to_host(out.mutable_data(), d_out.ptr, static_cast<size_t>(out.size()) * sizeof(double));
    return out;
  }, "_C.grid_restrict on the GPU (for tests).");

  m.def("grid_prolong", [](const carray<double>& wx, const carray<double>& wy, const carray<double>& e,
                           const carray<double>& x) {
    require(x.ndim() == 3 && x.shape(2) >= 1 && x.shape(2) <= 6, "x must have shape (h, w, 1..6)");
    const int64_t h = x.shape(0), w = x.shape(1), width = x.shape(2);
    require_shape(wx, {h, w}, "wx");
    require_shape(wy, {h, w}, "wy");
    require_shape(e, {(h + 1) / 2, (w + 1) / 2, width}, "e");
    Staged d_wx(wx), d_wy(wy), d_e(e), d_x(x);
    ts::cuda::grid_prolong(h, w, static_cast<int>(width), d_wx.data(), d_wy.data(), d_e.data(), d_x.as<double>());
    carray<double> out({h, w, width});
    tc::copy_to_host(out.mutable_data(), d_x.ptr, static_cast<size_t>(x.size()) * sizeof(double));
    return out;
  }, "_C.grid_prolong on the GPU, returning x + P e (for tests).");
}
