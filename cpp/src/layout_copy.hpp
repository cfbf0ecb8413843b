// Internal: a column-major copy of a row-major matrix, i.e. a transpose of the
// memory layout. Eigen's plain assignment walks the source with a stride of a
// whole row for every element; copying 16 x 16 tiles keeps both sides in
// cache lines already loaded. The eigensolver makes this copy on input.
#pragma once

#include <Eigen/Dense>
#include <algorithm>

#include "descramble/types.hpp"
#include "thread_policy.hpp"

namespace descramble::detail {

inline Eigen::MatrixXd column_major_copy(const Eigen::Ref<const RowMatrixXd>& a) {
  constexpr Index kTile = 16;
  const Index rows = a.rows(), cols = a.cols(), lda = a.outerStride();
  Eigen::MatrixXd out(rows, cols);
  const double* src = a.data();
  double* dst = out.data();
  const Index col_tiles = (cols + kTile - 1) / kTile;
  const int threads = rows * cols < kLayoutCopyParallelEntries ? 1 : max_threads();
#pragma omp parallel for schedule(static) num_threads(threads)
  for (Index jt = 0; jt < col_tiles; ++jt) {
    const Index j0 = jt * kTile, j1 = std::min(cols, j0 + kTile);
    for (Index i0 = 0; i0 < rows; i0 += kTile) {
      const Index i1 = std::min(rows, i0 + kTile);
      for (Index j = j0; j < j1; ++j) {
        double* column = dst + j * rows;
        for (Index i = i0; i < i1; ++i) column[i] = src[i * lda + j];
      }
    }
  }
  return out;
}

}  // namespace descramble::detail
