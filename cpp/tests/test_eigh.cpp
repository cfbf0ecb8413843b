// descramble::eigh, eigh_largest and principal_eigh on both sides of every
// path and thread crossover, against Jacobi eigenvalues and known spectra.
#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include "descramble/eigh.hpp"
#include "eigh_internal.hpp"
#include "harness.hpp"
#include "reference.hpp"
#include "thread_policy.hpp"

namespace {

using namespace descramble;
using namespace descramble::test;
namespace policy = descramble::detail;

// Eigenvalues within a few rounding errors of the matrix's scale.
double eigenvalue_tolerance(const RowMatrixXd& a, const VectorXd& reference) {
  const double scale = std::max(a.size() > 0 ? a.cwiseAbs().maxCoeff() : 0.0,
                                reference.size() > 0 ? reference.cwiseAbs().maxCoeff() : 0.0);
  return 50.0 * static_cast<double>(std::max<Index>(a.rows(), 1)) * kEps * scale;
}

bool ascending(const VectorXd& w) { return std::is_sorted(w.data(), w.data() + w.size()); }

// The full solve, with and without vectors, against reference eigenvalues.
void check_full_solve(const RowMatrixXd& a, const VectorXd& reference, const std::string& what) {
  const Index n = a.rows();
  const EighResult r = eigh(a, true);
  CHECK(r.values.size() == n && r.vectors.rows() == n && r.vectors.cols() == n, what);
  if (r.values.size() != n || r.vectors.rows() != n || r.vectors.cols() != n) return;
  CHECK(ascending(r.values), what);
  const double tol = eigenvalue_tolerance(a, reference);
  CHECK_LE((r.values - reference).cwiseAbs().maxCoeff(), tol, what);
  const EighQuality q = eigh_quality(a, r.values, r.vectors);
  CHECK_LE(q.residual, 10.0, what);
  CHECK_LE(q.orthogonality, 10.0, what);
  const EighResult values_only = eigh(a, false);
  CHECK(values_only.vectors.size() == 0, what);
  CHECK(values_only.values.size() == n, what);
  if (values_only.values.size() == n) {
    CHECK(ascending(values_only.values), what);
    CHECK_LE((values_only.values - reference).cwiseAbs().maxCoeff(), tol, what);
  }
}

VectorXd sorted(VectorXd w) {
  std::sort(w.data(), w.data() + w.size());
  return w;
}

VectorXd normal_spectrum(Index n, std::uint64_t seed) {
  return sorted(normal_matrix(n, 1, seed).col(0));
}

// 0, 1, 1, 16, 16, 81, 81, ...: the pairs of the Fourier smoothness operator.
VectorXd paired_spectrum(Index n) {
  VectorXd w(n);
  for (Index i = 0; i < n; ++i) {
    const double k = static_cast<double>((i + 1) / 2);
    w[i] = k * k * k * k;
  }
  return w;
}

std::vector<Index> unique_sizes(std::vector<Index> sizes) {
  std::sort(sizes.begin(), sizes.end());
  sizes.erase(std::unique(sizes.begin(), sizes.end()), sizes.end());
  return sizes;
}

}  // namespace

DESCRAMBLE_TEST(eigh_matches_jacobi_on_both_sides_of_each_path) {
  // Eigen's solver up to kEighSmall; divide-and-conquer leaves of kDcLeaf
  // (two leaves, then three); the reflector-by-reflector back-transformation
  // up to kBackUnblocked.
  const std::vector<Index> sizes =
      unique_sizes({1, 2, 3, policy::kEighSmall, policy::kEighSmall + 1, 2 * policy::kDcLeaf,
                    2 * policy::kDcLeaf + 1, policy::kBackUnblocked, policy::kBackUnblocked + 1});
  for (Index n : sizes) {
    const RowMatrixXd a = symmetric_normal(n, 100 + static_cast<std::uint64_t>(n));
    check_full_solve(a, jacobi_eigenvalues(a), "random symmetric, n = " + std::to_string(n));
  }
}

