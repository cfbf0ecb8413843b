#include "reference.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace descramble::test {

RowMatrixXd normal_matrix(Index rows, Index cols, std::uint64_t seed) {
  std::mt19937_64 engine(seed);
  std::normal_distribution<double> normal;
  RowMatrixXd x(rows, cols);
  for (Index i = 0; i < rows; ++i) {
    for (Index j = 0; j < cols; ++j) x(i, j) = normal(engine);
  }
  return x;
}

RowMatrixXd symmetric_normal(Index n, std::uint64_t seed) {
  const RowMatrixXd x = normal_matrix(n, n, seed);
  RowMatrixXd a(n, n);
  for (Index i = 0; i < n; ++i) {
    for (Index j = 0; j <= i; ++j) a(i, j) = a(j, i) = x(i, j);
  }
  return a;
}

RowMatrixXd with_spectrum(const VectorXd& w, std::uint64_t seed) {
  const Index n = w.size();
  RowMatrixXd a = w.asDiagonal();
  const RowMatrixXd vs = normal_matrix(8, n, seed);
  for (Index r = 0; r < vs.rows() && n > 1; ++r) {
    // a := H a H with H = I - 2 v v^T / (v^T v): similar, still symmetric.
    const VectorXd v = vs.row(r).transpose();
    const double scale = 2.0 / v.squaredNorm();
    const VectorXd av = a * v;
    const double vav = v.dot(av);
    // H a H = a - s (v av^T + av v^T) + s^2 (v^T a v) v v^T
    a -= scale * (v * av.transpose() + av * v.transpose());
    a += (scale * scale * vav) * (v * v.transpose());
  }
  // Exactly symmetric, as the solvers read one triangle only.
  const RowMatrixXd lower = a.triangularView<Eigen::Lower>();
  a = lower;
  a.triangularView<Eigen::StrictlyUpper>() = lower.transpose();
  return a;
}

TwoPass two_pass_moments(const RowMatrixXd& x) {
  const Index rows = x.rows(), n = x.cols();
  TwoPass out;
  out.mean = VectorXd::Zero(n);
  for (Index i = 0; i < rows; ++i) {
    for (Index j = 0; j < n; ++j) out.mean[j] += x(i, j);
  }
  if (rows > 0) out.mean /= static_cast<double>(rows);
  out.scatter = RowMatrixXd::Zero(n, n);
  std::vector<double> c(static_cast<size_t>(n));
  for (Index i = 0; i < rows; ++i) {
    for (Index j = 0; j < n; ++j) c[j] = x(i, j) - out.mean[j];
    for (Index j = 0; j < n; ++j) {
      for (Index k = 0; k <= j; ++k) out.scatter(j, k) += c[j] * c[k];
    }
  }
  for (Index j = 0; j < n; ++j) {
    for (Index k = 0; k < j; ++k) out.scatter(k, j) = out.scatter(j, k);
  }
  return out;
}

VectorXd jacobi_eigenvalues(const RowMatrixXd& input) {
  RowMatrixXd a = input;
  const Index n = a.rows();
  const double norm = a.norm();
  for (int sweep = 0; sweep < 100; ++sweep) {
    double off = 0.0;
    for (Index p = 0; p < n; ++p) {
      for (Index q = p + 1; q < n; ++q) off += 2.0 * a(p, q) * a(p, q);
    }
    if (std::sqrt(off) <= 1e-3 * kEps * norm) break;
    for (Index p = 0; p < n; ++p) {
      for (Index q = p + 1; q < n; ++q) {
        const double apq = a(p, q);
        if (apq == 0.0) continue;
        // The rotation J = [[c, s], [-s, c]] on (p, q) with J^T A J zero at (p, q).
        const double theta = (a(q, q) - a(p, p)) / (2.0 * apq);
        const double t =
            std::abs(theta) > 1e150
                ? 0.5 / theta
                : std::copysign(1.0, theta) / (std::abs(theta) + std::sqrt(theta * theta + 1.0));
        const double c = 1.0 / std::sqrt(t * t + 1.0), s = t * c;
        for (Index k = 0; k < n; ++k) {
          const double akp = a(k, p), akq = a(k, q);
          a(k, p) = c * akp - s * akq;
          a(k, q) = s * akp + c * akq;
        }
        for (Index k = 0; k < n; ++k) {
          const double apk = a(p, k), aqk = a(q, k);
          a(p, k) = c * apk - s * aqk;
          a(q, k) = s * apk + c * aqk;
        }
        a(p, q) = a(q, p) = 0.0;
      }
    }
  }
  VectorXd w = a.diagonal();
  std::sort(w.data(), w.data() + n);
  return w;
}

namespace {

// Eigenvalues of (d, e) below x.
Index sturm_count(const VectorXd& d, const VectorXd& e, double x, double pivmin) {
  Index count = 0;
  double q = d[0] - x;
  for (Index i = 0;; ++i) {
    if (std::abs(q) < pivmin) q = -pivmin;
    if (q < 0) ++count;
    if (i + 1 == d.size()) break;
    q = d[i + 1] - x - e[i] * e[i] / q;
  }
  return count;
}

}  // namespace

