// Symmetric eigensolver of the core.
#pragma once

#include "descramble/types.hpp"

namespace descramble {

struct EighResult {
  VectorXd values;      // ascending
  RowMatrixXd vectors;  // column j pairs with values[j]; empty when not requested
};

// Full symmetric eigendecomposition A = V diag(w) V^T with w ascending.
// Only the lower triangle of A is read. Throws std::invalid_argument for a
// non-square matrix and std::domain_error for non-finite entries.
EighResult eigh(const Eigen::Ref<const RowMatrixXd>& a, bool compute_vectors = true);

// The k largest eigenpairs, returned in ascending order (as numpy would order
// the tail of a full solve). 1 <= k <= n.
EighResult eigh_largest(const Eigen::Ref<const RowMatrixXd>& a, Index k,
                        bool compute_vectors = true);

}  // namespace descramble
