// The "multigrid" function of both modules (_C and _cuda): the same arguments, checked the same
// way, handed to the module's solver.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <string>
#include <vector>

#include "solve/multigrid.h"

namespace transfer::bindings {

namespace py = pybind11;

template <class T>
using carray = py::array_t<T, py::array::c_style | py::array::forcecast>;

inline void require(bool ok, const std::string& msg) {
  if (!ok) throw py::value_error(msg);
}

// A CSR matrix of n rows: indptr n + 1 entries from 0, not decreasing; indices in [0, n).
inline void check_csr(const carray<int64_t>& indptr, const carray<int32_t>& indices,
                      const carray<double>& values, int64_t n) {
  require(indptr.ndim() == 1 && indptr.shape(0) == n + 1, "indptr must have n + 1 entries");
  const int64_t* ip = indptr.data();
  require(ip[0] == 0 && indices.ndim() == 1 && values.ndim() == 1 &&
              indices.shape(0) == ip[n] && values.shape(0) == ip[n],
          "indices and values must have indptr[n] entries");
  for (int64_t i = 0; i < n; ++i) require(ip[i] <= ip[i + 1], "indptr must not decrease");
  const int32_t* ix = indices.data();
  for (int64_t l = 0; l < ip[n]; ++l) require(ix[l] >= 0 && ix[l] < n, "column index out of range");
}

// The grid of a multigrid call: wx and wy (h, w), block (h w, m, m, k) of a supported shape.
// Returns (h, w, m, k).
inline std::array<int64_t, 4> grid_shape(const carray<double>& wx, const carray<double>& wy,
                                         const carray<double>& block) {
  require(wx.ndim() == 2 && wy.ndim() == 2 && wy.shape(0) == wx.shape(0) && wy.shape(1) == wx.shape(1),
          "wx and wy must have the same shape (h, w)");
  const int64_t h = wx.shape(0), w = wx.shape(1);
  require(block.ndim() == 4 && block.shape(0) == h * w && block.shape(1) == block.shape(2),
          "block must have shape (h w, m, m, k)");
  const int m = static_cast<int>(block.shape(1)), k = static_cast<int>(block.shape(3));
  require(transfer::solve::grid_shape_supported(m, k), "multigrid takes m = 1 with k <= 6, or m = 2 with k <= 3");
  return {h, w, m, k};
}

// A writable C-contiguous float64 array of the given shape, updated in place.
inline double* inplace_double(py::array& a, std::vector<int64_t> shape, const char* name) {
  bool ok = py::isinstance<py::array_t<double>>(a) && (a.flags() & py::array::c_style) && a.writeable() &&
            a.ndim() == static_cast<py::ssize_t>(shape.size());
  for (size_t d = 0; ok && d < shape.size(); ++d) ok = a.shape(d) == shape[d];
  require(ok, std::string(name) + " must be a writable C-contiguous float64 array of the expected shape");
  return static_cast<double*>(a.mutable_data());
}

using MultigridSolve = int (*)(int64_t, int64_t, int, int, const double*, const double*, const double*,
                               const int64_t*, const int32_t*, const double*, const double*, double*,
                               double, int, bool, double*);

inline void def_multigrid(py::module_& m, MultigridSolve solve, const char* doc) {
  m.def("multigrid", [solve](const carray<double>& wx, const carray<double>& wy, const carray<double>& block,
                             const carray<double>& b, py::array x, py::object nonlocal, double rtol,
                             int maxiter, bool krylov) {
    const auto [h, w, mm, k] = grid_shape(wx, wy, block);
    require(b.ndim() == 3 && b.shape(0) == h * w && b.shape(1) == mm && b.shape(2) == k,
            "b must have shape (h w, m, k)");
    double* px = inplace_double(x, {h * w, mm, k}, "x");
    require(rtol >= 0 && maxiter >= 0, "rtol and maxiter must be >= 0");
    carray<int64_t> indptr;
    carray<int32_t> indices;
    carray<double> values;
    const bool has_nl = !nonlocal.is_none();
    if (has_nl) {
      auto t = nonlocal.cast<py::tuple>();
      require(t.size() == 3, "nonlocal must be (indptr, indices, values) or None");
      indptr = t[0].cast<carray<int64_t>>(), indices = t[1].cast<carray<int32_t>>();
      values = t[2].cast<carray<double>>();
      check_csr(indptr, indices, values, h * w);
    }
    carray<double> history(maxiter + 1);
    double* ph = history.mutable_data();
    std::fill(ph, ph + maxiter + 1, std::nan(""));
    int steps;
    {
      py::gil_scoped_release nogil;
      steps = solve(h, w, static_cast<int>(mm), static_cast<int>(k), wx.data(), wy.data(), block.data(),
                    has_nl ? indptr.data() : nullptr, has_nl ? indices.data() : nullptr,
                    has_nl ? values.data() : nullptr, b.data(), px, rtol, maxiter, krylov, ph);
    }
    return py::make_tuple(steps, history[py::slice(0, steps + 1, 1)]);
  }, py::arg("wx"), py::arg("wy"), py::arg("block"), py::arg("b"), py::arg("x"), py::arg("nonlocal"),
     py::arg("rtol"), py::arg("maxiter"), py::arg("krylov") = true, doc);
}

}  // namespace transfer::bindings
