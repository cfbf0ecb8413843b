// Blocked Householder tridiagonalisation (the dsytrd/dlatrd scheme, lower
// triangle).
//
// A panel of kReductionPanel columns is reduced with matrix-vector work while the
// trailing matrix stays untouched; the panel's reflectors V and the vectors
// W = tau (A - V W^T - W V^T) v are accumulated so that the whole trailing
// update is one symmetric rank-2k update A -= V W^T + W V^T, done as GEMMs on
// column tiles of the lower triangle (Dongarra, Hammarling, Sorensen,
// J. Comput. Appl. Math. 27 (1989) 215-227, doi:10.1016/0377-0427(89)90367-1).
// Half of the flops remain in the symmetric matrix-vector product, which is
// memory bound; it reads only the lower triangle and four columns per sweep.
//
// The panels run inside one parallel region: the threads split the product by
// columns (equal triangle area) and every vector operation by rows, and meet
// at four TeamBarrier waits per column. A parallel region forked per product
// (two OpenMP barriers per column) would wait a scheduler time slice at each
// barrier whenever the other core is busy.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <vector>

#include "eigh_internal.hpp"
#include "eigh_team.hpp"
#include "thread_policy.hpp"

namespace descramble::detail {

namespace {

constexpr Index kTile = 128;  // column tile of the rank-2k trailing update

// y[0:m] += L[:, c0:c1] contribution of the symmetric matrix whose lower
// triangle is the m x m block at `a` (leading dimension lda). Four columns per
// sweep: each of them is read once and y is streamed a quarter as often.
void symv_lower_columns(const double* a, Index lda, Index m, const double* v, double* y, Index c0,
                        Index c1) {
  Index j = c0;
  for (; j + 4 <= c1; j += 4) {
    const double* a0 = a + j * lda;
    const double* a1 = a0 + lda;
    const double* a2 = a1 + lda;
    const double* a3 = a2 + lda;
    const double v0 = v[j], v1 = v[j + 1], v2 = v[j + 2], v3 = v[j + 3];
    // The 4 x 4 diagonal block, its lower triangle mirrored.
    y[j] += a0[j] * v0 + a0[j + 1] * v1 + a0[j + 2] * v2 + a0[j + 3] * v3;
    y[j + 1] += a0[j + 1] * v0 + a1[j + 1] * v1 + a1[j + 2] * v2 + a1[j + 3] * v3;
    y[j + 2] += a0[j + 2] * v0 + a1[j + 2] * v1 + a2[j + 2] * v2 + a2[j + 3] * v3;
    y[j + 3] += a0[j + 3] * v0 + a1[j + 3] * v1 + a2[j + 3] * v2 + a3[j + 3] * v3;
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
#pragma omp simd reduction(+ : s0, s1, s2, s3)
    for (Index k = j + 4; k < m; ++k) {
      const double vk = v[k];
      y[k] += a0[k] * v0 + a1[k] * v1 + a2[k] * v2 + a3[k] * v3;
      s0 += a0[k] * vk;
      s1 += a1[k] * vk;
      s2 += a2[k] * vk;
      s3 += a3[k] * vk;
    }
    y[j] += s0;
    y[j + 1] += s1;
    y[j + 2] += s2;
    y[j + 3] += s3;
  }
  for (; j < c1; ++j) {
    const double* a0 = a + j * lda;
    const double v0 = v[j];
    double s0 = 0;
    y[j] += a0[j] * v0;
#pragma omp simd reduction(+ : s0)
    for (Index k = j + 1; k < m; ++k) {
      y[k] += a0[k] * v0;
      s0 += a0[k] * v[k];
    }
    y[j] += s0;
  }
}

// First column of thread t's share of an m-column lower triangle split among
// `threads` in equal areas (column c splits it at area 1 - (1 - c/m)^2);
// multiples of 4 so that the kernel's four-column sweeps stay whole.
Index area_split(Index m, int t, int threads) {
  if (t >= threads) return m;
  const double frac = 1.0 - std::sqrt(1.0 - static_cast<double>(t) / threads);
  return std::min<Index>(m, static_cast<Index>(std::llround(frac * m)) & ~Index(3));
}

// Householder reflector (dlarfg) for the column (alpha, x) with |x| = xnorm:
// returns beta and tau; x is to be scaled by the returned factor.
struct Reflector {
  double beta, tau, scale;
};
Reflector make_reflector(double alpha, double xnorm) {
  const double beta = -std::copysign(std::hypot(alpha, xnorm), alpha);
  // |alpha - beta| >= |beta|: below the smallest normal number 1 / (alpha -
  // beta) could overflow. Such a column is already reduced to far below the
  // rounding of the (balanced) matrix: the identity reflector leaves it.
  if (xnorm == 0.0 || std::abs(beta) < std::numeric_limits<double>::min()) {
    return {alpha, 0.0, 1.0};
  }
  return {beta, (beta - alpha) / beta, 1.0 / (alpha - beta)};
}

// A sum of squares loses its accuracy once squares fall among the subnormal
// numbers (entries below about 1e-154), and a reflector built from an
// inaccurate |x| is not orthogonal (I - tau v v^T is orthogonal only for
// tau = 2 / v^T v): matrices with many zero rows reduce to columns of
// 1e-170 and lost orthogonality to 1e-2. Below this sum of squares the norm
// is recomputed with scaling, as LAPACK's dnrm2 always does.
constexpr double kTinySquaredNorm = 1e-280;

template <typename Segment>
double accurate_norm(double norm2, const Segment& x) {
  return norm2 < kTinySquaredNorm ? x.stableNorm() : std::sqrt(norm2);
}

// Reduce the whole trailing block B = a[j0:, j0:] without panels (dsytd2,
// lower): per column, w = tau B22 v + gamma v and B22 -= v w^T + w v^T.
// The rank-2 update of step i is fused with the product of step i + 1: each
// column of B22 is updated and then immediately multiplied by the next
// reflector while it is in cache, so every step makes one read-write pass
// over the trailing matrix and calls no GEMV (which dominate dlatrd on
// blocks of a few dozen columns).
void reduce_unblocked(ColMatrixXd& a, Index j0, VectorXd& d, VectorXd& e, VectorXd& tau) {
  const Index n = a.rows();
  const Index m = n - j0;
  auto b = a.block(j0, j0, m, m);
  if (m == 1) {
    d[j0] = b(0, 0);
    return;
  }
  // Indexed by the row of B: y[k] = (B22 v)[k], w[k] the rank-2 partner of v.
  std::vector<double> y(m), w(m);
  auto reflect = [&](Index i) {  // reflector of column i; v = b(i+1:, i)
    auto x = b.col(i).segment(i + 2, m - i - 2);
    const Reflector h = make_reflector(b(i + 1, i), accurate_norm(x.squaredNorm(), x));
    x *= h.scale;
    e[j0 + i] = h.beta;
    tau[j0 + i] = h.tau;
    b(i + 1, i) = 1.0;
    return h.tau;
  };
  double t = reflect(0);
  std::fill(y.begin(), y.end(), 0.0);
  symv_lower_columns(&b(1, 1), n, m - 1, &b(1, 0), y.data() + 1, 0, m - 1);
  for (Index i = 0;; ++i) {
    d[j0 + i] = b(i, i);
    const double* v = &b(0, i);  // v[k] for rows k >= i + 1
    double yv = 0;
    for (Index k = i + 1; k < m; ++k) yv += y[k] * v[k];
    const double gamma = -0.5 * t * t * yv;
    for (Index k = i + 1; k < m; ++k) w[k] = t * y[k] + gamma * v[k];
    // Column i + 1 first: the next reflector comes from it.
    double* c1 = &b(0, i + 1);
    const double v1 = v[i + 1], w1 = w[i + 1];
    for (Index k = i + 1; k < m; ++k) c1[k] -= v[k] * w1 + w[k] * v1;
    if (i + 2 >= m) {
      d[j0 + i + 1] = b(i + 1, i + 1);
      return;
    }
    t = reflect(i + 1);
    const double* u = &b(0, i + 1);  // next reflector, rows >= i + 2
    std::fill(y.begin() + i + 2, y.end(), 0.0);
    for (Index j = i + 2; j < m; ++j) {
      double* c = &b(0, j);
      const double vj = v[j], wj = w[j], uj = u[j];
      c[j] -= v[j] * wj + w[j] * vj;
      double s = c[j] * uj;
#pragma omp simd reduction(+ : s)
      for (Index k = j + 1; k < m; ++k) {
        const double updated = c[k] - (v[k] * wj + w[k] * vj);
        c[k] = updated;
        y[k] += updated * uj;
        s += updated * u[k];
      }
      y[j] += s;
    }
  }
}

// What the threads of a team share while reducing panels.
struct Team {
  explicit Team(int threads_, Index n)
      : threads(threads_), barrier(threads_), partial(threads_), scratch(threads_) {
    for (auto& p : partial) p.resize(n);
  }
  int threads;
  TeamBarrier barrier;
  std::vector<VectorXd> partial;  // per-thread accumulators of the product
  // Per-thread partial sums, a cache line apart so that writes do not collide.
  struct alignas(64) Sums {
    double norm2 = 0, dot = 0;
    double p[kReductionPanel] = {}, q[kReductionPanel] = {};
  };
  std::vector<Sums> scratch;
  // Scalars one thread produces for all (written before a barrier).
  alignas(64) double alpha = 0;  // b(i+1, i) before it becomes v's leading 1
  double y_first = 0;            // W(i+1, i) before its gamma correction
  alignas(64) std::atomic<Index> next_tile{0};
};

// Rows [lo, hi) of the panel owned by thread t: a fixed split of [0, m) cut to
// the active rows [from, m). Fixed, so that each row of V and W is written and
// read by one thread only (except the rows handed over through Team).
struct RowRange {
  Index lo, hi;
  Index size() const { return hi - lo; }
};
RowRange own_rows(Index m, int t, int threads, Index from) {
  const Index lo = m * t / threads, hi = m * (t + 1) / threads;
  return {std::max(lo, from), std::max(hi, from)};
}

// reduce_panel for panels with m > nb, executed by every thread t of the team.
void reduce_panel_team(ColMatrixXd& a, Index j0, Index nb, VectorXd& d, VectorXd& e, VectorXd& tau,
                       ColMatrixXd& w, Team& team, int t) {
  const Index n = a.rows();
  const Index m = n - j0;
  const int threads = team.threads;
  auto b = a.block(j0, j0, m, m);
  Team::Sums& mine = team.scratch[t];
  VectorXd wrow(nb), p(nb), q(nb);
  double w_last = 0;  // W(i, i-1), handed over from the previous step
  for (Index i = 0; i < nb; ++i) {
    // (A) Column i brought up to date on own rows; the partial norm of x.
    const RowRange ra = own_rows(m, t, threads, i);
    if (i > 0) {
      for (Index c = 0; c + 1 < i; ++c) wrow[c] = w(i, c);
      wrow[i - 1] = w_last;
      if (ra.size() > 0) {
        b.col(i).segment(ra.lo, ra.size()).noalias() -=
            b.block(ra.lo, 0, ra.size(), i) * wrow.head(i);
        b.col(i).segment(ra.lo, ra.size()).noalias() -=
            w.block(ra.lo, 0, ra.size(), i) * b.row(i).head(i).transpose();
      }
    }
    if (ra.lo <= i && i < ra.hi) d[j0 + i] = b(i, i);
    if (ra.lo <= i + 1 && i + 1 < ra.hi) {
      team.alpha = b(i + 1, i);
      b(i + 1, i) = 1.0;
    }
    const RowRange rx = own_rows(m, t, threads, i + 2);
    mine.norm2 = b.col(i).segment(rx.lo, rx.size()).squaredNorm();
    team.barrier.wait();

    // (B) The reflector, computed alike by every thread; x scaled on own rows.
    double norm2 = 0;
    for (int s = 0; s < threads; ++s) norm2 += team.scratch[s].norm2;
    double xnorm = std::sqrt(norm2);
    if (norm2 < kTinySquaredNorm) {
      // Every thread takes this branch (same sum, same order) and reads the
      // whole column, which nobody may scale before all have read it.
      xnorm = accurate_norm(norm2, b.col(i).segment(i + 2, m - i - 2));
      team.barrier.wait();
    }
    const Reflector h = make_reflector(team.alpha, xnorm);
    b.col(i).segment(rx.lo, rx.size()) *= h.scale;
    if (t == 0) {
      e[j0 + i] = h.beta;
      tau[j0 + i] = h.tau;
    }
    team.barrier.wait();

    // (C) y = B22 v by column shares; p = W^T v and q = V^T v on own rows.
    const Index r = m - i - 1;
    const double* v = &b(i + 1, i);
    const Index c0 = area_split(r, t, threads), c1 = area_split(r, t + 1, threads);
    double* acc = team.partial[t].data();
    std::fill(acc + c0, acc + r, 0.0);
    symv_lower_columns(&b(i + 1, i + 1), n, r, v, acc, c0, c1);
    const RowRange rv = own_rows(m, t, threads, i + 1);
    if (i > 0) {
      Eigen::Map<VectorXd> pm(mine.p, i), qm(mine.q, i);
      if (rv.size() > 0) {
        auto vs = b.col(i).segment(rv.lo, rv.size());
        pm.noalias() = w.block(rv.lo, 0, rv.size(), i).transpose() * vs;
        qm.noalias() = b.block(rv.lo, 0, rv.size(), i).transpose() * vs;
      } else {
        pm.setZero();
        qm.setZero();
      }
    }
    team.barrier.wait();

    // (D) y = tau (B22 v - V p - W q) on own rows; the partial dot y.v.
    auto y = w.col(i).segment(rv.lo, rv.size());
    if (rv.size() > 0) {
      y.setZero();
      for (int s = 0; s < threads; ++s) {
        // Thread s's accumulator covers rows from its first column on.
        const Index from = std::max(rv.lo, area_split(r, s, threads) + i + 1);
        if (from < rv.hi) {
          y.tail(rv.hi - from) +=
              Eigen::Map<const VectorXd>(team.partial[s].data() + (from - i - 1), rv.hi - from);
        }
      }
      if (i > 0) {
        p.head(i).setZero();
        q.head(i).setZero();
        for (int s = 0; s < threads; ++s) {
          p.head(i) += Eigen::Map<const VectorXd>(team.scratch[s].p, i);
          q.head(i) += Eigen::Map<const VectorXd>(team.scratch[s].q, i);
        }
        y.noalias() -= b.block(rv.lo, 0, rv.size(), i) * p.head(i);
        y.noalias() -= w.block(rv.lo, 0, rv.size(), i) * q.head(i);
      }
      y *= h.tau;
      if (rv.lo == i + 1) team.y_first = y[0];
    }
    mine.dot = rv.size() > 0 ? y.dot(b.col(i).segment(rv.lo, rv.size())) : 0.0;
    team.barrier.wait();

    // (E) W's column: y += gamma v on own rows.
    double dot = 0;
    for (int s = 0; s < threads; ++s) dot += team.scratch[s].dot;
    const double gamma = -0.5 * h.tau * dot;
    if (rv.size() > 0) y += gamma * b.col(i).segment(rv.lo, rv.size());
    w_last = team.y_first + gamma;  // v's leading entry is 1
  }
}

// Lower triangle of a[s:s+m, s:s+m] -= VW[0:m] WV[0:m]^T (inner size 2 nb) on
// column tiles, which the threads of the team take in turn; diagonal tiles
// compute their upper part too, which is never read.
void rank2k_update_team(ColMatrixXd& a, Index s, Index m, const ColMatrixXd& vw,
                        const ColMatrixXd& wv, Team& team) {
  const Index tiles = (m + kTile - 1) / kTile;
  for (;;) {
    const Index tile = team.next_tile.fetch_add(1, std::memory_order_relaxed);
    if (tile >= tiles) break;
    const Index c = tile * kTile;
    const Index width = std::min(kTile, m - c);
    a.block(s + c, s + c, m - c, width).noalias() -=
        vw.block(c, 0, m - c, vw.cols()) * wv.block(c, 0, width, wv.cols()).transpose();
  }
}

}  // namespace

void tridiagonalize(ColMatrixXd& a, VectorXd& d, VectorXd& e, VectorXd& tau) {
  const Index n = a.rows();
  d.resize(n);
  e.setZero(std::max<Index>(n - 1, 0));
  tau.setZero(std::max<Index>(n - 1, 0));
  if (n == 0) return;
  ColMatrixXd w;
  Index blocked_end = 0;  // columns reduced by full panels
  while (n - blocked_end > kReductionUnblocked) blocked_end += kReductionPanel;
  if (blocked_end > 0) {
    w.resize(n, kReductionPanel);
    ColMatrixXd vw(n, 2 * kReductionPanel), wv(n, 2 * kReductionPanel);
    // Every panel and its trailing update, by member t of the team.
    auto reduce_panels = [&](Team& team, int t) {
      for (Index j0 = 0; j0 < blocked_end; j0 += kReductionPanel) {
        reduce_panel_team(a, j0, kReductionPanel, d, e, tau, w, team, t);
        // The rank-2k operands [V W] and [W V] below the panel, copied by the
        // rows each thread owned in the panel (no barrier needed before).
        const Index m = n - j0 - kReductionPanel;
        const RowRange rr = own_rows(n - j0, t, team.threads, kReductionPanel);
        if (rr.size() > 0) {
          auto vp = a.block(j0 + rr.lo, j0, rr.size(), kReductionPanel);
          auto wp = w.block(rr.lo, 0, rr.size(), kReductionPanel);
          const Index row = rr.lo - kReductionPanel;
          vw.block(row, 0, rr.size(), kReductionPanel) = vp;
          vw.block(row, kReductionPanel, rr.size(), kReductionPanel) = wp;
          wv.block(row, 0, rr.size(), kReductionPanel) = wp;
          wv.block(row, kReductionPanel, rr.size(), kReductionPanel) = vp;
        }
        if (t == 0) team.next_tile.store(0, std::memory_order_relaxed);
        team.barrier.wait();
        rank2k_update_team(a, j0 + kReductionPanel, m, vw, wv, team);
        team.barrier.wait();
      }
    };
    const int threads = max_threads();
    Team team(threads, n);
#pragma omp parallel num_threads(threads)
    {
      const int t = thread_id();
      const int got = team_size();
      if (got == threads) {
        reduce_panels(team, t);
      } else if (t == 0) {
        // Fewer threads than asked for (a nested or limited region): a team
        // that waited for the missing ones would never pass its barrier.
        Team solo(1, n);
        reduce_panels(solo, 0);
      }
    }
  }
  reduce_unblocked(a, blocked_end, d, e, tau);
}

}  // namespace descramble::detail
