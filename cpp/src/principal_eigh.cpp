// Eigenpairs of a Gram matrix in the order and sign convention of principal
// components, done in the core so that the descrambler's small-n path does not
// pay numpy's per-call overheads for an O(n^2) reordering.
#include <cmath>

#include "descramble/eigh.hpp"
#include "descramble/eigh_leading.hpp"

namespace descramble {

void to_principal_order(EighResult& r) {
  r.values.reverseInPlace();
  Eigen::MatrixXd& v = r.vectors;  // column-major: every column is contiguous
  const Index cols = v.cols();
  for (Index j = 0; j < cols / 2; ++j) v.col(j).swap(v.col(cols - 1 - j));
  for (Index j = 0; j < cols; ++j) {
    // The first entry of largest magnitude (a strict > keeps the first) decides.
    Index at = 0;
    v.col(j).cwiseAbs().maxCoeff(&at);
    if (v(at, j) < 0.0) v.col(j) = -v.col(j);
  }
}

EighResult principal_eigh(const Eigen::Ref<const RowMatrixXd>& a, Index k) {
  // eigh_largest validates k against n (and the matrix itself).
  EighResult r = k == a.rows() && k > 0 ? eigh(a, true) : eigh_largest(a, k, true);
  to_principal_order(r);
  return r;
}

}  // namespace descramble
