// Symmetric eigensolver of the core: LAPACK dsyevd's design (blocked
// Householder tridiagonalisation, divide and conquer, compact-WY
// back-transformation) in our own code; Eigen's solver for n <= 48. The
// building blocks are declared in cpp/src/eigh_internal.hpp.
#pragma once

#include "descramble/types.hpp"

namespace descramble {

struct EighResult {
  VectorXd values;  // ascending
  // Column j pairs with values[j]; empty when not requested. Column-major, as
  // the solver computes it (and as LAPACK returns it): no transposing copy.
  Eigen::MatrixXd vectors;
};

// Full symmetric eigendecomposition A = V diag(w) V^T with w ascending.
// Only the lower triangle of A is read. Throws std::invalid_argument for a
// non-square matrix, std::domain_error for non-finite entries and
// std::runtime_error if an iteration fails to converge. Without vectors the
// tridiagonal eigenvalues come from implicit QL. Uses the calling thread's
// OpenMP thread count on large matrices, one thread below each phase's
// crossover (cpp/src/thread_policy.hpp, listed by crossovers()).
EighResult eigh(const Eigen::Ref<const RowMatrixXd>& a, bool compute_vectors = true);

// The k largest eigenpairs, returned in ascending order (as numpy would order
// the tail of a full solve). 1 <= k <= n. For k <= n / 8 only k vectors are
// computed (inverse iteration on the tridiagonal form), otherwise the full
// solve is cut.
EighResult eigh_largest(const Eigen::Ref<const RowMatrixXd>& a, Index k,
                        bool compute_vectors = true);

// The k largest eigenpairs (k = n: all) in principal-component order: values
// descending, and each vector's entry of largest magnitude positive (the first
// such entry on ties), which makes the signs reproducible. 1 <= k <= n.
EighResult principal_eigh(const Eigen::Ref<const RowMatrixXd>& a, Index k);

}  // namespace descramble
