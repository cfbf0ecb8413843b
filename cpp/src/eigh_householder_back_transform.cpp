// Back-transformation of the eigenvectors of the tridiagonal matrix, V = Q Z.
// Large n: compact-WY blocks of Householder reflectors (Schreiber, Van Loan,
// SISC 10 (1989) 53-57, doi:10.1137/0910005; LAPACK's dlarft + dlarfb).
// Small n: one reflector at a time on groups of columns (dorm2r), which does
// the minimal 2 n^3 flops where the compact-WY form does about 3.3 n^3 in
// GEMMs too small to run at speed.
#include <algorithm>
#include <vector>

#include "eigh_internal.hpp"

namespace descramble::detail {

namespace {

// Reflectors per compact-WY block: wider blocks make better GEMMs, but
// building T costs O(n^2 b), which matters for small n.
constexpr Index kBackBlockSmall = 64;
constexpr Index kBackBlockLarge = 128;
constexpr Index kBackBlockSwitch = 1536;
// Up to this n the reflectors are applied one at a time (measured crossover).
constexpr Index kBackUnblocked = 224;
constexpr int kColumnGroup = 4;  // columns of z sharing one pass over v

// z[:, c0:c0+G] := Q z[:, c0:c0+G], reflector by reflector, the last first.
// The G columns go through each loop together: G independent dot products
// hide the latency of the reductions.
template <int G>
void apply_reflectors_to_columns(const ColMatrixXd& reflectors, const VectorXd& tau, ColMatrixXd& z,
                                 Index c0) {
  const Index n = reflectors.rows();
  double* zc[G];
  for (int c = 0; c < G; ++c) zc[c] = z.col(c0 + c).data();
  for (Index j = n - 2; j >= 0; --j) {
    const double t = tau[j];
    if (t == 0.0) continue;
    // v = (1, reflectors[j+2:, j]) on rows j+1 .. n-1.
    const double* v = reflectors.col(j).data();
    double s[G];
    for (int c = 0; c < G; ++c) s[c] = zc[c][j + 1];
    if constexpr (G == 4) {
      double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
#pragma omp simd reduction(+ : s0, s1, s2, s3)
      for (Index k = j + 2; k < n; ++k) {
        s0 += v[k] * zc[0][k];
        s1 += v[k] * zc[1][k];
        s2 += v[k] * zc[2][k];
        s3 += v[k] * zc[3][k];
      }
      s[0] += s0;
      s[1] += s1;
      s[2] += s2;
      s[3] += s3;
    } else {
      for (int c = 0; c < G; ++c) {
        double acc = 0;
#pragma omp simd reduction(+ : acc)
        for (Index k = j + 2; k < n; ++k) acc += v[k] * zc[c][k];
        s[c] += acc;
      }
    }
    for (int c = 0; c < G; ++c) {
      s[c] *= t;
      zc[c][j + 1] -= s[c];
    }
#pragma omp simd
    for (Index k = j + 2; k < n; ++k) {
      for (int c = 0; c < G; ++c) zc[c][k] -= s[c] * v[k];
    }
  }
}

}  // namespace

void apply_householder_q(const ColMatrixXd& reflectors, const VectorXd& tau, ColMatrixXd& z) {
  const Index n = reflectors.rows();
  const Index count = n - 1;  // reflectors v_0 .. v_{n-2}
  if (count <= 0 || z.cols() == 0) return;
  if (n <= kBackUnblocked) {
    Index c0 = 0;
    for (; c0 + kColumnGroup <= z.cols(); c0 += kColumnGroup) {
      apply_reflectors_to_columns<kColumnGroup>(reflectors, tau, z, c0);
    }
    for (; c0 < z.cols(); ++c0) apply_reflectors_to_columns<1>(reflectors, tau, z, c0);
    return;
  }
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
