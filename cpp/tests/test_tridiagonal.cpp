// The eigensolver's tridiagonal phase on its own: divide and conquer, its QL
// leaves, root-free QL for the values and inverse iteration, against Sturm
// bisection on matrices that stress deflation and splitting.
#include <string>
#include <vector>

#include "eigh_internal.hpp"
#include "harness.hpp"
#include "reference.hpp"
#include "thread_policy.hpp"

namespace {

using namespace descramble;
using namespace descramble::test;
namespace detail = descramble::detail;

struct Tridiagonal {
  std::string name;
  VectorXd d;  // n
  VectorXd e;  // n - 1
};

RowMatrixXd dense(const Tridiagonal& t) {
  const Index n = t.d.size();
  RowMatrixXd a = RowMatrixXd::Zero(n, n);
  for (Index i = 0; i < n; ++i) a(i, i) = t.d[i];
  for (Index i = 0; i + 1 < n; ++i) a(i + 1, i) = a(i, i + 1) = t.e[i];
  return a;
}

Tridiagonal random_tridiagonal(Index n, std::uint64_t seed) {
  const RowMatrixXd x = normal_matrix(2, n, seed);
  return {"random n = " + std::to_string(n), x.row(0).transpose(),
          x.row(1).head(n > 0 ? n - 1 : 0).transpose()};
}

// Wilkinson's W+ of order 2m + 1: eigenvalues in pairs agreeing to many digits.
Tridiagonal wilkinson(Index m) {
  const Index n = 2 * m + 1;
  Tridiagonal t{"wilkinson n = " + std::to_string(n), VectorXd(n), VectorXd::Ones(n - 1)};
  for (Index i = 0; i < n; ++i) t.d[i] = static_cast<double>(std::abs(i - m));
  return t;
}

// Copies of W+ (order 21) coupled by 1e-9: clusters that deflate at merges.
Tridiagonal glued_wilkinson(Index copies) {
  const Tridiagonal w = wilkinson(10);
  const Index n = 21 * copies;
  Tridiagonal t{"glued wilkinson n = " + std::to_string(n), VectorXd(n), VectorXd(n - 1)};
  for (Index c = 0; c < copies; ++c) {
    t.d.segment(21 * c, 21) = w.d;
    t.e.segment(21 * c, 20) = w.e;
    if (c + 1 < copies) t.e[21 * c + 20] = 1e-9;
  }
  return t;
}

// Exact zeros on the off-diagonal: independent blocks.
Tridiagonal split(Index n) {
  Tridiagonal t = random_tridiagonal(n, 77);
  for (Index i = 0; i < n - 1; i += 9) t.e[i] = 0.0;
  t.name = "split n = " + std::to_string(n);
  return t;
}

// Constant diagonal and tiny couplings: every merge deflates almost everything.
Tridiagonal nearly_diagonal(Index n) {
  Tridiagonal t{"nearly diagonal n = " + std::to_string(n), VectorXd::Constant(n, 2.0),
                VectorXd::Constant(n - 1, 1e-14)};
  return t;
}

std::vector<Tridiagonal> cases() {
  std::vector<Tridiagonal> out;
  // Leaves of kDcLeaf: one leaf, one merge of two leaves, a deeper tree; with
  // all threads from kEighDcParallelMin the two top halves run concurrently.
  for (Index n : {Index{1}, Index{2}, detail::kDcLeaf, detail::kDcLeaf + 1, 2 * detail::kDcLeaf + 1,
                  Index{200}, detail::kEighDcParallelMin - 1, detail::kEighDcParallelMin}) {
    out.push_back(random_tridiagonal(n, 1100 + static_cast<std::uint64_t>(n)));
  }
  out.push_back(wilkinson(60));
  out.push_back(glued_wilkinson(6));
  out.push_back(split(150));
  out.push_back(nearly_diagonal(100));
  return out;
}

double scale_of(const Tridiagonal& t) {
  double s = t.d.cwiseAbs().maxCoeff();
  if (t.e.size() > 0) s = std::max(s, t.e.cwiseAbs().maxCoeff());
  return s;
}

}  // namespace

