// Dense symmetric eigensolver: drivers choosing between Eigen's one-stage
// solver (small n) and the blocked reduction + divide and conquer pipeline.
#include "descramble/eigh.hpp"

#include <stdexcept>
#include <string>
#include <utility>

#include "eigh_internal.hpp"
#include "layout_copy.hpp"

#ifdef DESCRAMBLE_HAVE_OPENMP
#include <omp.h>
#endif

namespace descramble {

namespace {

// Below this size Eigen's unblocked solver is as fast as the blocked pipeline.
constexpr Index kSmall = 48;
// Below this size one thread is used: the solver synchronises O(n) times, and
// on small problems (or a loaded machine) the barriers cost more than they save.
// Measured on an idle 2-core EPYC: one thread wins up to n = 512 (32 ms vs
// 44 ms), two win from n = 768 (67 ms vs 91 ms).
constexpr Index kParallelMin = 640;

// Limits the OpenMP threads of the calling thread (Eigen's GEMM and our own
// parallel loops both follow omp_get_max_threads(), a per-thread setting) for
// the lifetime of the guard.
class ThreadLimit {
 public:
  explicit ThreadLimit(Index n) {
#ifdef DESCRAMBLE_HAVE_OPENMP
    saved_ = omp_get_max_threads();
    if (n < kParallelMin) omp_set_num_threads(1);
#else
    (void)n;
#endif
  }
  ~ThreadLimit() {
#ifdef DESCRAMBLE_HAVE_OPENMP
    omp_set_num_threads(saved_);
#endif
  }
  ThreadLimit(const ThreadLimit&) = delete;
  ThreadLimit& operator=(const ThreadLimit&) = delete;

 private:
  int saved_ = 1;
};

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
  check_square_finite(a);
  const Index n = a.rows();
  EighResult out;
  if (n == 0) {
    out.values.resize(0);
    out.vectors.resize(0, 0);
    return out;
  }
  if (n <= kSmall) return eigh_small(a, compute_vectors);
  const ThreadLimit threads(n);
  detail::ColMatrixXd work = detail::column_major_copy(a);
  VectorXd d, e, tau;
  detail::tridiagonalize(work, d, e, tau);
  if (!compute_vectors) {
    detail::tridiagonal_eigenvalues(d, e);
    out.values = d;
    return out;
  }
  detail::ColMatrixXd z;
  detail::tridiagonal_eigen_dc(d, e, z);
  detail::apply_householder_q(work, tau, z);
  out.values = d;
  out.vectors = std::move(z);
  return out;
}

EighResult eigh_largest(const Eigen::Ref<const RowMatrixXd>& a, Index k, bool compute_vectors) {
  check_square_finite(a);
  const Index n = a.rows();
  if (k < 1 || k > n) {
    throw std::invalid_argument("eigh: k must satisfy 1 <= k <= n = " + std::to_string(n) +
                                ", got " + std::to_string(k));
  }
  EighResult out;
  if (n <= kSmall || 8 * k > n) {
    // Many pairs: the full solve is the fast way to all of them.
    EighResult full = n <= kSmall ? eigh_small(a, compute_vectors) : eigh(a, compute_vectors);
    out.values = full.values.tail(k);
    if (compute_vectors) out.vectors = full.vectors.rightCols(k);
    return out;
  }
  const ThreadLimit threads(n);
  detail::ColMatrixXd work = detail::column_major_copy(a);
  VectorXd d, e, tau;
  detail::tridiagonalize(work, d, e, tau);
  VectorXd w = d, e_copy = e;
  detail::tridiagonal_eigenvalues(w, e_copy);
  out.values = w.tail(k);
  if (!compute_vectors) return out;
  detail::ColMatrixXd z;
  detail::tridiagonal_inverse_iteration(d, e, out.values, z);
  detail::apply_householder_q(work, tau, z);
  out.vectors = std::move(z);
  return out;
}

}  // namespace descramble
