// Eigenvalues and eigenvectors of a small symmetric tridiagonal matrix, scaled
// to unit norm, by the
// implicit QL iteration with Wilkinson shifts (Bowdler, Martin, Reinsch,
// Wilkinson, Numer. Math. 11 (1968) 293-306, doi:10.1007/BF02166681): the
// leaves of divide and conquer. Each rotation acts on two adjacent columns of
// Z, which are contiguous, so the update is one vectorised loop; Eigen's
// solver applies its rotations in a loop that does not vectorise on columns
// of a few dozen entries and was 30% of divide and conquer at n = 80..128.
#include <cmath>
#include <limits>
#include <utility>

#include "eigh_internal.hpp"

namespace descramble::detail {

bool tridiagonal_ql_vectors(double* d, double* e, Index n, double* z, Index ldz) {
  for (Index j = 0; j < n; ++j) {
    for (Index i = 0; i < n; ++i) z[i + j * ldz] = i == j ? 1.0 : 0.0;
  }
  if (n <= 1) return true;
  e[n - 1] = 0.0;
  // LAPACK's dsteqr: e_m is negligible when e_m^2 <= eps^2 |d_m| |d_m+1| +
  // safmin, with eps the unit roundoff. The geometric mean keeps small
  // eigenvalues beside large ones to the relative accuracy the matrix
  // determines; safmin splits couplings that underflow.
  const double eps = std::numeric_limits<double>::epsilon() / 2;
  const double eps2 = eps * eps;
  const double safmin = std::numeric_limits<double>::min();
  // The sweep budget is shared by the whole matrix (30 n, as in dsteqr), not
  // 30 per eigenvalue: in a rank-deficient Gram matrix the leaf holds
  // eigenvalues of order eps ||T|| beside O(||T||) ones, and each of those
  // may need more than 30 sweeps before its coupling meets the relative test
  // while others need two.
  const Index budget = 30 * n;
  Index sweeps = 0;
  for (Index l = 0; l < n; ++l) {
    for (;;) {
      Index m = l;
      for (; m + 1 < n; ++m) {
        if (e[m] * e[m] <= eps2 * std::abs(d[m]) * std::abs(d[m + 1]) + safmin) break;
      }
      if (m == l) break;
      if (++sweeps > budget) return false;
      double g = (d[l + 1] - d[l]) / (2.0 * e[l]);
      double r = std::hypot(g, 1.0);
      g = d[m] - d[l] + e[l] / (g + std::copysign(r, g));
      double s = 1.0, c = 1.0, p = 0.0;
      bool split = false;
      for (Index i = m - 1; i >= l; --i) {
        const double f = s * e[i];
        const double b = c * e[i];
        // The sweep is a chain of dependent operations: sqrt and one division
        // instead of hypot and two. The caller scales T to unit norm, so
        // f^2 + g^2 only underflows when both are below 1e-154.
        r = std::sqrt(f * f + g * g);
        if (r < 1e-150) r = std::hypot(f, g);
        e[i + 1] = r;
        if (r == 0.0) {  // the rotation vanished: split here and restart
          d[i + 1] -= p;
          e[m] = 0.0;
          split = true;
          break;
        }
        const double r_inv = 1.0 / r;
        s = f * r_inv;
        c = g * r_inv;
        g = d[i + 1] - p;
        r = (d[i] - g) * s + 2.0 * c * b;
        p = s * r;
        d[i + 1] = g + p;
        g = c * r - b;
        double* zi = z + i * ldz;
        double* zj = zi + ldz;
#pragma omp simd
        for (Index k = 0; k < n; ++k) {
          const double t = zj[k];
          zj[k] = s * zi[k] + c * t;
          zi[k] = c * zi[k] - s * t;
        }
      }
      if (split) continue;
      d[l] -= p;
      e[l] = g;
      e[m] = 0.0;
    }
  }
  // Ascending order, columns with their values (selection sort: n is small).
  for (Index i = 0; i + 1 < n; ++i) {
    Index k = i;
    for (Index j = i + 1; j < n; ++j) {
      if (d[j] < d[k]) k = j;
    }
    if (k != i) {
      std::swap(d[i], d[k]);
      for (Index row = 0; row < n; ++row) std::swap(z[row + i * ldz], z[row + k * ldz]);
    }
  }
  return true;
}

}  // namespace descramble::detail
