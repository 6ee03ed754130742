// The "apply_affine" function of both modules (_C and _cuda): the same arguments, checked the
// same way, handed to the module's kernel (host pointers; the CUDA one stages them on the
// device).
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include "bindings/multigrid_binding.h"

namespace transfer::bindings {

// apply(models, hm, wm, src, h, w, out), as affine::apply_affine_cpu.
template <class Apply>
void def_apply_affine(py::module_& m, Apply apply) {
  m.def("apply_affine", [apply](const carray<float>& models, const carray<float>& src) {
    require(models.ndim() == 3 && models.shape(2) == 6 && models.shape(0) > 0 && models.shape(1) > 0,
            "models must have shape (hm, wm, 6): a per channel, then b");
    require(src.ndim() == 3 && src.shape(2) == 3, "src must have shape (h, w, 3)");
    const int64_t hm = models.shape(0), wm = models.shape(1), h = src.shape(0), w = src.shape(1);
    carray<float> out({static_cast<py::ssize_t>(h), static_cast<py::ssize_t>(w), py::ssize_t{3}});
    float* dst = out.mutable_data();
    {
      py::gil_scoped_release nogil;
      apply(models.data(), hm, wm, src.data(), h, w, dst);
    }
    return out;
  }, py::arg("models"), py::arg("src"),
     "The local affine color models (hm, wm, 6), sampled bilinearly at each pixel of src "
     "(h, w, 3, float sRGB), applied in unit Lab, clipped, back to sRGB.");
}

}  // namespace transfer::bindings
