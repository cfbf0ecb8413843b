// Eigenpairs of a Gram matrix in the order and sign convention of principal
// components, done in the core so that the descrambler's small-n path does not
// pay numpy's per-call overheads for an O(n^2) reordering.
#include <cmath>

#include "descramble/eigh.hpp"

namespace descramble {

EighResult principal_eigh(const Eigen::Ref<const RowMatrixXd>& a, Index k) {
  // eigh_largest validates k against n (and the matrix itself).
  EighResult r = k == a.rows() && k > 0 ? eigh(a, true) : eigh_largest(a, k, true);
  r.values.reverseInPlace();
  r.vectors.rowwise().reverseInPlace();
  RowMatrixXd& v = r.vectors;
  const Index rows = v.rows(), cols = v.cols();
  // Column-wise "first entry of largest magnitude", scanned row by row so that
  // the row-major matrix is read contiguously; a strict > keeps the first.
  VectorXd best = VectorXd::Zero(cols);
  VectorXd sign = VectorXd::Ones(cols);
  for (Index i = 0; i < rows; ++i) {
    const double* row = v.row(i).data();
    for (Index j = 0; j < cols; ++j) {
      const double m = std::abs(row[j]);
      if (m > best[j]) {
        best[j] = m;
        sign[j] = row[j] < 0.0 ? -1.0 : 1.0;
      }
    }
  }
  for (Index i = 0; i < rows; ++i) v.row(i).array() *= sign.transpose().array();
  return r;
}

}  // namespace descramble
