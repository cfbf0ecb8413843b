// The one first include of every binding file: pybind11, numpy and Eigen
// support, and the core's row-major typedefs.
#pragma once

#include <pybind11/eigen.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "descramble/types.hpp"

namespace py = pybind11;

namespace descramble::bindings {

// A C-contiguous float64 matrix arrives without a copy; anything else is
// converted once by pybind11.
using ConstRefMatrixXd = Eigen::Ref<const RowMatrixXd>;

}  // namespace descramble::bindings
