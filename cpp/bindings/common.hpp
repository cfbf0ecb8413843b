// The one first include of every binding file: pybind11, numpy and Eigen
// support, the core's row-major typedefs, and the strided 2-D array views
// through which the streaming bindings read batches in place.
#pragma once

#include <pybind11/eigen.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <stdexcept>
#include <string>
#include <utility>

#include "descramble/types.hpp"

namespace py = pybind11;

namespace descramble::bindings {

// A C-contiguous float64 matrix arrives without a copy; anything else is
// converted once by pybind11.
using ConstRefMatrixXd = Eigen::Ref<const RowMatrixXd>;

// A (rows, cols) array of T read in place through its element strides:
// strided and Fortran-ordered views reach the core without a copy.
template <class T>
struct StridedRows {
  const T* data;
  Index rows;
  Index cols;
  Index row_stride;
  Index col_stride;
};

// `what` names the caller in the error messages.
inline void check_2d(const py::array& x, const std::string& what) {
  if (x.ndim() != 2) {
    throw std::invalid_argument(what + ": expected a 2-D array, got " + std::to_string(x.ndim()) +
                                "-D");
  }
}

template <class T>
StridedRows<T> strided_rows(const py::array& x, const std::string& what) {
  check_2d(x, what);
  const auto item = static_cast<py::ssize_t>(sizeof(T));
  if (x.strides(0) % item != 0 || x.strides(1) % item != 0) {
    throw std::invalid_argument(what + ": strides are not a multiple of the item size");
  }
  return {static_cast<const T*>(x.data()), x.shape(0), x.shape(1), x.strides(0) / item,
          x.strides(1) / item};
}

// Calls f with the StridedRows<double> or StridedRows<float> of a 2-D
// float64 or float32 array; any other dtype is a TypeError.
template <class F>
void visit_float_rows(const py::array& x, const std::string& what, F&& f) {
  check_2d(x, what);
  if (x.dtype().equal(py::dtype::of<double>())) {
    std::forward<F>(f)(strided_rows<double>(x, what));
  } else if (x.dtype().equal(py::dtype::of<float>())) {
    std::forward<F>(f)(strided_rows<float>(x, what));
  } else {
    throw py::type_error(what + ": expected float32 or float64 data, got " +
                         std::string(py::str(x.dtype())));
  }
}

}  // namespace descramble::bindings
