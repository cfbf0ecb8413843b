// Back-transformation of the eigenvectors of the tridiagonal matrix, V = Q Z.
// Large n: compact-WY blocks of Householder reflectors (Schreiber, Van Loan,
// SISC 10 (1989) 53-57, doi:10.1137/0910005; LAPACK's dlarft + dlarfb),
// applied slab by slab to the columns of Z. Small n: one reflector at a time
// on the rows of a row-major copy of Z, which does the minimal 2 n^3 flops on
// contiguous rows where the compact-WY form spends its time building T and in
// GEMMs too small to run at speed.
#include <algorithm>
#include <vector>

#include "eigh_internal.hpp"
#include "thread_policy.hpp"

namespace descramble::detail {

namespace {

// Reflectors per compact-WY block. Wider blocks make wider GEMM inner sizes,
// but building T and V T and the zero upper triangle of V cost O(n^2 b), and
// Eigen's GEMM already runs at speed at inner size 32: narrow blocks win up
// to n of about 1.5k, wide ones beyond (docs/tuning.md).
constexpr Index kBackBlockSmall = 32;
constexpr Index kBackBlockLarge = 128;
constexpr Index kBackBlockSwitch = 1536;
// Columns of Z per task of the blocked path: an eighth of them, 64 .. 256.
// At least eight tasks let a thread whose partner core is busy take over the
// partner's share; wider slabs make wider, faster GEMMs.
constexpr Index kSlabMin = 64;
constexpr Index kSlabMax = 256;

// Columns [c0, c0 + W) of zr (the n x m row-major copy of z) := Q times them,
// one reflector at a time, the last first. For H_j = I - tau v v^T the W sums
// s = z^T v and the update z -= v (tau s)^T are sweeps over the rows j+1 ..
// n-1 with s held in registers; the n x W chunk stays in cache across all n - 1
// reflectors, and W / 8 independent accumulators hide the FMA latency.
template <int W>
void apply_reflectors_to_chunk(const ColMatrixXd& reflectors, const VectorXd& tau, RowMatrixXd& zr,
                               Index c0) {
  const Index n = reflectors.rows();
  const Index ld = zr.cols();
  double* base = zr.data() + c0;
  for (Index j = n - 2; j >= 0; --j) {
    const double t = tau[j];
    if (t == 0.0) continue;
    // v = (1, reflectors[j+2:, j]) on rows j+1 .. n-1.
    const double* v = reflectors.col(j).data();
    double s[W];
    const double* r0 = base + (j + 1) * ld;
#pragma omp simd
    for (int c = 0; c < W; ++c) s[c] = r0[c];
    for (Index k = j + 2; k < n; ++k) {
      const double vk = v[k];
      const double* rk = base + k * ld;
#pragma omp simd
      for (int c = 0; c < W; ++c) s[c] += vk * rk[c];
    }
    double* w0 = base + (j + 1) * ld;
#pragma omp simd
    for (int c = 0; c < W; ++c) {
      s[c] *= t;
      w0[c] -= s[c];
    }
    for (Index k = j + 2; k < n; ++k) {
      const double vk = v[k];
      double* rk = base + k * ld;
#pragma omp simd
      for (int c = 0; c < W; ++c) rk[c] -= vk * s[c];
    }
  }
}

// z := Q z reflector by reflector on a row-major copy, in column chunks of
// 64 (then 32, 8, 1) so that every chunk kernel has a compile-time width.
void apply_reflectors_to_rows(const ColMatrixXd& reflectors, const VectorXd& tau, ColMatrixXd& z) {
  RowMatrixXd zr = z;
  const Index m = zr.cols();
  Index c0 = 0;
  for (; c0 + 64 <= m; c0 += 64) apply_reflectors_to_chunk<64>(reflectors, tau, zr, c0);
  for (; c0 + 32 <= m; c0 += 32) apply_reflectors_to_chunk<32>(reflectors, tau, zr, c0);
  for (; c0 + 8 <= m; c0 += 8) apply_reflectors_to_chunk<8>(reflectors, tau, zr, c0);
  for (; c0 < m; ++c0) apply_reflectors_to_chunk<1>(reflectors, tau, zr, c0);
  z = zr;
}

// One compact-WY block H_j0 ... H_j0+b-1 = I - V T V^T acting on rows
// j0+1 .. n-1, kept as V and V T so that applying it is two GEMMs:
// Z -= (V T) (V^T Z).
struct WyBlock {
  ColMatrixXd v;   // r x b, unit lower trapezoidal
  ColMatrixXd vt;  // V T
};

// The block of reflectors j0 .. j0+b-1 (dlarft, forward, columnwise).
void build_block(const ColMatrixXd& reflectors, const VectorXd& tau, Index j0, Index b,
                 WyBlock& out) {
  const Index n = reflectors.rows();
  const Index r = n - j0 - 1;  // rows touched: j0+1 .. n-1
  ColMatrixXd& v = out.v;
  v.setZero(r, b);
  for (Index c = 0; c < b; ++c) {
    v(c, c) = 1.0;
    v.col(c).tail(r - c - 1) = reflectors.col(j0 + c).tail(r - c - 1);
  }
  const ColMatrixXd vtv = v.transpose() * v;
  ColMatrixXd t = ColMatrixXd::Zero(b, b);
  for (Index c = 0; c < b; ++c) {
    const double tc = tau[j0 + c];
    t(c, c) = tc;
    if (c > 0 && tc != 0.0) {
      const VectorXd col = -tc * vtv.col(c).head(c);
      t.col(c).head(c).noalias() = t.topLeftCorner(c, c).triangularView<Eigen::Upper>() * col;
    }
  }
  out.vt.noalias() = v * t.triangularView<Eigen::Upper>();
}

}  // namespace

void apply_householder_q(const ColMatrixXd& reflectors, const VectorXd& tau, ColMatrixXd& z) {
  const Index n = reflectors.rows();
  const Index count = n - 1;  // reflectors v_0 .. v_{n-2}
  if (count <= 0 || z.cols() == 0) return;
  if (n <= kBackUnblocked) {
    apply_reflectors_to_rows(reflectors, tau, z);
    return;
  }
  const Index block = n < kBackBlockSwitch ? kBackBlockSmall : kBackBlockLarge;
  const Index blocks = (count + block - 1) / block;
  const Index slab_width = std::clamp<Index>((z.cols() / 8) & ~Index(7), kSlabMin, kSlabMax);
  const Index slabs = (z.cols() + slab_width - 1) / slab_width;
  std::vector<WyBlock> wy(blocks);
  // How many threads this gets is the caller's policy (eigh.cpp). The region
  // is entered even for a single slab (z with a few columns): the threads
  // then share the building of the blocks, and Eigen, seeing an active team,
  // keeps every GEMM on its calling thread instead of forking per product.
#pragma omp parallel if (max_threads() > 1)
  {
#pragma omp for schedule(dynamic, 1)
    for (Index blk = 0; blk < blocks; ++blk) {
      build_block(reflectors, tau, blk * block, std::min(block, count - blk * block), wy[blk]);
    }
    // Columns of z are independent: a slab gets every block, the last first
    // (Q z = H_0 (H_1 (... H_{n-2} z))), with no synchronisation in between.
    ColMatrixXd vtz;
#pragma omp for schedule(dynamic, 1)
    for (Index slab = 0; slab < slabs; ++slab) {
      const Index c0 = slab * slab_width;
      const Index width = std::min(slab_width, z.cols() - c0);
      for (Index blk = blocks - 1; blk >= 0; --blk) {
        const Index r = wy[blk].v.rows();
        auto rows = z.block(n - r, c0, r, width);
        vtz.noalias() = wy[blk].v.transpose() * rows;
        rows.noalias() -= wy[blk].vt * vtz;
      }
    }
  }
}

}  // namespace descramble::detail
