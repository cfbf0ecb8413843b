#include "common.hpp"
#include "descramble/sketch.hpp"

namespace descramble::bindings {

namespace {

using RefMatrixXd = Eigen::Ref<RowMatrixXd>;
using RefVectorXd = Eigen::Ref<VectorXd>;

}  // namespace

void bind_sketch(py::module_& m) {
  m.def(
      "sketch_update",
      [](const py::array& x, const Eigen::Ref<const VectorXd>& shift, ConstRefMatrixXd omega,
         RefMatrixXd y, RefVectorXd sum) {
        visit_float_rows(x, "Sketch.update", [&](const auto& v) {
          py::gil_scoped_release release;
          sketch_update(v.data, v.rows, v.cols, v.row_stride, v.col_stride, shift, omega, y, sum);
        });
      },
      py::arg("x"), py::arg("shift"), py::arg("omega"), py::arg("y").noconvert(),
      py::arg("sum").noconvert(),
      "y += Z^T (Z omega), sum += Z^T 1 for Z = x - shift (rows are samples); y and sum are "
      "C-contiguous float64 arrays updated in place.");
}

}  // namespace descramble::bindings