DESCRAMBLE_TEST(divide_and_conquer_matches_bisection) {
  for (bool one_thread : {true, false}) {
    const detail::ThreadLimit limit(one_thread);
    for (const Tridiagonal& t : cases()) {
      const std::string what = t.name + (one_thread ? ", one thread" : ", all threads");
      const Index n = t.d.size();
      const VectorXd reference = bisection_eigenvalues(t.d, t.e);
      VectorXd d = t.d, e = t.e;
      Matrix z;
      detail::tridiagonal_eigen_dc(d, e, z);
      CHECK(z.rows() == n && z.cols() == n, what);
      if (z.rows() != n || z.cols() != n) continue;
      const double tol = 20.0 * static_cast<double>(n) * kEps * scale_of(t);
      CHECK_LE((d - reference).cwiseAbs().maxCoeff(), tol, what);
      const EighQuality q = eigh_quality(dense(t), d, z);
      CHECK_LE(q.residual, 10.0, what);
      CHECK_LE(q.orthogonality, 10.0, what);
    }
  }
}

DESCRAMBLE_TEST(ql_leaf_solver_matches_bisection) {
  // The leaves: T scaled to norm at most 1, e with a scratch entry, z padded
  // to a larger leading dimension as divide and conquer lays it out.
  for (Index n : {Index{1}, Index{2}, Index{5}, detail::kDcLeaf}) {
    Tridiagonal t = random_tridiagonal(n, 1200 + static_cast<std::uint64_t>(n));
    const double s = scale_of(t);
    t.d /= s;
    t.e /= s;
    const std::string what = "n = " + std::to_string(n);
    std::vector<double> d(t.d.data(), t.d.data() + n), e(static_cast<size_t>(n), 0.0);
    for (Index i = 0; i + 1 < n; ++i) e[i] = t.e[i];
    const Index ldz = n + 3;
    std::vector<double> zbuf(static_cast<size_t>(ldz * n), -7.0);
    CHECK(detail::tridiagonal_ql_vectors(d.data(), e.data(), n, zbuf.data(), ldz), what);
    const Matrix z = Eigen::Map<const Matrix, 0, Eigen::OuterStride<>>(zbuf.data(), n, n,
                                                                       Eigen::OuterStride<>(ldz));
    const VectorXd w = Eigen::Map<const VectorXd>(d.data(), n);
    CHECK_LE((w - bisection_eigenvalues(t.d, t.e)).cwiseAbs().maxCoeff(),
             20.0 * static_cast<double>(n) * kEps, what);
    const EighQuality q = eigh_quality(dense(t), w, z);
    CHECK_LE(q.residual, 10.0, what);
    CHECK_LE(q.orthogonality, 10.0, what);
  }
}

DESCRAMBLE_TEST(root_free_ql_values_match_bisection) {
  for (const Tridiagonal& t : cases()) {
    VectorXd d = t.d, e = t.e;
    detail::tridiagonal_eigenvalues(d, e);
    const double tol = 20.0 * static_cast<double>(t.d.size()) * kEps * scale_of(t);
    CHECK_LE((d - bisection_eigenvalues(t.d, t.e)).cwiseAbs().maxCoeff(), tol, t.name);
  }
}

DESCRAMBLE_TEST(inverse_iteration_vectors_for_the_largest_values) {
  for (const Tridiagonal& t : {random_tridiagonal(300, 1300), glued_wilkinson(6)}) {
    const Index n = t.d.size();
    const VectorXd all = bisection_eigenvalues(t.d, t.e);
    for (Index m : {Index{1}, Index{12}}) {
      const VectorXd w = all.tail(m);
      Matrix z;
      detail::tridiagonal_inverse_iteration(t.d, t.e, w, z);
      const std::string what = t.name + ", m = " + std::to_string(m);
      CHECK(z.rows() == n && z.cols() == m, what);
      const EighQuality q = eigh_quality(dense(t), w, z);
      CHECK_LE(q.residual, 10.0, what);
      CHECK_LE(q.orthogonality, 10.0, what);
    }
  }
}
