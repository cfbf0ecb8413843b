#include "common.hpp"
#include "descramble/moments.hpp"

namespace descramble::bindings {

void bind_moments(py::module_& m) {
  py::class_<Moments>(m, "Moments", "Streaming count, mean and centred scatter (core).")
      .def(py::init<Index>(), py::arg("n"))
      .def(py::init<std::int64_t, const Eigen::Ref<const VectorXd>&, ConstRefMatrixXd>(),
           py::arg("count"), py::arg("mean"), py::arg("scatter"),
           "From a state; the scatter's lower triangle is read.")
      .def(
          "update",
          [](Moments& self, const py::array& x) {
            visit_float_rows(x, "Moments.update", [&](const auto& v) {
              py::gil_scoped_release release;
              self.update(v.data, v.rows, v.cols, v.row_stride, v.col_stride);
            });
          },
          py::arg("x"), "Adds a (rows, n) float32/float64 block read in place through its strides.")
      .def(
          "merge",
          [](Moments& self, Moments& other) {
            py::gil_scoped_release release;
            self.merge(other);
          },
          py::arg("other"))
      .def("copy", [](const Moments& self) { return Moments(self); })
      .def_property_readonly("n", &Moments::n)
      .def_property_readonly("count", &Moments::count)
      .def("mean", &Moments::mean, py::call_guard<py::gil_scoped_release>())
      .def("scatter", &Moments::scatter, py::call_guard<py::gil_scoped_release>())
      .def("gram", &Moments::gram, py::call_guard<py::gil_scoped_release>());
  m.def(
      "syrk",
      [](const py::array_t<double>& x) {
        const StridedRows<double> v = strided_rows<double>(x, "syrk");
        py::gil_scoped_release release;
        return syrk(v.data, v.rows, v.cols, v.row_stride, v.col_stride);
      },
      py::arg("x"),
      "X^T X of a (rows, n) float64 array read in place through its strides (other dtypes are "
      "converted).");
}

}  // namespace descramble::bindings
