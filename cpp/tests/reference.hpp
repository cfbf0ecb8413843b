// Independent references for the core's tests: seeded random data, a two-pass
// mean and scatter, cyclic Jacobi and Sturm bisection eigenvalues, matrices of
// known spectrum, and brute-force and Hungarian assignment solvers. Plain
// loops only: none of it shares code with the core.
#pragma once

#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "descramble/types.hpp"

namespace descramble::test {

using Matrix = Eigen::MatrixXd;  // column-major, as the solvers return vectors
using RowMatrixXd = descramble::RowMatrixXd;
using VectorXd = descramble::VectorXd;

constexpr double kEps = std::numeric_limits<double>::epsilon();
constexpr double kInf = std::numeric_limits<double>::infinity();

// (rows x cols) standard normal entries; the same on every platform with the
// same standard library, and different for different seeds.
RowMatrixXd normal_matrix(Index rows, Index cols, std::uint64_t seed);

// A symmetric matrix with standard normal entries (lower triangle drawn).
RowMatrixXd symmetric_normal(Index n, std::uint64_t seed);

// Q diag(w) Q^T with Q a product of four random Householder reflectors: a
// dense symmetric matrix whose eigenvalues are w to working accuracy.
RowMatrixXd with_spectrum(const VectorXd& w, std::uint64_t seed);

// Column means and the centred scatter sum (x - mean)(x - mean)^T of x, two
// passes (the mean first), so no cancellation against a large offset.
struct TwoPass {
  VectorXd mean;
  RowMatrixXd scatter;
};
TwoPass two_pass_moments(const RowMatrixXd& x);

// All eigenvalues of symmetric a, ascending, by cyclic Jacobi rotations.
VectorXd jacobi_eigenvalues(const RowMatrixXd& a);

// All eigenvalues of the symmetric tridiagonal (d, e), ascending, by Sturm
// sequence bisection (each to within a few ulps of the spectrum's scale).
VectorXd bisection_eigenvalues(const VectorXd& d, const VectorXd& e);

// ||A V - V diag(w)||_max / (n eps ||A||_max) and ||V^T V - I||_max / (n eps):
// both O(1) for a backward-stable solver.
struct EighQuality {
  double residual;
  double orthogonality;
};
EighQuality eigh_quality(const RowMatrixXd& a, const VectorXd& w, const Matrix& v);

// Largest |a_i - b_i| over max |b_i| (or 1 when b is zero).
double relative_max_difference(const VectorXd& a, const VectorXd& b);
double relative_max_difference(const RowMatrixXd& a, const RowMatrixXd& b);

// The optimal cost over every matching of size min(nr, nc) of a row-major
// nr x nc matrix, enumerating all of them (nr, nc <= 8); +inf (maximize:
// -inf) entries are forbidden. Returns NaN when no matching avoids them.
double brute_force_assignment_cost(const std::vector<double>& cost, Index nr, Index nc,
                                   bool maximize);

// The optimal cost of a square, finite minimisation problem by the O(n^3)
// Hungarian method with potentials (Kuhn-Munkres), for sizes too large to
// enumerate.
double hungarian_cost(const std::vector<double>& cost, Index n);

}  // namespace descramble::test
