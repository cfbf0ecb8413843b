// Cuppen's divide and conquer for the symmetric tridiagonal eigenproblem.
//
// T is torn by a rank-one change into two halves, T = diag(T1, T2) + rho u u^T,
// which are solved recursively; the merge diagonalises D + rho z z^T
// (Cuppen, Numer. Math. 36 (1981) 177-195, doi:10.1007/BF01396757):
//   * deflation of tiny z_i and of nearly equal d_i (one Givens rotation), as in
//     LAPACK's dlaed2, so only K <= n roots of the secular equation
//     1 + rho sum_i z_i^2 / (d_i - lambda) = 0 remain;
//   * each root is found relative to its nearer pole with a safeguarded
//     rational ("middle way") iteration (R.-C. Li, LAPACK Working Note 89,
//     1994), which keeps d_i - lambda_j to full relative accuracy;
//   * z is recomputed from the computed roots (Gu, Eisenstat, SIMAX 16 (1995)
//     172-191, doi:10.1137/S0895479892241287), which makes the eigenvectors
//     numerically orthogonal without extended precision;
//   * the eigenvector update is a matrix product, split by the block structure
//     of the half problems' vectors so that no zero block is multiplied.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <vector>

#include "eigh_internal.hpp"
#include "thread_policy.hpp"

