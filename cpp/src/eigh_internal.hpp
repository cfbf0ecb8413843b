// Building blocks of the symmetric eigensolver (internal to the core).
//
// The dense solver follows the classic three-phase design of LAPACK's dsyevd:
//   1. blocked Householder reduction A = Q T Q^T to tridiagonal form
//      (Dongarra, Hammarling, Sorensen, J. Comput. Appl. Math. 27 (1989));
//   2. the tridiagonal eigenproblem T = Z diag(w) Z^T, by Cuppen's divide and
//      conquer with Gu-Eisenstat eigenvectors (SIMAX 16 (1995) 172-191,
//      doi:10.1137/S0895479892241287), or by inverse iteration for a few pairs;
//   3. blocked back-transformation V = Q Z with compact-WY reflector blocks
//      (Schreiber, Van Loan, SISC 10 (1989) 53-57, doi:10.1137/0910005).
#pragma once

#include <Eigen/Dense>

#include "descramble/types.hpp"

namespace descramble::detail {

using ColMatrixXd = Eigen::MatrixXd;

// Where the solver changes path (matrix order n; the thread crossovers are in
// thread_policy.hpp). Both sides of each are tested.
//
// Up to this n Eigen's one-stage solver is as fast as the blocked pipeline,
// whose setup (copies, blocks, recursion) does not pay on tiny matrices.
constexpr Index kEighSmall = 48;
// Reflectors per panel of the blocked reduction (LAPACK dlatrd's nb).
constexpr Index kReductionPanel = 32;
// Trailing size the reduction finishes column by column: below it the
// panels' rank-2k GEMMs are too small to beat the fused unblocked sweep.
constexpr Index kReductionUnblocked = 256;
// Up to this n the back-transformation applies one reflector at a time, the
// minimal 2 n^3 flops on contiguous rows; above it compact-WY blocks win
// because their GEMMs run at speed.
constexpr Index kBackUnblocked = 176;
// Divide-and-conquer sub-problems of at most this order are solved by QL.
constexpr Index kDcLeaf = 32;
// eigh_largest computes only k vectors (inverse iteration) when
// kInverseIterationRatio * k <= n; for more pairs the full solve is faster.
constexpr Index kInverseIterationRatio = 8;

// Tridiagonal form of the symmetric matrix whose lower triangle is in `a`
// (column-major, overwritten). On return `d` (n) and `e` (n-1) hold the
// diagonal and subdiagonal of T; column j of `a` below row j+1 holds the
// Householder vector v_j (v_j[j+1] = 1 implicitly) and `tau[j]` its factor, so
// that Q = H_0 H_1 ... H_{n-2} with H_j = I - tau_j v_j v_j^T.
void tridiagonalize(ColMatrixXd& a, VectorXd& d, VectorXd& e, VectorXd& tau);

// z := Q z for the Q stored by tridiagonalize (z has n rows, any number of columns).
void apply_householder_q(const ColMatrixXd& reflectors, const VectorXd& tau, ColMatrixXd& z);

// All eigenvalues (ascending, in `d`) and eigenvectors (columns of `z`, n x n)
// of the symmetric tridiagonal matrix (d, e), by divide and conquer. `e` is
// destroyed.
void tridiagonal_eigen_dc(VectorXd& d, VectorXd& e, ColMatrixXd& z);

// Eigenvalues (ascending, in d[0:n]) and eigenvectors (columns of the n x n
// block at z, leading dimension ldz) of the tridiagonal matrix (d, e), scaled
// to norm at most 1, by implicit QL; e needs n entries (e[n-1] is scratch) and is destroyed.
// Returns false if the iteration did not converge. Meant for small n.
bool tridiagonal_ql_vectors(double* d, double* e, Index n, double* z, Index ldz);

// Eigenvalues only (ascending, in `d`), by root-free implicit QL; `e` is destroyed.
void tridiagonal_eigenvalues(VectorXd& d, VectorXd& e);

// Eigenvectors (columns of `z`, n x m) of the tridiagonal matrix (d, e) for the
// given accurate eigenvalues `w` (ascending, m of them), by inverse iteration
// with reorthogonalisation against all earlier vectors; meant for m << n.
void tridiagonal_inverse_iteration(const VectorXd& d, const VectorXd& e, const VectorXd& w,
                                   ColMatrixXd& z);

}  // namespace descramble::detail