DESCRAMBLE_TEST(eigh_known_spectrum_across_reduction_and_thread_crossovers) {
  // The unblocked reduction up to kReductionUnblocked, panels above (and a
  // ragged last panel); each phase threaded from its own size, run here with
  // one thread and with all of them.
  const Index ru = policy::kReductionUnblocked;
  const std::vector<Index> path_sizes =
      unique_sizes({ru, ru + 1, ru + policy::kReductionPanel + 1});
  const std::vector<Index> thread_sizes = unique_sizes({
      policy::kEighBackParallelMin - 1,
      policy::kEighBackParallelMin,
      policy::kEighReduceParallelMin - 1,
      policy::kEighReduceParallelMin,
      policy::kEighDcParallelMin - 1,
      policy::kEighDcParallelMin,
  });
  std::vector<Index> all_sizes = path_sizes;
  all_sizes.insert(all_sizes.end(), thread_sizes.begin(), thread_sizes.end());
  all_sizes = unique_sizes(all_sizes);
  for (bool one_thread : {true, false}) {
    const policy::ThreadLimit limit(one_thread);
    // The path crossovers once (all threads), the thread crossovers twice.
    for (Index n : one_thread ? thread_sizes : all_sizes) {
      const VectorXd w = normal_spectrum(n, 200 + static_cast<std::uint64_t>(n));
      const std::string what =
          "n = " + std::to_string(n) + (one_thread ? ", one thread" : ", all threads");
      check_full_solve(with_spectrum(w, 300 + static_cast<std::uint64_t>(n)), w, what);
    }
  }
}

DESCRAMBLE_TEST(eigh_tied_eigenvalues) {
  // Ties leave the eigenvectors free within each eigenspace: only the values,
  // the residual and the orthogonality are fixed.
  for (Index n : {Index{40}, Index{100}, Index{300}}) {
    check_full_solve(with_spectrum(paired_spectrum(n), 400 + static_cast<std::uint64_t>(n)),
                     paired_spectrum(n), "paired spectrum, n = " + std::to_string(n));
    VectorXd clustered = VectorXd::Ones(n);
    clustered.tail(n / 2).setConstant(3.0);
    check_full_solve(with_spectrum(clustered, 500 + static_cast<std::uint64_t>(n)), clustered,
                     "two eigenvalues, n = " + std::to_string(n));
  }
  const Index n = 120;
  check_full_solve(RowMatrixXd::Identity(n, n), VectorXd::Ones(n), "identity");
  check_full_solve(RowMatrixXd::Zero(n, n), VectorXd::Zero(n), "zero matrix");
}

DESCRAMBLE_TEST(eigh_largest_on_both_sides_of_the_inverse_iteration_ratio) {
  for (Index n : {Index{40}, Index{200}}) {
    const RowMatrixXd a = symmetric_normal(n, 600 + static_cast<std::uint64_t>(n));
    const EighResult full = eigh(a, true);
    const Index ratio = policy::kInverseIterationRatio;
    for (Index k : unique_sizes({1, 2, n / ratio, n / ratio + 1, n - 1, n})) {
      if (k < 1) continue;
      const std::string what = "n = " + std::to_string(n) + ", k = " + std::to_string(k);
      const EighResult r = eigh_largest(a, k, true);
      CHECK(r.values.size() == k && r.vectors.rows() == n && r.vectors.cols() == k, what);
      if (r.values.size() != k || r.vectors.cols() != k) continue;
      CHECK(ascending(r.values), what);
      const VectorXd tail = full.values.tail(k);
      CHECK_LE((r.values - tail).cwiseAbs().maxCoeff(), eigenvalue_tolerance(a, tail), what);
      const EighQuality q = eigh_quality(a, r.values, r.vectors);
      CHECK_LE(q.residual, 10.0, what);
      CHECK_LE(q.orthogonality, 10.0, what);
      const EighResult values_only = eigh_largest(a, k, false);
      CHECK(values_only.vectors.size() == 0, what);
      CHECK_LE((values_only.values - tail).cwiseAbs().maxCoeff(), eigenvalue_tolerance(a, tail),
               what);
    }
    CHECK_THROWS(eigh_largest(a, 0), std::invalid_argument, "1 <= k <= n", "k = 0");
    CHECK_THROWS(eigh_largest(a, n + 1), std::invalid_argument,
                 "1 <= k <= n = " + std::to_string(n), "k = n + 1");
  }
}

