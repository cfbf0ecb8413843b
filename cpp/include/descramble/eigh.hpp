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

// The eigenpairs of `count` matrices of size n x n stored one after another in
// `a` (row-major, contiguous; lower triangles read), one matrix per OpenMP
// thread. k = 0: all pairs, k > 0: the k largest (1 <= k <= n), m = n or k.
// Writes values[p * m + j] (ascending) and, with compute_vectors, the n x m
// row-major matrix of matrix p's vectors at vectors + p * n * m. A single
// matrix is solved as eigh() solves it (with the per-phase thread policy).
// Errors are those of eigh(), of the lowest failing matrix, with its index
// prefixed to the message.
void eigh_batch(const double* a, Index count, Index n, Index k, bool compute_vectors,
                double* values, double* vectors);

// The k largest eigenpairs (k = n: all) in principal-component order: values
// descending, and each vector's entry of largest magnitude positive (the first
// such entry on ties), which makes the signs reproducible. 1 <= k <= n.
EighResult principal_eigh(const Eigen::Ref<const RowMatrixXd>& a, Index k);

}  // namespace descramble
