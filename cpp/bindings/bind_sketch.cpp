#include <stdexcept>
#include <string>

#include "common.hpp"
#include "descramble/sketch.hpp"

namespace descramble::bindings {

namespace {

using RefMatrixXd = Eigen::Ref<RowMatrixXd>;
using RefVectorXd = Eigen::Ref<VectorXd>;

// The block is read in place through its element strides (any layout).
template <class T>
void update_from(const py::array& x, const Eigen::Ref<const VectorXd>& shift,
                 ConstRefMatrixXd omega, RefMatrixXd y, RefVectorXd sum) {
  const auto item = static_cast<py::ssize_t>(sizeof(T));
  if (x.strides(0) % item != 0 || x.strides(1) % item != 0) {
    throw std::invalid_argument("Sketch.update: strides are not a multiple of the item size");
  }
  const T* data = static_cast<const T*>(x.data());
  const Index rows = x.shape(0), cols = x.shape(1);
  const Index rs = x.strides(0) / item, cs = x.strides(1) / item;
  py::gil_scoped_release release;
  sketch_update(data, rows, cols, rs, cs, shift, omega, y, sum);
}

}  // namespace

void bind_sketch(py::module_& m) {
  m.def(
      "sketch_update",
      [](const py::array& x, const Eigen::Ref<const VectorXd>& shift, ConstRefMatrixXd omega,
         RefMatrixXd y, RefVectorXd sum) {
        if (x.ndim() != 2) {
          throw std::invalid_argument("Sketch.update: expected a 2-D array, got " +
                                      std::to_string(x.ndim()) + "-D");
        }
        if (x.dtype().equal(py::dtype::of<double>())) {
          update_from<double>(x, shift, omega, y, sum);
        } else if (x.dtype().equal(py::dtype::of<float>())) {
          update_from<float>(x, shift, omega, y, sum);
        } else {
          throw py::type_error("Sketch.update: expected float32 or float64 data, got " +
                               std::string(py::str(x.dtype())));
        }
      },
      py::arg("x"), py::arg("shift"), py::arg("omega"), py::arg("y").noconvert(),
      py::arg("sum").noconvert(),
      "y += Z^T (Z omega), sum += Z^T 1 for Z = x - shift (rows are samples); y and sum are "
      "C-contiguous float64 arrays updated in place.");
}

}  // namespace descramble::bindings
