#include "descramble/eigh.hpp"

#include <stdexcept>
#include <string>

namespace descramble {

namespace {

void check_square_finite(const Eigen::Ref<const RowMatrixXd>& a) {
  if (a.rows() != a.cols()) {
    throw std::invalid_argument("eigh: expected a square matrix, got shape (" +
                                std::to_string(a.rows()) + ", " + std::to_string(a.cols()) + ")");
  }
  // Only the lower triangle is used, so only it has to be finite.
  for (Index i = 0; i < a.rows(); ++i) {
    for (Index j = 0; j <= i; ++j) {
      if (!std::isfinite(a(i, j))) {
        throw std::domain_error("eigh: the matrix contains NaN or infinity (at [" +
                                std::to_string(i) + ", " + std::to_string(j) + "])");
      }
    }
  }
}

}  // namespace

EighResult eigh(const Eigen::Ref<const RowMatrixXd>& a, bool compute_vectors) {
  check_square_finite(a);
  EighResult out;
  const Index n = a.rows();
  if (n == 0) {
    out.values.resize(0);
    out.vectors.resize(0, 0);
    return out;
  }
  // Eigen reads the lower triangle; a column-major copy is what the solver
  // works on anyway.
  Eigen::MatrixXd work = a;
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> solver(
      work, compute_vectors ? Eigen::ComputeEigenvectors : Eigen::EigenvaluesOnly);
  if (solver.info() != Eigen::Success) {
    throw std::runtime_error("eigh: the eigenvalue iteration did not converge");
  }
  out.values = solver.eigenvalues();
  if (compute_vectors) out.vectors = solver.eigenvectors();
  return out;
}

EighResult eigh_largest(const Eigen::Ref<const RowMatrixXd>& a, Index k, bool compute_vectors) {
  if (k < 1 || k > a.rows()) {
    throw std::invalid_argument("eigh: k must satisfy 1 <= k <= n = " + std::to_string(a.rows()) +
                                ", got " + std::to_string(k));
  }
  EighResult full = eigh(a, compute_vectors);
  const Index n = a.rows();
  EighResult out;
  out.values = full.values.tail(k);
  if (compute_vectors) out.vectors = full.vectors.rightCols(k);
  (void)n;
  return out;
}

}  // namespace descramble
