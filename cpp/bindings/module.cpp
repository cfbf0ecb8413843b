// The extension module descramble._core_<level>: one bind_<area> per core
// header. CMake compiles it once per kernel level under the name
// DESCRAMBLE_MODULE_NAME; the loader imports one and calls it descramble._core.
#include "common.hpp"

namespace descramble::bindings {
void bind_assignment(py::module_& m);
void bind_build_info(py::module_& m);
void bind_eigh(py::module_& m);
void bind_moments(py::module_& m);
}  // namespace descramble::bindings

PYBIND11_MODULE(DESCRAMBLE_MODULE_NAME, m) {
  m.doc() = "descramble's C++ core (Eigen); use the public API in descramble.*";
  descramble::bindings::bind_assignment(m);
  descramble::bindings::bind_build_info(m);
  descramble::bindings::bind_eigh(m);
  descramble::bindings::bind_moments(m);
}