VectorXd bisection_eigenvalues(const VectorXd& d, const VectorXd& e) {
  const Index n = d.size();
  VectorXd w(n);
  if (n == 0) return w;
  // Gershgorin bounds.
  double lo = d[0], hi = d[0], emax = 0.0;
  for (Index i = 0; i < n; ++i) {
    const double r = (i > 0 ? std::abs(e[i - 1]) : 0.0) + (i + 1 < n ? std::abs(e[i]) : 0.0);
    lo = std::min(lo, d[i] - r);
    hi = std::max(hi, d[i] + r);
    if (i + 1 < n) emax = std::max(emax, std::abs(e[i]));
  }
  const double scale = std::max(std::abs(lo), std::abs(hi));
  const double pivmin = std::numeric_limits<double>::min() * std::max(1.0, emax * emax);
  for (Index k = 0; k < n; ++k) {
    // The (k + 1)-th smallest: count(a) <= k < count(b).
    double a = lo - kEps * scale - pivmin, b = hi + kEps * scale + pivmin;
    // Far below the solvers' error (a few eps * scale) without chasing zero
    // eigenvalues into the subnormals.
    const double width = 1e-3 * kEps * scale;
    for (int it = 0; it < 2000 && b - a > std::max(width, kEps * std::abs(a + b)); ++it) {
      const double mid = 0.5 * (a + b);
      if (mid == a || mid == b) break;
      (sturm_count(d, e, mid, pivmin) > k ? b : a) = mid;
    }
    w[k] = 0.5 * (a + b);
  }
  return w;
}

EighQuality eigh_quality(const RowMatrixXd& a, const VectorXd& w, const Matrix& v) {
  const double n = static_cast<double>(std::max<Index>(a.rows(), 1));
  const double scale = std::max(a.cwiseAbs().maxCoeff(), std::numeric_limits<double>::min());
  const Matrix residual = a * v - v * w.asDiagonal();
  const Matrix gram = v.transpose() * v - Matrix::Identity(v.cols(), v.cols());
  return {residual.cwiseAbs().maxCoeff() / (n * kEps * scale),
          gram.cwiseAbs().maxCoeff() / (n * kEps)};
}

double relative_max_difference(const VectorXd& a, const VectorXd& b) {
  const double scale = b.size() > 0 ? b.cwiseAbs().maxCoeff() : 0.0;
  return (a - b).cwiseAbs().maxCoeff() / (scale > 0 ? scale : 1.0);
}

double relative_max_difference(const RowMatrixXd& a, const RowMatrixXd& b) {
  const double scale = b.size() > 0 ? b.cwiseAbs().maxCoeff() : 0.0;
  return (a - b).cwiseAbs().maxCoeff() / (scale > 0 ? scale : 1.0);
}

double brute_force_assignment_cost(const std::vector<double>& cost, Index nr, Index nc,
                                   bool maximize) {
  const double forbidden = maximize ? -kInf : kInf;
  const Index k = std::min(nr, nc);
  // Permute the longer side; its first k entries meet the shorter side's k.
  std::vector<Index> order(static_cast<size_t>(std::max(nr, nc)));
  std::iota(order.begin(), order.end(), Index{0});
  double best = std::numeric_limits<double>::quiet_NaN();
  do {
    double total = 0.0;
    bool allowed = true;
    for (Index s = 0; s < k && allowed; ++s) {
      const double c = nr <= nc ? cost[s * nc + order[s]] : cost[order[s] * nc + s];
      allowed = c != forbidden;
      total += c;
    }
    if (allowed && (std::isnan(best) || (maximize ? total > best : total < best))) best = total;
  } while (std::next_permutation(order.begin(), order.end()));
  return best;
}

double hungarian_cost(const std::vector<double>& cost, Index n) {
  // Rows and columns 1..n; column 0 is the virtual start of each augmentation.
  std::vector<double> u(n + 1, 0.0), v(n + 1, 0.0);
  std::vector<Index> row_of(n + 1, 0), via(n + 1, 0);
  for (Index i = 1; i <= n; ++i) {
    row_of[0] = i;
    Index j0 = 0;
    std::vector<double> slack(n + 1, kInf);
    std::vector<char> used(n + 1, 0);
    do {
      used[j0] = 1;
      const Index i0 = row_of[j0];
      double delta = kInf;
      Index j1 = 0;
      for (Index j = 1; j <= n; ++j) {
        if (used[j]) continue;
        const double reduced = cost[(i0 - 1) * n + (j - 1)] - u[i0] - v[j];
        if (reduced < slack[j]) {
          slack[j] = reduced;
          via[j] = j0;
        }
        if (slack[j] < delta) {
          delta = slack[j];
          j1 = j;
        }
      }
      for (Index j = 0; j <= n; ++j) {
        if (used[j]) {
          u[row_of[j]] += delta;
          v[j] -= delta;
        } else {
          slack[j] -= delta;
        }
      }
      j0 = j1;
    } while (row_of[j0] != 0);
    do {
      const Index j1 = via[j0];
      row_of[j0] = row_of[j1];
      j0 = j1;
    } while (j0 != 0);
  }
  double total = 0.0;
  for (Index j = 1; j <= n; ++j) total += cost[(row_of[j] - 1) * n + (j - 1)];
  return total;
}

}  // namespace descramble::test
