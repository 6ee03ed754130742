// transfer._C: the CPU kernels over NumPy buffers. The Python layer validates inputs first;
// the checks here only guard the memory the kernels touch. The GIL is released while they run.
#include <omp.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <string>
#include <vector>

#include "color/color.h"
#include "histogram/histogram.h"
#include "idt/idt.h"
#include "nnf/nnf.h"
#include "regrain/regrain.h"
#include "resample/resample.h"
#include "affine/affine.h"
#include "bindings/affine_binding.h"
#include "bindings/multigrid_binding.h"
#include "bindings/vote_binding.h"
#include "solve/multigrid.h"
#include "solve/pcg.h"
#include "stats/stats.h"

namespace py = pybind11;

namespace {

template <class T>
using carray = py::array_t<T, py::array::c_style | py::array::forcecast>;

void require(bool ok, const std::string& msg) {
  if (!ok) throw py::value_error(msg);
}

// Whether a's elements are T. NumPy compares dtypes by equivalence: an array's dtype can be an
// equal object other than NumPy's own (arrays that went through pickle, and thus
// multiprocessing, have one), so identity (dtype().is) would refuse a valid array.
template <class T>
bool has_dtype(const py::array& a) {
  return py::isinstance<py::array_t<T>>(a);
}

// A float32, C-contiguous, writable array that a kernel updates in place (no silent copy).
float* inplace_float(py::array& a, const char* name) {
  require(has_dtype<float>(a) && (a.flags() & py::array::c_style) && a.writeable(),
          std::string(name) + " must be a writable C-contiguous float32 array");
  return static_cast<float*>(a.mutable_data());
}

std::vector<double> ranges(const std::vector<double>& v, size_t channels, const char* name) {
  require(v.size() == channels, std::string(name) + " needs one value per channel");
  return v;
}

carray<float> color_convert(const carray<float>& in, void (*fn)(const float*, float*, int64_t)) {
  require(in.ndim() >= 1 && in.shape(in.ndim() - 1) == 3, "expected an array of shape (..., 3)");
  std::vector<py::ssize_t> shape(in.shape(), in.shape() + in.ndim());
  carray<float> out(shape);
  const int64_t n = in.size() / 3;
  const float* src = in.data();
  float* dst = out.mutable_data();
  {
    py::gil_scoped_release nogil;
    fn(src, dst, n);
  }
  return out;
}

template <class T>
py::array_t<int64_t> histogram(const carray<T>& x, int bins, const std::vector<double>& lo,
                               const std::vector<double>& hi) {
  require(x.ndim() == 2 && x.shape(1) >= 1 && x.shape(1) <= 4, "x must have shape (n, 1..4)");
  require(bins >= 1, "bins must be positive");
  const int channels = static_cast<int>(x.shape(1));
  auto l = ranges(lo, channels, "lo"), h = ranges(hi, channels, "hi");
  for (int c = 0; c < channels; ++c) require(h[c] > l[c], "hi must exceed lo");
  py::array_t<int64_t> counts({static_cast<py::ssize_t>(channels), static_cast<py::ssize_t>(bins)});
  const T* src = x.data();
  int64_t* dst = counts.mutable_data();
  {
    py::gil_scoped_release nogil;
    transfer::hist::histogram_cpu<T>(src, x.shape(0), channels, bins, l.data(), h.data(), dst);
  }
  return counts;
}

// Validates per-channel bin maps (channels, bins) and their ranges; returns bins.
int check_bin_map(const carray<float>& left, const carray<float>& right, int channels,
                  const std::vector<double>& lo, const std::vector<double>& hi) {
  require(left.ndim() == 2 && left.shape(0) == channels && left.shape(1) >= 1,
          "left must have shape (channels, bins)");
  require(right.ndim() == 2 && right.shape(0) == channels && right.shape(1) == left.shape(1),
          "right must have the shape of left");
  require(lo.size() == static_cast<size_t>(channels) && hi.size() == lo.size(),
          "lo and hi need one value per channel");
  for (int c = 0; c < channels; ++c) require(hi[c] > lo[c], "hi must exceed lo");
  return static_cast<int>(left.shape(1));
}

// Channel-last feature maps a (ha, wa, c), b (hb, wb, c) as kernel arguments.
transfer::nnf::Maps nnf_maps(const carray<float>& a, const carray<float>& b, int half) {
  require(a.ndim() == 3 && b.ndim() == 3, "feature maps must have shape (h, w, c)");
  require(a.shape(2) == b.shape(2), "feature maps must have the same channel count");
  require(a.shape(0) > 0 && a.shape(1) > 0 && b.shape(0) > 0 && b.shape(1) > 0 && a.shape(2) > 0,
          "feature maps must not be empty");
  require(half >= 0, "half must be >= 0");
  return {a.data(), b.data(), static_cast<int>(a.shape(0)), static_cast<int>(a.shape(1)),
          static_cast<int>(b.shape(0)), static_cast<int>(b.shape(1)), static_cast<int>(a.shape(2)),
          half};
}

int* inplace_field(py::array& field, int ha, int wa, const char* name) {
  require(has_dtype<int32_t>(field) && (field.flags() & py::array::c_style) &&
              field.writeable(), std::string(name) + " must be a writable C-contiguous int32 array");
  require(field.ndim() == 3 && field.shape(0) == ha && field.shape(1) == wa && field.shape(2) == 2,
          std::string(name) + " must have shape (ha, wa, 2)");
  return static_cast<int*>(field.mutable_data());
}

void check_lut3d(const carray<float>& lut) {
  require(lut.ndim() == 4 && lut.shape(0) >= 2 && lut.shape(1) == lut.shape(0) &&
          lut.shape(2) == lut.shape(0) && lut.shape(3) == 3, "lut must have shape (n, n, n, 3), n >= 2");
}

void check_rotation(const carray<float>& R) {
  require(R.ndim() == 2 && R.shape(0) == 3 && R.shape(1) == 3, "R must be 3x3");
}

using transfer::bindings::check_csr;
using transfer::bindings::check_field_range;
using transfer::bindings::inplace_double;

// The grid of a component call: grid_shape's, and extra (h, w).
std::array<int64_t, 4> check_grid(const carray<double>& wx, const carray<double>& wy,
                                  const carray<double>& block, const carray<double>& extra) {
  const auto shape = transfer::bindings::grid_shape(wx, wy, block);
  require(extra.ndim() == 2 && extra.shape(0) == shape[0] && extra.shape(1) == shape[1],
          "extra must have shape (h, w)");
  return shape;
}

}  // namespace

