// The "bds_vote" function of both modules (_C and _cuda): the same arguments, checked the same
// way, handed to the module's voting (host pointers; the CUDA one stages them on the device).
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include "bindings/multigrid_binding.h"

namespace transfer::bindings {

// Every match of a field (n, 2 values) inside an h x w map.
inline void check_field_range(const carray<int32_t>& field, py::ssize_t h, py::ssize_t w) {
  const int32_t* f = field.data();
  for (py::ssize_t i = 0; i < field.size(); i += 2)
    require(f[i] >= 0 && f[i] < h && f[i + 1] >= 0 && f[i + 1] < w, "field points outside its target map");
}

// vote(values, hb, wb, k, field_ab, ha, wa, field_ba, half, beta, out), as nnf::bds_vote_cpu.
template <class Vote>
void def_bds_vote(py::module_& m, Vote vote) {
  m.def("bds_vote", [vote](const carray<float>& values, const carray<int32_t>& field_ab,
                           const carray<int32_t>& field_ba, int half, float beta) {
    require(values.ndim() == 3, "values must have shape (hb, wb, k)");
    const int hb = static_cast<int>(values.shape(0)), wb = static_cast<int>(values.shape(1));
    const int k = static_cast<int>(values.shape(2));
    require(field_ab.ndim() == 3 && field_ab.shape(2) == 2, "field_ab must have shape (ha, wa, 2)");
    const int ha = static_cast<int>(field_ab.shape(0)), wa = static_cast<int>(field_ab.shape(1));
    require(field_ba.ndim() == 3 && field_ba.shape(0) == hb && field_ba.shape(1) == wb &&
                field_ba.shape(2) == 2, "field_ba must have shape (hb, wb, 2)");
    require(half >= 0 && beta >= 0, "half and beta must be >= 0");
    check_field_range(field_ab, hb, wb);
    check_field_range(field_ba, ha, wa);
    carray<float> out({static_cast<py::ssize_t>(ha), static_cast<py::ssize_t>(wa), static_cast<py::ssize_t>(k)});
    float* dst = out.mutable_data();
    {
      py::gil_scoped_release nogil;
      vote(values.data(), hb, wb, k, field_ab.data(), ha, wa, field_ba.data(), half, beta, dst);
    }
    return out;
  }, py::arg("values"), py::arg("field_ab"), py::arg("field_ba"), py::arg("half"), py::arg("beta"),
     "Bidirectional-similarity voting of values (hb, wb, k) onto A's grid (ha, wa, k).");
}

}  // namespace transfer::bindings