namespace descramble::detail {

namespace {

constexpr double kEps = std::numeric_limits<double>::epsilon() / 2;  // unit roundoff
constexpr int kMaxSecularIterations = 200;
constexpr double kFinalStep = 1e-9;  // relative model step after which a root is accepted
constexpr Index kRowBlock = 256;     // rows per task of the Gu-Eisenstat products

// Where the support of an eigenvector column lies in a merge: the top half,
// both halves (after a deflating rotation mixed them), or the bottom half.
enum ColumnKind : unsigned char { kTop = 0, kMixed = 1, kBottom = 2 };

// psi = sum_{i <= p} z_i^2 / delta_i and phi = sum_{i > p} z_i^2 / delta_i,
// with their derivatives, at delta_i = (d_i - d0) - tau. Reassociating the
// sums (SIMD) changes them by rounding only, which the root finder's
// stopping test allows for.
struct SecularSums {
  double psi = 0, dpsi = 0, phi = 0, dphi = 0;
};

SecularSums secular_sums(const double* d, const double* z, Index k, Index p, double d0,
                         double tau) {
  double psi = 0, dpsi = 0, phi = 0, dphi = 0;
#pragma omp simd reduction(+ : psi, dpsi)
  for (Index i = 0; i <= p; ++i) {
    const double t = z[i] / ((d[i] - d0) - tau);
    psi += z[i] * t;
    dpsi += t * t;
  }
#pragma omp simd reduction(+ : phi, dphi)
  for (Index i = p + 1; i < k; ++i) {
    const double t = z[i] / ((d[i] - d0) - tau);
    phi += z[i] * t;
    dphi += t * t;
  }
  return {psi, dpsi, phi, dphi};
}

// Root j (0-based) of 1/rho + sum_i z_i^2 / (d_i - lambda) = 0 for strictly
// increasing d (k of them), nonzero z and rho > 0. Writes delta[i] = d_i -
// lambda_j, computed as (d_i - d_origin) - tau so that it is accurate even
// when lambda_j is very close to a pole; returns lambda_j.
double secular_root(const double* d, const double* z, Index k, double rho, Index j, double* delta) {
  const double rho_inv = 1.0 / rho;
  if (k == 1) {
    delta[0] = -rho * z[0] * z[0];
    return d[0] + rho * z[0] * z[0];
  }
  // Poles p < q bracket the root (the last root lies right of both); the
  // terms i <= p form psi, the rest phi.
  Index p, q, origin;
  double lo, hi, tau;
  // psi, phi and their derivatives at the current point. For an inner root
  // the pass that picks the nearer pole evaluates them at the starting
  // point, and the first iteration reuses it: one pass of k terms fewer per
  // root, out of the few passes a root takes.
  SecularSums at;
  bool evaluated = false;
  if (j < k - 1) {
    p = j;
    q = j + 1;
    const double gap = d[q] - d[p];
    const double mid = 0.5 * gap;
    at = secular_sums(d, z, k, p, d[p], mid);
    evaluated = true;
    if (rho_inv + at.psi + at.phi >= 0.0) {  // the root lies in the left half: measure it from d_p
      origin = p;
      lo = 0.0;
      hi = mid;
      tau = mid;
    } else {
      origin = q;
      lo = -(gap - mid);
      hi = 0.0;
      tau = lo;
    }
  } else {
    p = k - 2;
    q = k - 1;
    origin = q;
    const double znorm2 = std::inner_product(z, z + k, z, 0.0);
    lo = 0.0;
    hi = rho * znorm2;  // the largest root is at most d_max + rho |z|^2
    tau = 0.5 * hi;
  }
  const double d0 = d[origin];
  for (int it = 0; it < kMaxSecularIterations; ++it) {
    if (!evaluated) at = secular_sums(d, z, k, p, d0, tau);
    evaluated = false;
    const double psi = at.psi, dpsi = at.dpsi, phi = at.phi, dphi = at.dphi;
    const double w = rho_inv + psi + phi;
    // Stop when w is within the rounding error of its own evaluation (dlaed4).
    const double err =
        8.0 * (phi - psi) + 2.0 * rho_inv + 3.0 * std::abs(w) + std::abs(tau) * (dpsi + dphi);
    if (std::abs(w) <= 4.0 * kEps * err) break;
    if (w < 0.0) {
      lo = std::max(lo, tau);
    } else {
      hi = std::min(hi, tau);
    }
    if (!(hi > lo)) break;
    // Model 1/rho + psi + phi by c + A/(delta_p - eta) + B/(delta_q - eta)
    // with A, B fitted to the derivatives of psi and phi separately; its zero
    // solves c eta^2 - a eta + b = 0.
    const double dp = (d[p] - d0) - tau;
    const double dq = (d[q] - d0) - tau;
    const double a = (dp + dq) * w - dp * dq * (dpsi + dphi);
    const double b = dp * dq * w;
    const double c = w - dp * dpsi - dq * dphi;
    double next = std::numeric_limits<double>::quiet_NaN();
    auto consider = [&](double eta) {
      const double cand = tau + eta;
      if (std::isfinite(cand) && cand > lo && cand < hi) {
        if (!std::isfinite(next) || std::abs(cand - tau) < std::abs(next - tau)) next = cand;
      }
    };
    if (c == 0.0) {
      if (a != 0.0) consider(b / a);
    } else {
      const double disc = std::sqrt(std::abs(a * a - 4.0 * b * c));
      const double s = a >= 0.0 ? a + disc : a - disc;
      consider(s / (2.0 * c));
      if (s != 0.0) consider(2.0 * b / s);
    }
    const bool bisect = !std::isfinite(next);
    if (bisect) next = 0.5 * (lo + hi);
    if (next == tau) break;
    // A model step (not a bisection) this small is the last one needed: the
    // model matches w and both derivatives at tau, so its root is off by
    // O((eta / tau)^2) relative to |tau|, the distance to the nearer pole,
    // below rounding once |eta| <= 1e-9 |tau|. Evaluating w there only to
    // confirm it would cost a pass of k divisions (a fifth of the total).
    const bool converged = std::abs(next - tau) <= kFinalStep * std::abs(tau) && !bisect;
    tau = next;
    if (converged) break;
  }
  for (Index i = 0; i < k; ++i) delta[i] = (d[i] - d0) - tau;
  return d0 + tau;
}

class DivideAndConquer {
 public:
  // `failed` is set when a leaf's QR iteration does not converge; the caller
  // throws after the (possibly parallel) recursion, never inside it.
  DivideAndConquer(VectorXd& d, VectorXd& e, ColMatrixXd& q, std::atomic<bool>& failed)
      : d_(d), e_(e), q_(q), failed_(failed) {}

