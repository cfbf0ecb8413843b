// Shared Eigen typedefs of the core. Row-major matrices match numpy's default
// C order, so C-contiguous arrays cross the binding without a copy.
#pragma once

#include <Eigen/Dense>
#include <cstdint>

namespace descramble {

template <class T>
using RowMatrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class T>
using Vector = Eigen::Matrix<T, Eigen::Dynamic, 1>;

using RowMatrixXd = RowMatrix<double>;
using RowMatrixXf = RowMatrix<float>;
using VectorXd = Vector<double>;
using Index = Eigen::Index;

}  // namespace descramble
