// Dense symmetric eigensolver: drivers choosing between Eigen's one-stage
// solver (small n) and the blocked reduction + divide and conquer pipeline.
#include "descramble/eigh.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <utility>

#include "eigh_internal.hpp"
#include "layout_copy.hpp"
#include "thread_policy.hpp"

namespace descramble {

namespace {

// The reduction to tridiagonal form of a (lower triangle), on the threads the
// policy gives it.
void reduce(const Eigen::Ref<const RowMatrixXd>& a, detail::ColMatrixXd& work, VectorXd& d,
            VectorXd& e, VectorXd& tau) {
  const detail::ThreadLimit threads(a.rows() < detail::kEighReduceParallelMin);
  work = detail::column_major_copy(a);
  detail::tridiagonalize(work, d, e, tau);
}

void back_transform(const detail::ColMatrixXd& work, const VectorXd& tau, detail::ColMatrixXd& z) {
  const detail::ThreadLimit threads(work.rows() < detail::kEighBackParallelMin);
  detail::apply_householder_q(work, tau, z);
}

// Checks the shape and that the lower triangle (the part that is read) is
// finite; returns the largest magnitude in it.
double check_square_finite(const Eigen::Ref<const RowMatrixXd>& a) {
  if (a.rows() != a.cols()) {
    throw std::invalid_argument("eigh: expected a square matrix, got shape (" +
                                std::to_string(a.rows()) + ", " + std::to_string(a.cols()) + ")");
  }
  double largest = 0.0;
  for (Index i = 0; i < a.rows(); ++i) {
    for (Index j = 0; j <= i; ++j) {
      if (!std::isfinite(a(i, j))) {
        throw std::domain_error("eigh: the matrix contains NaN or infinity (at [" +
                                std::to_string(i) + ", " + std::to_string(j) + "])");
      }
      largest = std::max(largest, std::abs(a(i, j)));
    }
  }
  return largest;
}

// A power of two that brings the largest entry near 1 when it lies outside
// [2^-100, 2^100], else 1. The tridiagonal solvers square (and square again)
// off-diagonal entries, which overflows or underflows far from unit scale
// (entries near 1e200 keep QL from converging, near 1e-200 lose eigenvalues).
// Scaling by a power of two is exact and leaves the eigenvectors unchanged.
double balancing_scale(double largest) {
  if (largest == 0.0 || (largest >= 0x1p-100 && largest <= 0x1p100)) return 1.0;
  int exponent = 0;
  std::frexp(largest, &exponent);
  // Subnormal input: 2^1000 lifts it into range without overflowing the factor.
  return std::ldexp(1.0, std::min(-exponent, 1000));
}

// The pairs of `scale * a` mapped back to those of `a`.
EighResult unscaled(EighResult r, double scale) {
  r.values /= scale;
  return r;
}

EighResult eigh_small(const Eigen::Ref<const RowMatrixXd>& a, bool compute_vectors) {
  // Eigen reads the lower triangle of its column-major copy.
  Eigen::MatrixXd work = a;
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> solver(
      work, compute_vectors ? Eigen::ComputeEigenvectors : Eigen::EigenvaluesOnly);
  if (solver.info() != Eigen::Success) {
    throw std::runtime_error("eigh: the eigenvalue iteration did not converge");
  }
  EighResult out;
  out.values = solver.eigenvalues();
  if (compute_vectors) out.vectors = solver.eigenvectors();
  return out;
}

}  // namespace

EighResult eigh(const Eigen::Ref<const RowMatrixXd>& a, bool compute_vectors) {
  const double scale = balancing_scale(check_square_finite(a));
  if (scale != 1.0) return unscaled(eigh(RowMatrixXd(a * scale), compute_vectors), scale);
  const Index n = a.rows();
  EighResult out;
  if (n == 0) {
    out.values.resize(0);
    out.vectors.resize(0, 0);
    return out;
  }
  if (n <= detail::kEighSmall) return eigh_small(a, compute_vectors);
  detail::ColMatrixXd work;
  VectorXd d, e, tau;
  reduce(a, work, d, e, tau);
  if (!compute_vectors) {
    detail::tridiagonal_eigenvalues(d, e);
    out.values = d;
    return out;
  }
  detail::ColMatrixXd z;
  {
    const detail::ThreadLimit threads(n < detail::kEighDcParallelMin);
    detail::tridiagonal_eigen_dc(d, e, z);
  }
  back_transform(work, tau, z);
  out.values = d;
  out.vectors = std::move(z);
  return out;
}

EighResult eigh_largest(const Eigen::Ref<const RowMatrixXd>& a, Index k, bool compute_vectors) {
  const double scale = balancing_scale(check_square_finite(a));
  if (scale != 1.0) {
    return unscaled(eigh_largest(RowMatrixXd(a * scale), k, compute_vectors), scale);
  }
  const Index n = a.rows();
  if (k < 1 || k > n) {
    throw std::invalid_argument("eigh: k must satisfy 1 <= k <= n = " + std::to_string(n) +
                                ", got " + std::to_string(k));
  }
  EighResult out;
  if (n <= detail::kEighSmall || detail::kInverseIterationRatio * k > n) {
    // Many pairs: the full solve is the fast way to all of them.
    EighResult full =
        n <= detail::kEighSmall ? eigh_small(a, compute_vectors) : eigh(a, compute_vectors);
    out.values = full.values.tail(k);
    if (compute_vectors) out.vectors = full.vectors.rightCols(k);
    return out;
  }
  detail::ColMatrixXd work;
  VectorXd d, e, tau;
  reduce(a, work, d, e, tau);
  VectorXd w = d, e_copy = e;
  detail::tridiagonal_eigenvalues(w, e_copy);
  out.values = w.tail(k);
  if (!compute_vectors) return out;
  detail::ColMatrixXd z;
  detail::tridiagonal_inverse_iteration(d, e, out.values, z);
  back_transform(work, tau, z);
  out.vectors = std::move(z);
  return out;
}

}  // namespace descramble