  void solve(Index lo, Index n, bool top) {
    if (n <= kDcLeaf) {
      leaf(lo, n);
      return;
    }
    const Index n1 = n / 2;
    const double beta = e_[lo + n1 - 1];
    // T = diag(T1, T2) + |beta| u u^T with u = e_{n1-1} + sign(beta) e_{n1}.
    d_[lo + n1 - 1] -= std::abs(beta);
    d_[lo + n1] -= std::abs(beta);
    if (top && n >= kEighDcParallelMin && max_threads() > 1) {
      // The halves are independent: one thread each, with everything inside
      // them sequential (Eigen and our loops see an active parallel region).
      // Only the last merge then uses all threads.
#pragma omp parallel sections num_threads(2)
      {
#pragma omp section
        solve(lo, n1, false);
#pragma omp section
        solve(lo + n1, n - n1, false);
      }
    } else {
      solve(lo, n1, false);
      solve(lo + n1, n - n1, false);
    }
    merge(lo, n1, n, beta);
  }

 private:
  void leaf(Index lo, Index n) {
    if (n == 1) {
      q_(lo, lo) = 1.0;
      return;
    }
    // The coupling e_[lo + n - 1] belongs to the parent merge: work on a copy.
    double sub[kDcLeaf];
    for (Index i = 0; i + 1 < n; ++i) sub[i] = e_[lo + i];
    if (!tridiagonal_ql_vectors(d_.data() + lo, sub, n, &q_(lo, lo), q_.rows())) failed_ = true;
  }

