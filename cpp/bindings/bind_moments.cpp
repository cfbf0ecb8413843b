#include <stdexcept>
#include <string>

#include "common.hpp"
#include "descramble/moments.hpp"

namespace descramble::bindings {

namespace {

// Element strides of a 2-D float32/float64 array, read in place: strided and
// Fortran-ordered views are not copied (the core converts panel by panel).
template <class T>
void update_from(Moments& m, const py::array& x) {
  const auto item = static_cast<py::ssize_t>(sizeof(T));
  if (x.strides(0) % item != 0 || x.strides(1) % item != 0) {
    throw std::invalid_argument("Moments.update: strides are not a multiple of the item size");
  }
  const T* data = static_cast<const T*>(x.data());
  const Index rows = x.shape(0), cols = x.shape(1);
  const Index rs = x.strides(0) / item, cs = x.strides(1) / item;
  py::gil_scoped_release release;
  m.update(data, rows, cols, rs, cs);
}

}  // namespace

void bind_moments(py::module_& m) {
  py::class_<Moments>(m, "Moments", "Streaming count, mean and centred scatter (core).")
      .def(py::init<Index>(), py::arg("n"))
      .def(py::init<std::int64_t, const Eigen::Ref<const VectorXd>&, ConstRefMatrixXd>(),
           py::arg("count"), py::arg("mean"), py::arg("scatter"),
           "From a state; the scatter's lower triangle is read.")
      .def(
          "update",
          [](Moments& self, const py::array& x) {
            if (x.ndim() != 2) {
              throw std::invalid_argument("Moments.update: expected a 2-D array, got " +
                                          std::to_string(x.ndim()) + "-D");
            }
            if (x.dtype().equal(py::dtype::of<double>())) {
              update_from<double>(self, x);
            } else if (x.dtype().equal(py::dtype::of<float>())) {
              update_from<float>(self, x);
            } else {
              throw py::type_error("Moments.update: expected float32 or float64 data, got " +
                                   std::string(py::str(x.dtype())));
            }
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
        if (x.ndim() != 2) {
          throw std::invalid_argument("syrk: expected a 2-D array, got " +
                                      std::to_string(x.ndim()) + "-D");
        }
        const auto item = static_cast<py::ssize_t>(sizeof(double));
        if (x.strides(0) % item != 0 || x.strides(1) % item != 0) {
          throw std::invalid_argument("syrk: strides are not a multiple of the item size");
        }
        const double* data = x.data();
        const Index rows = x.shape(0), cols = x.shape(1);
        const Index rs = x.strides(0) / item, cs = x.strides(1) / item;
        py::gil_scoped_release release;
        return syrk(data, rows, cols, rs, cs);
      },
      py::arg("x"),
      "X^T X of a (rows, n) float64 array read in place through its strides (other dtypes are "
      "converted).");
}

}  // namespace descramble::bindings
