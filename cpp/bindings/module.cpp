// The extension module descramble._core: one bind_<area> per core header.
#include "common.hpp"

namespace descramble::bindings {
void bind_assignment(py::module_& m);
void bind_crossovers(py::module_& m);
void bind_eigh(py::module_& m);
void bind_moments(py::module_& m);
}  // namespace descramble::bindings

PYBIND11_MODULE(_core, m) {
  m.doc() = "descramble's C++ core (Eigen); use the public API in descramble.*";
  descramble::bindings::bind_assignment(m);
  descramble::bindings::bind_crossovers(m);
  descramble::bindings::bind_eigh(m);
  descramble::bindings::bind_moments(m);
}