  void merge(Index lo, Index n1, Index n, double beta) {
    auto qb = q_.block(lo, lo, n, n);
    double* d = d_.data() + lo;
    const double sign = beta >= 0.0 ? 1.0 : -1.0;
    // z = Q^T u, normalised; rho absorbs |u|^2 = 2.
    std::vector<double> z(n);
    for (Index i = 0; i < n1; ++i) z[i] = qb(n1 - 1, i) / std::sqrt(2.0);
    for (Index i = n1; i < n; ++i) z[i] = sign * qb(n1, i) / std::sqrt(2.0);
    const double rho = 2.0 * std::abs(beta);
    std::vector<unsigned char> kind(n);
    for (Index i = 0; i < n; ++i) kind[i] = i < n1 ? kTop : kBottom;

    std::vector<Index> order(n);
    std::iota(order.begin(), order.end(), Index(0));
    std::stable_sort(order.begin(), order.end(), [&](Index a, Index b) { return d[a] < d[b]; });
    double dmax = 0, zmax = 0;
    for (Index i = 0; i < n; ++i) {
      dmax = std::max(dmax, std::abs(d[i]));
      zmax = std::max(zmax, std::abs(z[i]));
    }
    const double tol = 8.0 * 2.0 * kEps * std::max(dmax, zmax);

    // Deflation (dlaed2): drop tiny z_i; rotate nearly equal poles so that one
    // of the pair has z = 0.
    std::vector<Index> kept, deflated;
    kept.reserve(n);
    Index prev = -1;
    for (Index idx = 0; idx < n; ++idx) {
      const Index j = order[idx];
      if (rho * std::abs(z[j]) <= tol) {
        deflated.push_back(j);
        continue;
      }
      if (prev < 0) {
        prev = j;
        continue;
      }
      const double s0 = z[prev], c0 = z[j];
      const double r = std::hypot(c0, s0);
      const double c = c0 / r, s = -s0 / r;
      const double t = d[j] - d[prev];
      if (std::abs(t * c * s) <= tol) {
        z[j] = r;
        z[prev] = 0.0;
        for (Index row = 0; row < n; ++row) {
          const double x = qb(row, prev), y = qb(row, j);
          qb(row, prev) = c * x + s * y;
          qb(row, j) = c * y - s * x;
        }
        if (kind[prev] != kind[j]) kind[prev] = kind[j] = kMixed;
        const double dp = d[prev] * c * c + d[j] * s * s;
        d[j] = d[prev] * s * s + d[j] * c * c;
        d[prev] = dp;
        deflated.push_back(prev);
      } else {
        kept.push_back(prev);
      }
      prev = j;
    }
    if (prev >= 0) kept.push_back(prev);
    std::stable_sort(kept.begin(), kept.end(), [&](Index a, Index b) { return d[a] < d[b]; });
    const Index k = static_cast<Index>(kept.size());

    std::vector<double> lambda(k);
    ColMatrixXd u(k, k);  // eigenvectors of D + rho z z^T on the kept poles
    if (k > 0) secular_vectors(d, z.data(), kept, rho, lambda, u);

    // The product Q_kept U, split by support: top rows only meet columns of
    // kind top/mixed, bottom rows only bottom/mixed.
    std::vector<Index> top_cols, bot_cols;
    for (Index i = 0; i < k; ++i) {
      const unsigned char kd = kind[kept[i]];
      if (kd != kBottom) top_cols.push_back(i);
      if (kd != kTop) bot_cols.push_back(i);
    }
    ColMatrixXd product(n, k);
    multiply_part(qb, 0, n1, kept, top_cols, u, product);
    multiply_part(qb, n1, n - n1, kept, bot_cols, u, product);

    // Write back all n pairs in ascending order of eigenvalue.
    struct Pair {
      double value;
      Index source;  // >= 0: column of product; < 0: deflated column -source-1
    };
    std::vector<Pair> pairs;
    pairs.reserve(n);
    for (Index i = 0; i < k; ++i) pairs.push_back({lambda[i], i});
    for (Index j : deflated) pairs.push_back({d[j], -j - 1});
    std::stable_sort(pairs.begin(), pairs.end(),
                     [](const Pair& a, const Pair& b) { return a.value < b.value; });
    // The deflated columns are the only part of Q still needed: keep them
    // aside and overwrite Q in place.
    const Index nd = static_cast<Index>(deflated.size());
    ColMatrixXd kept_aside(n, nd);
    std::vector<Index> aside_of(n, -1);
    for (Index i = 0; i < nd; ++i) {
      kept_aside.col(i) = qb.col(deflated[i]);
      aside_of[deflated[i]] = i;
    }
#pragma omp parallel for schedule(static) if (n >= kDcMergeCopyParallelMin)
    for (Index c = 0; c < n; ++c) {
      const Pair& pr = pairs[c];
      if (pr.source >= 0) {
        qb.col(c) = product.col(pr.source);
      } else {
        qb.col(c) = kept_aside.col(aside_of[-pr.source - 1]);
      }
    }
    for (Index c = 0; c < n; ++c) d[c] = pairs[c].value;
  }

  // Roots and normalised eigenvectors of diag(d_kept) + rho z z^T.
  static void secular_vectors(const double* d, const double* z, const std::vector<Index>& kept,
                              double rho, std::vector<double>& lambda, ColMatrixXd& u) {
    const Index k = static_cast<Index>(kept.size());
    std::vector<double> dk(k), zk(k);
    for (Index i = 0; i < k; ++i) {
      dk[i] = d[kept[i]];
      zk[i] = z[kept[i]];
    }
    // delta(i, j) = dk_i - lambda_j, one column per root.
    ColMatrixXd& delta = u;
#pragma omp parallel for schedule(dynamic, 8) if (k >= kDcSecularParallelMin)
    for (Index j = 0; j < k; ++j) {
      lambda[j] = secular_root(dk.data(), zk.data(), k, rho, j, &delta(0, j));
    }
    // Gu-Eisenstat: the z for which the computed roots are exact,
    // zhat_i^2 ~ prod_j (lambda_j - d_i) / prod_{j != i} (d_j - d_i).
    // Rows in blocks, columns innermost-outer, so that delta is read by columns.
    std::vector<double> prod(k);
    const Index row_blocks = (k + kRowBlock - 1) / kRowBlock;
#pragma omp parallel for schedule(static) if (k >= kDcSecularParallelMin)
    for (Index rb = 0; rb < row_blocks; ++rb) {
      const Index i0 = rb * kRowBlock, i1 = std::min(k, i0 + kRowBlock);
      for (Index i = i0; i < i1; ++i) prod[i] = -delta(i, i);
      for (Index j = 0; j < k; ++j) {
        const double dj = dk[j];
        const double* col = &delta(0, j);
        // Split around the diagonal so that both loops vectorise.
        const Index split = std::clamp(j, i0, i1);
#pragma omp simd
        for (Index i = i0; i < split; ++i) prod[i] *= col[i] / (dk[i] - dj);
#pragma omp simd
        for (Index i = std::max(split, std::min(j + 1, i1)); i < i1; ++i) {
          prod[i] *= col[i] / (dk[i] - dj);
        }
      }
    }
    std::vector<double> zhat(k);
    for (Index i = 0; i < k; ++i) zhat[i] = std::copysign(std::sqrt(std::abs(prod[i])), zk[i]);
#pragma omp parallel for schedule(static) if (k >= kDcSecularParallelMin)
    for (Index j = 0; j < k; ++j) {
      auto col = delta.col(j);
      for (Index i = 0; i < k; ++i) col[i] = zhat[i] / col[i];
      col /= col.norm();
    }
  }

