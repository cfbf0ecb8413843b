// Blocked Householder tridiagonalisation (the dsytrd/dlatrd scheme, lower
// triangle) and the blocked back-transformation with compact-WY blocks.
//
// A panel of kPanel columns is reduced with matrix-vector work while the
// trailing matrix stays untouched; the panel's reflectors V and the vectors
// W = tau (A - V W^T - W V^T) v are accumulated so that the whole trailing
// update is one symmetric rank-2k update A -= V W^T + W V^T, done as GEMMs on
// column tiles of the lower triangle (Dongarra, Hammarling, Sorensen,
// J. Comput. Appl. Math. 27 (1989) 215-227, doi:10.1016/0377-0427(89)90367-1).
// Half of the flops remain in the symmetric matrix-vector product, which is
// memory bound; it reads only the lower triangle and four columns per sweep.
#include <algorithm>
#include <cmath>
#include <vector>

#include "eigh_internal.hpp"

#ifdef DESCRAMBLE_HAVE_OPENMP
#include <omp.h>
#endif

namespace descramble::detail {

namespace {

constexpr Index kPanel = 32;       // reflectors per panel (dlatrd's nb)
constexpr Index kUnblocked = 128;  // trailing size finished by a single panel
constexpr Index kTile = 128;       // column tile of the rank-2k trailing update
// Reflectors per compact-WY block: wider blocks make better GEMMs, but
// building T costs O(n^2 b), which matters for small n.
constexpr Index kBackBlockSmall = 64;
constexpr Index kBackBlockLarge = 128;
constexpr Index kBackBlockSwitch = 1536;
constexpr Index kParallelSymv = 256;

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

// y = A v, A symmetric with its lower triangle in the m x m block at `a`.
// Threads take column ranges of equal triangle area and private accumulators.
void symv_lower(const double* a, Index lda, Index m, const double* v, double* y) {
  std::fill(y, y + m, 0.0);
  const int threads = m >= kParallelSymv ? thread_count() : 1;
  if (threads <= 1) {
    symv_lower_columns(a, lda, m, v, y, 0, m);
    return;
  }
  std::vector<Index> bounds(threads + 1);
  for (int t = 0; t <= threads; ++t) {
    // Column c splits the triangle at area fraction 1 - (1 - c/m)^2.
    const double frac = 1.0 - std::sqrt(1.0 - static_cast<double>(t) / threads);
    bounds[t] = std::min<Index>(m, static_cast<Index>(std::llround(frac * m)) & ~Index(3));
  }
  bounds[threads] = m;
  std::vector<double> partial(static_cast<size_t>(threads - 1) * m, 0.0);
#pragma omp parallel num_threads(threads)
  {
#ifdef DESCRAMBLE_HAVE_OPENMP
    const int t = omp_get_thread_num();
#else
    const int t = 0;
#endif
    double* out = t == 0 ? y : partial.data() + static_cast<size_t>(t - 1) * m;
    symv_lower_columns(a, lda, m, v, out, bounds[t], bounds[t + 1]);
  }
  for (int t = 1; t < threads; ++t) {
    const double* p = partial.data() + static_cast<size_t>(t - 1) * m;
    for (Index k = 0; k < m; ++k) y[k] += p[k];
  }
}

// Reduce the first nb columns of the trailing block B = a[j0:, j0:] (dlatrd,
// lower). Returns in w the m x nb matrix W with B_trailing -= V W^T + W V^T.
void reduce_panel(ColMatrixXd& a, Index j0, Index nb, VectorXd& d, VectorXd& e, VectorXd& tau,
                  ColMatrixXd& w) {
  const Index n = a.rows();
  const Index m = n - j0;
  auto b = a.block(j0, j0, m, m);
  w.setZero(m, nb);
  VectorXd tmp(nb);
  for (Index i = 0; i < nb; ++i) {
    if (i > 0) {
      // Bring column i up to date with the panel's earlier reflectors.
      b.col(i).tail(m - i).noalias() -= b.block(i, 0, m - i, i) * w.row(i).head(i).transpose();
      b.col(i).tail(m - i).noalias() -= w.block(i, 0, m - i, i) * b.row(i).head(i).transpose();
    }
    d[j0 + i] = b(i, i);
    if (i + 1 >= m) continue;
    // Householder reflector (dlarfg) annihilating b[i+2:, i].
    const double alpha = b(i + 1, i);
    auto x = b.col(i).segment(i + 2, m - i - 2);
    const double xnorm = x.norm();
    double t = 0.0, beta = alpha;
    if (xnorm != 0.0) {
      beta = -std::copysign(std::hypot(alpha, xnorm), alpha);
      t = (beta - alpha) / beta;
      x *= 1.0 / (alpha - beta);
    }
    e[j0 + i] = beta;
    tau[j0 + i] = t;
    b(i + 1, i) = 1.0;
    const Index r = m - i - 1;
    auto v = b.col(i).tail(r);
    auto wc = w.col(i).tail(r);
    symv_lower(&b(i + 1, i + 1), n, r, v.data(), wc.data());
    if (i > 0) {
      auto vp = b.block(i + 1, 0, r, i);
      auto wp = w.block(i + 1, 0, r, i);
      tmp.head(i).noalias() = wp.transpose() * v;
      wc.noalias() -= vp * tmp.head(i);
      tmp.head(i).noalias() = vp.transpose() * v;
      wc.noalias() -= wp * tmp.head(i);
    }
    wc *= t;
    const double gamma = -0.5 * t * wc.dot(v);
    wc += gamma * v;
  }
}

// Lower triangle of a[s:, s:] -= V W^T + W V^T as GEMMs of inner size 2nb on
// column tiles; threads take whole tiles (diagonal tiles compute their upper
// part too, which is never read).
void rank2k_update_lower(ColMatrixXd& a, Index s, const ColMatrixXd& vw, const ColMatrixXd& wv) {
  const Index m = a.rows() - s;
  const Index tiles = (m + kTile - 1) / kTile;
#pragma omp parallel for schedule(dynamic, 1) if (m > 2 * kTile)
  for (Index t = 0; t < tiles; ++t) {
    const Index c = t * kTile;
    const Index width = std::min(kTile, m - c);
    a.block(s + c, s + c, m - c, width).noalias() -=
        vw.bottomRows(m - c) * wv.middleRows(c, width).transpose();
  }
}

}  // namespace

void tridiagonalize(ColMatrixXd& a, VectorXd& d, VectorXd& e, VectorXd& tau) {
  const Index n = a.rows();
  d.resize(n);
  e.setZero(std::max<Index>(n - 1, 0));
  tau.setZero(std::max<Index>(n - 1, 0));
  if (n == 0) return;
  ColMatrixXd w, vw, wv;
  Index j0 = 0;
  while (n - j0 > kUnblocked) {
    reduce_panel(a, j0, kPanel, d, e, tau, w);
    const Index m = n - j0 - kPanel;
    vw.resize(m, 2 * kPanel);
    wv.resize(m, 2 * kPanel);
    vw.leftCols(kPanel) = a.block(j0 + kPanel, j0, m, kPanel);
    vw.rightCols(kPanel) = w.bottomRows(m);
    wv.leftCols(kPanel) = w.bottomRows(m);
    wv.rightCols(kPanel) = a.block(j0 + kPanel, j0, m, kPanel);
    rank2k_update_lower(a, j0 + kPanel, vw, wv);
    j0 += kPanel;
  }
  reduce_panel(a, j0, n - j0, d, e, tau, w);
}

void apply_householder_q(const ColMatrixXd& reflectors, const VectorXd& tau, ColMatrixXd& z) {
  const Index n = reflectors.rows();
  const Index count = n - 1;  // reflectors v_0 .. v_{n-2}
  if (count <= 0 || z.cols() == 0) return;
  const Index block = n < kBackBlockSwitch ? kBackBlockSmall : kBackBlockLarge;
  const Index blocks = (count + block - 1) / block;
  // Compact WY factors of every block (dlarft, forward):
  // H_j0 ... H_j0+b-1 = I - V T V^T with V unit lower trapezoidal.
  std::vector<ColMatrixXd> vs(blocks), ts(blocks);
#pragma omp parallel for schedule(dynamic, 1) if (n > 512)
  for (Index blk = 0; blk < blocks; ++blk) {
    const Index j0 = blk * block;
    const Index b = std::min(block, count - j0);
    const Index r = n - j0 - 1;  // rows touched: j0+1 .. n-1
    ColMatrixXd& v = vs[blk];
    ColMatrixXd& t = ts[blk];
    v.setZero(r, b);
    for (Index c = 0; c < b; ++c) {
      v(c, c) = 1.0;
      v.col(c).tail(r - c - 1) = reflectors.col(j0 + c).tail(r - c - 1);
    }
    const ColMatrixXd vtv = v.transpose() * v;
    t.setZero(b, b);
    for (Index c = 0; c < b; ++c) {
      const double tc = tau[j0 + c];
      t(c, c) = tc;
      if (c > 0 && tc != 0.0) {
        const VectorXd col = -tc * vtv.col(c).head(c);
        t.col(c).head(c).noalias() = t.topLeftCorner(c, c).triangularView<Eigen::Upper>() * col;
      }
    }
  }
  // Columns of z are independent: each thread applies every block to its own
  // column range, with no synchronisation between blocks.
  const Index chunks = std::min<Index>(thread_count(), std::max<Index>(1, z.cols() / 64));
#pragma omp parallel for schedule(static, 1) if (chunks > 1)
  for (Index ch = 0; ch < chunks; ++ch) {
    const Index c0 = z.cols() * ch / chunks, c1 = z.cols() * (ch + 1) / chunks;
    ColMatrixXd vtz;
    // Q z = H_0 (H_1 (... H_{n-2} z)): the last block is applied first.
    for (Index blk = blocks - 1; blk >= 0; --blk) {
      const Index r = n - blk * block - 1;
      auto rows = z.block(n - r, c0, r, c1 - c0);
      vtz.noalias() = vs[blk].transpose() * rows;
      vtz = ts[blk].triangularView<Eigen::Upper>() * vtz;
      rows.noalias() -= vs[blk] * vtz;
    }
  }
}

}  // namespace descramble::detail
