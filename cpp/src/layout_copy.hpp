// Internal: a column-major copy of a row-major matrix, i.e. a transpose of the
// memory layout. Eigen's plain assignment walks the source with a stride of a
// whole row for every element (n = 4096: 141 ms on the 2-core EPYC); copying
// 16 x 16 tiles keeps both sides in cache lines already loaded (16 ms on two
// threads). The eigensolver makes this copy on input.
#pragma once

#include <Eigen/Dense>
#include <algorithm>

#include "descramble/types.hpp"

#ifdef DESCRAMBLE_HAVE_OPENMP
#include <omp.h>
#endif

namespace descramble::detail {

inline Eigen::MatrixXd column_major_copy(const Eigen::Ref<const RowMatrixXd>& a) {
  constexpr Index kTile = 16;
  // Below this many entries a second thread costs more to wake than it saves.
  constexpr Index kParallelEntries = Index{512} * 512;
  const Index rows = a.rows(), cols = a.cols(), lda = a.outerStride();
  Eigen::MatrixXd out(rows, cols);
  const double* src = a.data();
  double* dst = out.data();
  const Index col_tiles = (cols + kTile - 1) / kTile;
#ifdef DESCRAMBLE_HAVE_OPENMP
  const int threads = rows * cols < kParallelEntries ? 1 : omp_get_max_threads();
#pragma omp parallel for schedule(static) num_threads(threads)
#endif
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
