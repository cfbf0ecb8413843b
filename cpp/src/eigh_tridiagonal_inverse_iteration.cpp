// Eigenvectors of a symmetric tridiagonal matrix for a few known eigenvalues,
// by inverse iteration (the scheme of LAPACK's dstein): factor T - lambda I
// with partial pivoting once per eigenvalue, solve a few times from a
// pseudo-random start, and orthogonalise against every vector computed so far.
// Orthogonalising against all earlier vectors, not only the current cluster,
// costs O(n m^2), negligible for the m << n this path serves, and makes the
// vectors orthogonal to working precision whatever the eigenvalue gaps.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "eigh_internal.hpp"

namespace descramble::detail {

namespace {

constexpr int kInverseIterations = 3;

// Gaussian elimination with partial pivoting of the tridiagonal matrix
// (sub, diag, super) (dgttrf): U has two superdiagonals (super, super2).
struct TridiagonalLu {
  std::vector<double> sub, diag, super, super2;
  std::vector<unsigned char> swapped;

  void factor(const VectorXd& d, const VectorXd& e, double shift, double tiny) {
    const Index n = d.size();
    diag.resize(n);
    sub.assign(e.data(), e.data() + (n - 1));
    super.assign(e.data(), e.data() + (n - 1));
    super2.assign(std::max<Index>(n - 2, 0), 0.0);
    swapped.assign(std::max<Index>(n - 1, 0), 0);
    for (Index i = 0; i < n; ++i) diag[i] = d[i] - shift;
    for (Index i = 0; i + 1 < n; ++i) {
      if (std::abs(diag[i]) >= std::abs(sub[i])) {
        if (diag[i] == 0.0) diag[i] = tiny;  // only when sub[i] is zero too
        const double f = sub[i] / diag[i];
        sub[i] = f;
        diag[i + 1] -= f * super[i];
      } else {
        const double f = diag[i] / sub[i];
        diag[i] = sub[i];
        sub[i] = f;
        const double t = super[i];
        super[i] = diag[i + 1];
        diag[i + 1] = t - f * diag[i + 1];
        if (i + 2 < n) {
          super2[i] = super[i + 1];
          super[i + 1] = -f * super[i + 1];
        }
        swapped[i] = 1;
      }
    }
    // A zero last pivot means lambda is exact: any tiny value gives the vector.
    if (diag[n - 1] == 0.0) diag[n - 1] = tiny;
  }

  void solve(double* x) const {
    const Index n = static_cast<Index>(diag.size());
    for (Index i = 0; i + 1 < n; ++i) {
      if (swapped[i]) {
        const double t = x[i];
        x[i] = x[i + 1];
        x[i + 1] = t - sub[i] * x[i];
      } else {
        x[i + 1] -= sub[i] * x[i];
      }
    }
    x[n - 1] /= diag[n - 1];
    if (n > 1) x[n - 2] = (x[n - 2] - super[n - 2] * x[n - 1]) / diag[n - 2];
    for (Index i = n - 3; i >= 0; --i) {
      x[i] = (x[i] - super[i] * x[i + 1] - super2[i] * x[i + 2]) / diag[i];
    }
  }
};

// Deterministic start vectors (splitmix64), uniform in [-1, 1).
double next_uniform(std::uint64_t& state) {
  std::uint64_t x = (state += 0x9E3779B97F4A7C15ULL);
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  x ^= x >> 31;
  return static_cast<double>(x >> 11) * 0x1.0p-52 - 1.0;
}

}  // namespace

void tridiagonal_inverse_iteration(const VectorXd& d, const VectorXd& e, const VectorXd& w,
                                   ColMatrixXd& z) {
  const Index n = d.size();
  const Index m = w.size();
  z.setZero(n, m);
  if (n == 0 || m == 0) return;
  if (n == 1) {
    z.setOnes();
    return;
  }
  const double norm = d.cwiseAbs().maxCoeff() + 2.0 * e.cwiseAbs().maxCoeff();
  if (norm == 0.0) {  // T = 0: any orthonormal set is an eigenbasis
    z.topRows(m).setIdentity();
    return;
  }
  // Work on T / norm so that tiny pivots cannot overflow the solves.
  const VectorXd ds = d / norm, es = e / norm, ws = w / norm;
  const double tiny = std::numeric_limits<double>::epsilon();
  TridiagonalLu lu;
  VectorXd x(n), coef;
  std::uint64_t state = 0x5EEDULL;
  for (Index j = 0; j < m; ++j) {
    lu.factor(ds, es, ws[j], tiny);
    for (Index i = 0; i < n; ++i) x[i] = next_uniform(state);
    for (int it = 0; it < kInverseIterations; ++it) {
      lu.solve(x.data());
      // Two passes of classical Gram-Schmidt ("twice is enough").
      for (int pass = 0; pass < 2 && j > 0; ++pass) {
        coef.noalias() = z.leftCols(j).transpose() * x;
        x.noalias() -= z.leftCols(j) * coef;
      }
      const double nrm = x.norm();
      if (!(nrm > 0.0) || !std::isfinite(nrm)) {
        // The start vector lay in the span of earlier vectors: restart.
        for (Index i = 0; i < n; ++i) x[i] = next_uniform(state);
        continue;
      }
      x /= nrm;
    }
    z.col(j) = x;
  }
}

}  // namespace descramble::detail