DESCRAMBLE_TEST(principal_eigh_orders_descending_with_reproducible_signs) {
  for (Index n : {Index{7}, Index{60}, Index{300}}) {
    const RowMatrixXd a = symmetric_normal(n, 700 + static_cast<std::uint64_t>(n));
    const VectorXd w = jacobi_eigenvalues(a);
    for (Index k : {Index{1}, n / 4 + 1, n}) {
      const std::string what = "n = " + std::to_string(n) + ", k = " + std::to_string(k);
      const EighResult r = principal_eigh(a, k);
      CHECK(r.values.size() == k && r.vectors.cols() == k, what);
      if (r.values.size() != k || r.vectors.cols() != k) continue;
      const VectorXd expected = w.tail(k).reverse();
      CHECK_LE((r.values - expected).cwiseAbs().maxCoeff(), eigenvalue_tolerance(a, expected),
               what);
      const EighQuality q = eigh_quality(a, r.values, r.vectors);
      CHECK_LE(q.residual, 10.0, what);
      CHECK_LE(q.orthogonality, 10.0, what);
      for (Index j = 0; j < k; ++j) {
        Index at = 0;
        for (Index i = 1; i < n; ++i) {
          if (std::abs(r.vectors(i, j)) > std::abs(r.vectors(at, j))) at = i;
        }
        CHECK(r.vectors(at, j) > 0.0, what, ", column ", j, ": largest entry ", r.vectors(at, j));
      }
    }
  }
}

DESCRAMBLE_TEST(eigh_extreme_scales_match_the_unit_problem) {
  // Scaling by a power of two is exact, so the pairs scale exactly too (up
  // to the rounding of the solve); the solver balances entries far from 1
  // that would otherwise over- or underflow in the tridiagonal iterations.
  for (Index n : {Index{30}, Index{120}}) {
    const RowMatrixXd a = symmetric_normal(n, 800 + static_cast<std::uint64_t>(n));
    const VectorXd w = jacobi_eigenvalues(a);
    for (double scale : {0x1p+660, 0x1p-660, 0x1p-900}) {
      const std::string what = "n = " + std::to_string(n) + ", scale = " + std::to_string(scale);
      const RowMatrixXd scaled = a * scale;
      const EighResult r = eigh(scaled, true);
      CHECK_LE((r.values / scale - w).cwiseAbs().maxCoeff(), eigenvalue_tolerance(a, w), what);
      const EighQuality q = eigh_quality(a, r.values / scale, r.vectors);
      CHECK_LE(q.residual, 10.0, what);
      CHECK_LE(q.orthogonality, 10.0, what);
    }
  }
}

DESCRAMBLE_TEST(eigh_reads_only_the_lower_triangle) {
  for (Index n : {Index{20}, Index{150}}) {
    const RowMatrixXd a = symmetric_normal(n, 900 + static_cast<std::uint64_t>(n));
    RowMatrixXd garbage = a;
    garbage.triangularView<Eigen::StrictlyUpper>().setConstant(
        std::numeric_limits<double>::quiet_NaN());
    const EighResult clean = eigh(a, true), dirty = eigh(garbage, true);
    CHECK(clean.values == dirty.values, "n = ", n);
    CHECK(clean.vectors == dirty.vectors, "n = ", n);
  }
}

DESCRAMBLE_TEST(eigh_rejects_bad_input) {
  CHECK_THROWS(eigh(RowMatrixXd::Zero(3, 4)), std::invalid_argument,
               "expected a square matrix, got shape (3, 4)", "3 x 4");
  for (Index n : {Index{5}, Index{100}}) {
    RowMatrixXd a = symmetric_normal(n, 1000);
    a(2, 1) = std::numeric_limits<double>::quiet_NaN();
    CHECK_THROWS(eigh(a), std::domain_error, "NaN or infinity (at [2, 1])", "n = ", n);
    a(2, 1) = -kInf;
    CHECK_THROWS(eigh_largest(a, 1), std::domain_error, "NaN or infinity", "n = ", n);
    CHECK_THROWS(principal_eigh(a, 1), std::domain_error, "NaN or infinity", "n = ", n);
  }
  const EighResult empty = eigh(RowMatrixXd(0, 0));
  CHECK(empty.values.size() == 0 && empty.vectors.size() == 0, "0 x 0");
}