  // product[rows r0:r0+nr, :] = Q[r0:r0+nr, kept[cols]] * U[cols, :].
  static void multiply_part(const Eigen::Block<ColMatrixXd>& qb, Index r0, Index nr,
                            const std::vector<Index>& kept, const std::vector<Index>& cols,
                            const ColMatrixXd& u, ColMatrixXd& product) {
    const Index m = static_cast<Index>(cols.size());
    if (m == 0) {
      product.middleRows(r0, nr).setZero();
      return;
    }
    // Threads take column ranges, each one single-threaded GEMM: Eigen's own
    // parallel GEMM synchronises by busy-waiting, which stalls for a time
    // slice whenever the other core is taken by another process.
    const Index k = u.cols();
    const Index chunks =
        nr * k >= kDcProductParallelEntries ? std::min<Index>(max_threads(), k) : 1;
    ColMatrixXd qs(nr, m), us(m, k);
#pragma omp parallel num_threads(static_cast<int>(chunks)) if (chunks > 1)
    {
#pragma omp for schedule(static)
      for (Index c = 0; c < m; ++c) qs.col(c) = qb.col(kept[cols[c]]).segment(r0, nr);
#pragma omp for schedule(static, 1)
      for (Index ch = 0; ch < chunks; ++ch) {
        const Index c0 = k * ch / chunks, c1 = k * (ch + 1) / chunks;
        // The rows of U that meet this part, gathered a column at a time:
        // copying whole rows of the column-major U strides through all of
        // it, a visible share of the whole divide and conquer.
        for (Index j = c0; j < c1; ++j) {
          const double* from = &u(0, j);
          double* to = &us(0, j);
          for (Index c = 0; c < m; ++c) to[c] = from[cols[c]];
        }
        product.block(r0, c0, nr, c1 - c0).noalias() = qs * us.middleCols(c0, c1 - c0);
      }
    }
  }

  VectorXd& d_;
  VectorXd& e_;
  ColMatrixXd& q_;
  std::atomic<bool>& failed_;
};

}  // namespace

void tridiagonal_eigen_dc(VectorXd& d, VectorXd& e, ColMatrixXd& z) {
  const Index n = d.size();
  z.setZero(n, n);
  if (n == 0) return;
  // Scale to unit norm so that no intermediate over- or underflows.
  double scale = d.cwiseAbs().maxCoeff();
  if (n > 1) scale = std::max(scale, e.cwiseAbs().maxCoeff());
  if (scale == 0.0) {
    z.setIdentity();
    return;
  }
  d /= scale;
  e /= scale;
  std::atomic<bool> failed{false};
  DivideAndConquer(d, e, z, failed).solve(0, n, true);
  if (failed) throw std::runtime_error("eigh: the tridiagonal QR iteration did not converge");
  d *= scale;
}

}  // namespace descramble::detail