PYBIND11_MODULE(_C, m) {
  m.doc() = "transfer CPU kernels (C++17, OpenMP)";

  m.def("get_num_threads", [] { return omp_get_max_threads(); });
  m.def("set_num_threads", [](int n) {
    require(n >= 1, "thread count must be positive");
    omp_set_num_threads(n);
  });

  m.def("srgb_to_lab", [](const carray<float>& rgb) {
    return color_convert(rgb, transfer::color::srgb_to_lab_cpu);
  }, py::arg("rgb"), "sRGB in [0, 1] (..., 3) -> CIELab (..., 3), float32.");
  m.def("srgb8_to_lab", [](const carray<uint8_t>& rgb) {
    require(rgb.ndim() >= 2 && (rgb.shape(rgb.ndim() - 1) == 3 || rgb.shape(rgb.ndim() - 1) == 4),
            "expected an 8-bit array of shape (..., 3 or 4)");
    const int channels = static_cast<int>(rgb.shape(rgb.ndim() - 1));
    std::vector<py::ssize_t> shape(rgb.shape(), rgb.shape() + rgb.ndim());
    shape.back() = 3;
    carray<float> out(shape);
    float* dst = out.mutable_data();
    const int64_t n = rgb.size() / channels;
    {
      py::gil_scoped_release nogil;
      transfer::color::srgb8_to_lab_cpu(rgb.data(), channels, dst, n);
    }
    return out;
  }, py::arg("rgb").noconvert(), "8-bit sRGB (..., 3 or 4; alpha ignored) -> CIELab (..., 3), float32.");
  m.def("lab_affine_u8", [](const carray<uint8_t>& px, const std::vector<float>& scale,
                            const std::vector<float>& shift) {
    require(px.ndim() >= 2 && (px.shape(px.ndim() - 1) == 3 || px.shape(px.ndim() - 1) == 4),
            "expected an 8-bit array of shape (..., 3 or 4)");
    require(scale.size() == 3 && shift.size() == 3, "scale and shift need 3 values");
    const int channels = static_cast<int>(px.shape(px.ndim() - 1));
    std::vector<py::ssize_t> shape(px.shape(), px.shape() + px.ndim());
    carray<uint8_t> out(shape);
    uint8_t* dst = out.mutable_data();
    {
      py::gil_scoped_release nogil;
      transfer::color::lab_affine_u8_cpu(px.data(), channels, scale.data(), shift.data(), dst,
                                         px.size() / channels);
    }
    return out;
  }, py::arg("px").noconvert(), py::arg("scale"), py::arg("shift"),
     "8-bit sRGB (..., 3 or 4) -> its CIELab scaled and shifted per channel -> 8-bit sRGB, "
     "alpha copied: srgb8_to_lab, lab_affine_to_srgb and rounding in one pass.");
  m.def("lab_affine_to_srgb", [](const carray<float>& lab, const std::vector<float>& scale,
                                 const std::vector<float>& shift) {
    require(lab.ndim() >= 1 && lab.shape(lab.ndim() - 1) == 3, "expected an array of shape (..., 3)");
    require(scale.size() == 3 && shift.size() == 3, "scale and shift need 3 values");
    std::vector<py::ssize_t> shape(lab.shape(), lab.shape() + lab.ndim());
    carray<float> out(shape);
    float* dst = out.mutable_data();
    {
      py::gil_scoped_release nogil;
      transfer::color::lab_affine_to_srgb_cpu(lab.data(), scale.data(), shift.data(), dst,
                                              lab.size() / 3);
    }
    return out;
  }, py::arg("lab"), py::arg("scale"), py::arg("shift"),
     "lab_to_srgb(scale * lab + shift), per channel, in one pass.");
  m.def("lab_to_srgb", [](const carray<float>& lab) {
    return color_convert(lab, transfer::color::lab_to_srgb_cpu);
  }, py::arg("lab"), "CIELab (..., 3) -> sRGB clipped to [0, 1] (..., 3), float32.");

  m.def("apply_lut3d", [](const carray<float>& rgb, const carray<float>& lut) {
    require(rgb.ndim() >= 1 && rgb.shape(rgb.ndim() - 1) == 3, "expected colors of shape (..., 3)");
    check_lut3d(lut);
    std::vector<py::ssize_t> shape(rgb.shape(), rgb.shape() + rgb.ndim());
    carray<float> out(shape);
    float* dst = out.mutable_data();
    {
      py::gil_scoped_release nogil;
      transfer::color::apply_lut3d_cpu(lut.data(), static_cast<int>(lut.shape(0)), rgb.data(), dst,
                                       rgb.size() / 3);
    }
    return out;
  }, py::arg("rgb"), py::arg("lut"),
     "Colors (..., 3) through the 3-D LUT lut[r, g, b] (n, n, n, 3), trilinear, float32.");
  m.def("apply_lut3d_u8", [](const carray<uint8_t>& px, const carray<float>& lut) {
    require(px.ndim() == 3 && (px.shape(2) == 3 || px.shape(2) == 4), "px must have shape (h, w, 3 or 4)");
    check_lut3d(lut);
    carray<uint8_t> out({px.shape(0), px.shape(1), px.shape(2)});
    uint8_t* dst = out.mutable_data();
    {
      py::gil_scoped_release nogil;
      transfer::color::apply_lut3d_u8_cpu(lut.data(), static_cast<int>(lut.shape(0)), px.data(),
                                          static_cast<int>(px.shape(2)), dst, px.shape(0) * px.shape(1));
    }
    return out;
  }, py::arg("px").noconvert(), py::arg("lut"),
     "8-bit RGB(A) through the 3-D LUT (alpha copied), rounded as the float version's result.");

  // Overloads tried in order; noconvert keeps each dtype on its own exact path.
  m.def("moments", [](const carray<float>& x) {
    require(x.ndim() == 2 && x.shape(1) >= 1 && x.shape(1) <= 4, "x must have shape (n, 1..4)");
    const int c = static_cast<int>(x.shape(1));
    py::array_t<double> mean(c), cov({c, c});
    double *pm = mean.mutable_data(), *pc = cov.mutable_data();
    {
      py::gil_scoped_release nogil;
      transfer::stats::moments_cpu(x.data(), x.shape(0), c, pm, pc);
    }
    return py::make_tuple(mean, cov);
  }, py::arg("x"), "Mean (c,) and covariance (c, c), divided by n, of samples x (n, c).");

  m.def("distinct_colors_u8", [](const carray<uint8_t>& px) {
    require(px.ndim() == 2 && (px.shape(1) == 3 || px.shape(1) == 4), "px must have shape (n, 3 or 4)");
    require(px.shape(0) < (int64_t{1} << 31), "too many pixels");
    std::vector<int32_t> ids;
    std::vector<int64_t> counts;
    py::array_t<int32_t> inverse(px.shape(0));
    int32_t* inv = inverse.mutable_data();
    {
      py::gil_scoped_release nogil;
      transfer::stats::distinct_colors_u8_cpu(px.data(), px.shape(0), static_cast<int>(px.shape(1)),
                                              ids, counts, inv);
    }
    return py::make_tuple(py::array_t<int32_t>(ids.size(), ids.data()),
                          py::array_t<int64_t>(counts.size(), counts.data()), inverse);
  }, py::arg("px"),
     "Distinct 8-bit colors: (keys r<<16|g<<8|b ascending, visible-pixel counts, inverse index).");

  m.def("histogram", &histogram<uint8_t>, py::arg("x").noconvert(), py::arg("bins"), py::arg("lo"),
        py::arg("hi"));
  m.def("histogram", &histogram<uint16_t>, py::arg("x").noconvert(), py::arg("bins"),
        py::arg("lo"), py::arg("hi"));
  m.def("histogram", &histogram<float>, py::arg("x"), py::arg("bins"), py::arg("lo"),
        py::arg("hi"), "Per-channel counts (channels, bins) of x (n, channels) over [lo, hi).");

  m.def("apply_bin_map", [](const carray<float>& x, const carray<float>& left,
                            const carray<float>& right, const std::vector<double>& lo,
                            const std::vector<double>& hi) {
    require(x.ndim() == 2 && x.shape(1) >= 1 && x.shape(1) <= 4, "x must have shape (n, 1..4)");
    const int channels = static_cast<int>(x.shape(1));
    const int bins = check_bin_map(left, right, channels, lo, hi);
    carray<float> out({x.shape(0), x.shape(1)});
    float* dst = out.mutable_data();
    {
      py::gil_scoped_release nogil;
      transfer::hist::apply_bin_map_cpu(x.data(), x.shape(0), channels, left.data(), right.data(),
                                        bins, lo.data(), hi.data(), dst);
    }
    return out;
  }, py::arg("x"), py::arg("left"), py::arg("right"), py::arg("lo"), py::arg("hi"),
     "Per-channel piecewise-affine map: inside bin k of [lo, hi) from left[c, k] to right[c, k].");

  m.def("apply_lut_u8", [](const carray<uint8_t>& x, const carray<uint8_t>& lut) {
    require(x.ndim() == 3 && x.shape(2) >= 1 && x.shape(2) <= 4, "x must have shape (h, w, 1..4)");
    require(lut.ndim() == 2 && lut.shape(1) == 256 && lut.shape(0) <= x.shape(2),
            "lut must have shape (channels, 256)");
    carray<uint8_t> out({x.shape(0), x.shape(1), x.shape(2)});
    const uint8_t *src = x.data(), *table = lut.data();
    uint8_t* dst = out.mutable_data();
    {
      py::gil_scoped_release nogil;
      transfer::hist::apply_lut_u8_cpu(src, x.shape(0) * x.shape(1), static_cast<int>(x.shape(2)),
                                       table, static_cast<int>(lut.shape(0)), dst);
    }
    return out;
  }, py::arg("x"), py::arg("lut"),
     "8-bit look-up per channel; channels beyond the table (alpha) are copied.");

  m.def("idt_projected_range", [](const carray<float>& x, const carray<int64_t>& w,
                                  const carray<float>& R) {
    require(x.ndim() == 2 && x.shape(1) == 3, "x must have shape (n, 3)");
    require(w.ndim() == 1 && w.shape(0) == x.shape(0), "w must have shape (n,)");
    check_rotation(R);
    std::vector<double> mins(3), maxs(3);
    {
      py::gil_scoped_release nogil;
      transfer::idt::projected_range_cpu(x.data(), w.data(), x.shape(0), R.data(), mins.data(),
                                         maxs.data());
    }
    return py::make_tuple(mins, maxs);
  }, py::arg("x"), py::arg("w"), py::arg("R"),
     "Per-axis (min, max) of the projections R x of the colors with weight > 0.");

  m.def("idt_projected_histogram", [](const carray<float>& x, const carray<int64_t>& w,
                                      const carray<float>& R, int bins,
                                      const std::vector<double>& lo, const std::vector<double>& hi) {
    require(x.ndim() == 2 && x.shape(1) == 3, "x must have shape (n, 3)");
    require(w.ndim() == 1 && w.shape(0) == x.shape(0), "w must have shape (n,)");
    require(bins >= 1, "bins must be positive");
    check_rotation(R);
    auto l = ranges(lo, 3, "lo"), h = ranges(hi, 3, "hi");
    for (int c = 0; c < 3; ++c) require(h[c] > l[c], "hi must exceed lo");
    py::array_t<int64_t> counts({py::ssize_t{3}, static_cast<py::ssize_t>(bins)});
    int64_t* dst = counts.mutable_data();
    {
      py::gil_scoped_release nogil;
      transfer::idt::projected_histogram_cpu(x.data(), w.data(), x.shape(0), R.data(), bins,
                                             l.data(), h.data(), dst);
    }
    return counts;
  }, py::arg("x"), py::arg("w"), py::arg("R"), py::arg("bins"), py::arg("lo"), py::arg("hi"),
     "Weighted histograms (3, bins) of the projections R x.");

  m.def("idt_update", [](py::array x, const carray<float>& R, const carray<float>& left,
                         const carray<float>& right, const std::vector<double>& lo,
                         const std::vector<double>& hi, float relax) {
    float* px = inplace_float(x, "x");
    require(x.ndim() == 2 && x.shape(1) == 3, "x must have shape (n, 3)");
    check_rotation(R);
    const int bins = check_bin_map(left, right, 3, lo, hi);
    py::gil_scoped_release nogil;
    transfer::idt::update_cpu(px, x.shape(0), R.data(), left.data(), right.data(), bins, lo.data(),
                              hi.data(), relax);
  }, py::arg("x"), py::arg("R"), py::arg("left"), py::arg("right"), py::arg("lo"), py::arg("hi"),
     py::arg("relax"), "In place: x += relax * R^T (t(R x) - R x), t the per-axis bin maps.");

  m.def("resize_bilinear", [](const carray<float>& img, int64_t out_h, int64_t out_w) {
    require(img.ndim() == 3 && img.shape(0) > 0 && img.shape(1) > 0, "img must have shape (h, w, c)");
    require(out_h > 0 && out_w > 0, "the output size must be positive");
    carray<float> out({static_cast<py::ssize_t>(out_h), static_cast<py::ssize_t>(out_w), img.shape(2)});
    float* dst = out.mutable_data();
    {
      py::gil_scoped_release nogil;
      transfer::resample::resize_bilinear_cpu(img.data(), img.shape(0), img.shape(1),
                                              static_cast<int>(img.shape(2)), out_h, out_w, dst);
    }
    return out;
  }, py::arg("img"), py::arg("out_h"), py::arg("out_w"),
     "Bilinear resize of (h, w, c) float32 with pixel centers aligned (no anti-aliasing).");

  // ---- nearest-neighbour fields -------------------------------------------------------------
  m.def("bf16_supported", &transfer::nnf::bf16_supported,
        "Whether this build and this CPU run PatchMatch on bfloat16 copies of the maps (AVX512-BF16).");

  m.def("patchmatch", [](const carray<float>& a, const carray<float>& b, py::array field,
                         int half, int iterations, int radius, uint64_t seed, bool bf16) {
    auto m = nnf_maps(a, b, half);
    int* f = inplace_field(field, m.ha, m.wa, "field");
    require(iterations >= 0 && radius >= 0, "iterations and radius must be >= 0");
    for (py::ssize_t i = 0; i < field.size(); i += 2)
      require(f[i] >= 0 && f[i] < m.hb && f[i + 1] >= 0 && f[i + 1] < m.wb,
              "field points outside b");
    py::array_t<float> dist({m.ha, m.wa});
    float* d = dist.mutable_data();
    int64_t pairs = 0;
    {
      py::gil_scoped_release nogil;
      pairs = transfer::nnf::patchmatch_cpu(m, f, d, iterations, radius, seed, bf16);
    }
    return py::make_tuple(dist, pairs);
  }, py::arg("a"), py::arg("b"), py::arg("field"), py::arg("half"), py::arg("iterations"),
     py::arg("radius"), py::arg("seed"), py::arg("bf16") = false,
     "PatchMatch of normalised channel-last maps a (ha, wa, c) and b (hb, wb, c); updates the "
     "int32 field (ha, wa, 2) in place; returns (patch distances (ha, wa), number of pixel "
     "pairs whose c features were multiplied: the work done). bf16: compare the candidates on "
     "bfloat16 copies of the maps where the CPU has AVX512-BF16 (the distances returned are "
     "float32's).");

  m.def("field_distances", [](const carray<float>& a, const carray<float>& b,
                              const carray<int32_t>& field, int half, bool bf16) {
    auto m = nnf_maps(a, b, half);
    require(!bf16 || transfer::nnf::bf16_supported(), "bf16: this CPU or build has no AVX512-BF16 path");
    require(field.ndim() == 3 && field.shape(0) == m.ha && field.shape(1) == m.wa && field.shape(2) == 2,
            "field must have shape (ha, wa, 2)");
    check_field_range(field, m.hb, m.wb);
    py::array_t<float> dist({m.ha, m.wa});
    float* d = dist.mutable_data();
    {
      py::gil_scoped_release nogil;
      transfer::nnf::field_distances_cpu(m, field.data(), d, bf16);
    }
    return dist;
  }, py::arg("a"), py::arg("b"), py::arg("field"), py::arg("half"), py::arg("bf16") = false,
     "Patch distances of a field; bf16: on bfloat16 copies of the maps (the kernel PatchMatch's "
     "bf16 path compares candidates with; for tests).");

  transfer::bindings::def_bds_vote(m, &transfer::nnf::bds_vote_cpu);
  transfer::bindings::def_apply_affine(m, &transfer::affine::apply_affine_cpu);

  m.def("regrain_solve_level", [](py::array out, const carray<float>& in, const carray<float>& col,
                                  int iterations, int level, float smoothness) {
    float* po = inplace_float(out, "out");
    require(out.ndim() == 3, "out must have shape (h, w, c)");
    require(in.ndim() == 3 && col.ndim() == 3, "in and col must have shape (h, w, c)");
    for (int d = 0; d < 3; ++d)
      require(in.shape(d) == out.shape(d) && col.shape(d) == out.shape(d),
              "out, in and col must have the same shape");
    require(iterations >= 0 && smoothness > 0, "iterations >= 0 and smoothness > 0 required");
    py::gil_scoped_release nogil;
    transfer::regrain::solve_level_cpu(po, in.data(), col.data(), out.shape(0), out.shape(1),
                                       static_cast<int>(out.shape(2)), iterations, level, smoothness);
  }, py::arg("out"), py::arg("in"), py::arg("col"), py::arg("iterations"), py::arg("level"),
     py::arg("smoothness"));

  m.def("pcg", [](const carray<int64_t>& indptr, const carray<int32_t>& indices,
                  const carray<double>& values, const carray<double>& block, const carray<double>& b,
                  py::array x, double rtol, int maxiter) {
    require(b.ndim() == 3, "b must have shape (n, m, k)");
    const int64_t n = b.shape(0);
    const int m = static_cast<int>(b.shape(1)), k = static_cast<int>(b.shape(2));
    require(m >= 1 && k >= 1 && m * k <= transfer::solve::kMaxWidth,
            "b must have m, k >= 1 and m * k <= 16");
    require(has_dtype<double>(x) && (x.flags() & py::array::c_style) &&
                x.writeable() && x.ndim() == 3 && x.shape(0) == n && x.shape(1) == m &&
                x.shape(2) == k, "x must be a writable C-contiguous float64 array shaped like b");
    require(block.ndim() == 4 && block.shape(0) == n && block.shape(1) == m &&
                block.shape(2) == m && block.shape(3) == k, "block must have shape (n, m, m, k)");
    check_csr(indptr, indices, values, n);
    const int64_t* ip = indptr.data();
    const int32_t* ix = indices.data();
    require(rtol >= 0 && maxiter >= 0, "rtol and maxiter must be >= 0");
    double* px = static_cast<double*>(x.mutable_data());
    py::gil_scoped_release nogil;
    return transfer::solve::pcg_cpu(ip, ix, values.data(), n, m, k, block.data(), b.data(), px,
                                    rtol, maxiter);
  }, py::arg("indptr"), py::arg("indices"), py::arg("values"), py::arg("block"), py::arg("b"),
     py::arg("x"), py::arg("rtol"), py::arg("maxiter"),
     "Conjugate gradient on k systems sharing a sparse matrix L plus per-node blocks; x in place.");

  transfer::bindings::def_multigrid(
      m, transfer::solve::multigrid_cpu,
      "k grid systems (4-neighbour weights wx, wy, an optional CSR non-local Laplacian, per-node "
      "blocks) by multigrid-preconditioned CG (krylov) or plain V-cycles; x in place. Returns "
      "(steps, relative residual before each step and after the last).");

  m.def("grid_apply", [](const carray<double>& wx, const carray<double>& wy, const carray<double>& extra,
                         const carray<double>& block, const carray<double>& x) {
    const auto [h, w, mm, k] = check_grid(wx, wy, block, extra);
    require(x.ndim() == 3 && x.shape(0) == h * w && x.shape(1) == mm && x.shape(2) == k,
            "x must have shape (h w, m, k)");
    carray<double> out({h * w, mm, k});
    double* po = out.mutable_data();
    py::gil_scoped_release nogil;
    transfer::solve::grid_apply_cpu(h, w, static_cast<int>(mm), static_cast<int>(k), wx.data(), wy.data(),
                                    extra.data(), block.data(), x.data(), po);
    return out;
  }, "The grid operator applied to x (multigrid_kernel.h; for tests).");

  m.def("grid_relax", [](const carray<double>& wx, const carray<double>& wy, const carray<double>& extra,
                         const carray<double>& block, const carray<double>& f, py::array x, int color) {
    const auto [h, w, mm, k] = check_grid(wx, wy, block, extra);
    require(f.ndim() == 3 && f.shape(0) == h * w && f.shape(1) == mm && f.shape(2) == k,
            "f must have shape (h w, m, k)");
    require(color == 0 || color == 1, "color must be 0 or 1");
    double* px = inplace_double(x, {h * w, mm, k}, "x");
    py::gil_scoped_release nogil;
    transfer::solve::grid_relax_cpu(h, w, static_cast<int>(mm), static_cast<int>(k), wx.data(), wy.data(),
                                    extra.data(), block.data(), f.data(), px, color);
  }, "One red-black Gauss-Seidel half-sweep of x in place (for tests).");

  m.def("grid_coarsen", [](const carray<double>& wx, const carray<double>& wy, const carray<double>& extra,
                           const carray<double>& block) {
    const auto [h, w, mm, k] = check_grid(wx, wy, block, extra);
    const int64_t hc = (h + 1) / 2, wc = (w + 1) / 2;
    carray<double> cwx({hc, wc}), cwy({hc, wc}), cextra({hc, wc}), cblock({hc * wc, mm, mm, k});
    double *a = cwx.mutable_data(), *b = cwy.mutable_data(), *c = cextra.mutable_data(), *d = cblock.mutable_data();
    {
      py::gil_scoped_release nogil;
      transfer::solve::grid_coarsen_cpu(h, w, static_cast<int>(mm), static_cast<int>(k), wx.data(), wy.data(),
                                        extra.data(), block.data(), a, b, c, d);
    }
    return py::make_tuple(cwx, cwy, cextra, cblock);
  }, "The coarse grid of every other node: (wx, wy, extra, block) (for tests).");

  m.def("grid_restrict", [](const carray<double>& wx, const carray<double>& wy, const carray<double>& r) {
    require(wx.ndim() == 2 && wy.ndim() == 2 && r.ndim() == 3 && r.shape(0) == wx.shape(0) &&
                r.shape(1) == wx.shape(1) && wy.shape(0) == wx.shape(0) && wy.shape(1) == wx.shape(1) &&
                r.shape(2) >= 1 && r.shape(2) <= 6, "wx, wy (h, w) and r (h, w, 1..6) required");
    const int64_t h = r.shape(0), w = r.shape(1), width = r.shape(2);
    carray<double> out({(h + 1) / 2, (w + 1) / 2, width});
    double* po = out.mutable_data();
    py::gil_scoped_release nogil;
    transfer::solve::grid_restrict_cpu(h, w, static_cast<int>(width), wx.data(), wy.data(), r.data(), po);
    return out;
  }, "Restriction P^T r to the coarse grid (for tests).");

  m.def("grid_prolong", [](const carray<double>& wx, const carray<double>& wy, const carray<double>& e,
                           py::array x) {
    require(x.ndim() == 3, "x must have shape (h, w, width)");
    const int64_t h = x.shape(0), w = x.shape(1), width = x.shape(2);
    require(wx.ndim() == 2 && wy.ndim() == 2 && wx.shape(0) == h && wx.shape(1) == w &&
                wy.shape(0) == h && wy.shape(1) == w, "wx and wy must have shape (h, w)");
    require(width >= 1 && width <= 6 && e.ndim() == 3 && e.shape(0) == (h + 1) / 2 &&
                e.shape(1) == (w + 1) / 2 && e.shape(2) == width,
            "e must have shape ((h + 1) // 2, (w + 1) // 2, width), width <= 6");
    double* px = inplace_double(x, {h, w, width}, "x");
    py::gil_scoped_release nogil;
    transfer::solve::grid_prolong_cpu(h, w, static_cast<int>(width), wx.data(), wy.data(), e.data(), px);
  }, "Prolongation x += P e from the coarse grid (in place; for tests).");
}
