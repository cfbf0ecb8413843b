// Eigenvalues of a symmetric tridiagonal matrix without eigenvectors, by the
// root-free implicit QL iteration of Pal, Walker and Kahan (B. N. Parlett,
// The Symmetric Eigenvalue Problem, SIAM 1998, section 8.15,
// doi:10.1137/1.9781611971163; the scheme of LAPACK's dsterf). It works on
// the squares of the off-diagonal entries, so a QL sweep takes no square
// root: the sweep is a chain of dependent operations, and each square root or
// division on it costs its full latency. The step below keeps one division on
// the chain from one rotation to the next (the other runs beside it).
#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

#include "eigh_internal.hpp"

namespace descramble::detail {

namespace {

// Range of p r (and bound on |num|) in which the one-division QL step below
// neither over- nor underflows: num^2 stays below 1e300, and when it underflows
// p' = num^2 / (p r) is below 1e-108, far under the splitting floor.
constexpr double kTiny = 1e-200;
constexpr double kHuge = 1e150;

}  // namespace

void tridiagonal_eigenvalues(VectorXd& d, VectorXd& e) {
  const Index n = d.size();
  if (n <= 1) return;
  const double scale = std::max(d.cwiseAbs().maxCoeff(), e.cwiseAbs().maxCoeff());
  if (scale == 0.0) return;
  // On T / scale: dd the diagonal, ee the squared off-diagonal (ee[n-1] = 0).
  std::vector<double> dd(n), ee(n, 0.0);
  for (Index i = 0; i < n; ++i) dd[i] = d[i] / scale;
  for (Index i = 0; i + 1 < n; ++i) ee[i] = (e[i] / scale) * (e[i] / scale);
  // Splitting test |e_i| <= eps sqrt(|d_i| |d_i+1|), squared: relative, which
  // keeps small eigenvalues of graded matrices; the absolute floor
  // 1e-3 eps ||T|| (far below the error of the reduction) ends the iteration
  // on clusters of eigenvalues at zero, where the relative test converges slowly.
  const double eps = std::numeric_limits<double>::epsilon();
  const double eps2 = eps * eps;
  const double floor2 = (1e-3 * eps) * (1e-3 * eps);
  const double safe_min = std::numeric_limits<double>::min();
  Index budget = 30 * n;  // total sweeps, as LAPACK's dsterf allows
  for (Index l = 0; l < n; ++l) {
    for (;;) {
      Index m = l;
      for (; m + 1 < n; ++m) {
        const double em = ee[m];
        if (em <= floor2 || em <= eps2 * std::abs(dd[m]) * std::abs(dd[m + 1]) + safe_min) break;
      }
      if (m == l) break;
      if (--budget < 0) {
        throw std::runtime_error("eigh: the tridiagonal QL iteration did not converge");
      }
      // Wilkinson's shift from the leading 2 x 2 block.
      const double rte = std::sqrt(ee[l]);
      const double g = (dd[l + 1] - dd[l]) / (2.0 * rte);
      const double sigma = dd[l] - rte / (g + std::copysign(std::hypot(g, 1.0), g));
      // One QL sweep from the bottom of the block up, with c^2, s^2 in c, s.
      // Parlett's recurrence, c = p / r, gamma = c (alpha - sigma) - s gamma',
      // p' = gamma^2 / c, has two divisions in a row on the chain from p to
      // p'. Multiplied through by r it needs one: num = r gamma =
      // p (alpha - sigma) - bb gamma', and p' = num^2 / (p r). That form is
      // taken while p r and num are far from under- and overflow (all but
      // degenerate steps on T scaled to unit norm); otherwise the textbook
      // step, whose c = 0 case LAPACK's dsterf treats the same way.
      double c = 1.0, s = 0.0;
      double gamma = dd[m] - sigma;
      double p = gamma * gamma;
      for (Index i = m - 1; i >= l; --i) {
        const double bb = ee[i];
        const double r = p + bb;
        if (i != m - 1) ee[i + 1] = s * r;
        const double old_c = c;
        const double old_gamma = gamma;
        const double alpha = dd[i];
        const double r_inv = 1.0 / r;
        const double num = p * (alpha - sigma) - bb * old_gamma;
        const double pr = p * r;
        c = p * r_inv;
        s = bb * r_inv;
        if (pr >= kTiny && pr <= kHuge && std::abs(num) <= kHuge) {
          gamma = num * r_inv;
          p = num * num / pr;
        } else {
          gamma = c * (alpha - sigma) - s * old_gamma;
          p = c != 0.0 ? gamma * gamma / c : old_c * bb;
        }
        dd[i + 1] = old_gamma + (alpha - gamma);
      }
      ee[l] = s * p;
      dd[l] = sigma + gamma;
    }
  }
  std::sort(dd.begin(), dd.end());
  for (Index i = 0; i < n; ++i) d[i] = dd[i] * scale;
}

}  // namespace descramble::detail
