// Internal to moments.cpp: the symmetric rank-k update C += P^T P on a packed
// float64 panel, lower triangle only, written once over Eigen's packet layer
// and compiled per kernel level (2 doubles per vector with SSE2 or NEON, 4
// with AVX2, 8 with AVX-512).
//
// Panel layout: variables in groups of 8 ("lanes"); group g holds, for each
// sample k, the 8 values of variables 8g..8g+7 contiguously at
// panel[(g * ldk + k) * 8 + lane] (lanes past n are zero). One layout serves
// both operands of the product, so the centring pass writes the panel once and
// no GEMM packing follows. A micro-tile updates kMicroRows consecutive rows
// x kMicroCols columns (whole groups) of the row-major n x n result: per
// sample, one broadcast of each row's value and one vector load per column
// vector, then a multiply-add into every accumulator. The tile is sized to
// the vector registers of the level (see the constants below).
#pragma once

#include <Eigen/Core>
#include <algorithm>
#include <vector>

#include "descramble/types.hpp"
#include "packet.hpp"
#include "thread_policy.hpp"

namespace descramble::detail {

constexpr Index kLanes = 8;
static_assert(kLanes % kVector == 0, "a lane group must be whole vectors");
constexpr Index kGroupVectors = kLanes / kVector;

// Register tile: kMicroRows x kMicroGroups groups of accumulators, plus the
// column vectors of one sample and a broadcast, must fit in the register file
// (EIGEN_ARCH_DEFAULT_NUMBER_OF_REGISTERS: 32 with AVX-512 and on AArch64, 16
// with SSE2/AVX2). AVX-512: 8 x 16 columns = 16 accumulators; AVX2: 6 x 8 =
// 12 accumulators of 4, 15 registers in all (a 4 x 8 tile's 8 accumulators
// leave the two FMA units waiting on loads; 8 x 8 would need 19 registers);
// SSE2: 2 x 8 = 8 of 2; NEON: 4 x 8 = 16 of 2.
constexpr Index kRegisters = EIGEN_ARCH_DEFAULT_NUMBER_OF_REGISTERS;
constexpr Index kMicroGroups = kVector >= 8 ? 2 : 1;
constexpr Index kMicroRows = kVector >= 8 ? 8 : kRegisters >= 32 ? 4 : kVector >= 4 ? 6 : 2;
constexpr Index kMicroCols = kMicroGroups * kLanes;
// A micro-tile's rows lie in one group when kMicroRows divides the group, so
// one pointer reaches them all; otherwise (AVX2's 6) they may straddle two
// groups and each row has its own.
constexpr bool kRowsInOneGroup = kLanes % kMicroRows == 0;
// Rows of whole micro-tiles that also end on a group boundary: square tiles
// are cut at multiples of it, so that no tile ends on a partial micro-tile.
constexpr Index kTileRowQuantum = kRowsInOneGroup ? kLanes : 3 * kLanes;
static_assert(kTileRowQuantum % kMicroRows == 0 && kTileRowQuantum % kLanes == 0,
              "the tile quantum holds whole micro-tiles and whole groups");

// Row groups per side of a (square) tile of C. Wide results take 256 x 256
// tiles, whose longer inner loops beat 128 x 128 ones. From the shared-panel
// width (thread_policy.hpp) up to kSmallTilesBelow variables the threads share
// each panel's tiles, and a 256-wide grid leaves too few of them to finish a
// panel together; 128 x 128 tiles run as fast there and balance to within a
// small tile. Narrow results, which each thread updates whole, run faster as
// one 256-wide tile than as several 128-wide ones (docs/tuning.md).
// Both are rounded down to whole quanta (AVX2: 120 and 240 rows).
constexpr Index kSmallTilesBelow = 2048;
inline Index tile_groups(Index n) {
  constexpr Index quantum = kTileRowQuantum / kLanes;
  const Index groups = n >= kRankUpdateSharedPanelMin && n < kSmallTilesBelow ? 16 : 32;
  return groups / quantum * quantum;
}

// Asks for the cache line at `p` ahead of its use; a no-op where the compiler
// has no prefetch builtin.
inline void prefetch(const double* p) {
#if defined(__GNUC__) || defined(__clang__)
  __builtin_prefetch(p, 1, 3);
#else
  (void)p;
#endif
}

// C[r, 0:cols] += sum_k a[r][k * kLanes] * b[k][0:kMicroCols] for r < rows,
// where b[k] is the concatenation of the groups b[0..kMicroGroups) at
// b[g][k * kLanes] (`overwrite`: C = the sum, not read). When the rows lie in
// one group (kRowsInOneGroup) only a[0] is read and a[r] is a[0] + r. Columns
// from `cols` on are left untouched (the right edge of C).
template <Index MR, Index NG>
inline void micro_kernel(const double* const* a, const double* const* b, Index k, double* c,
                         Index ldc, Index rows, Index cols, bool overwrite) {
  using namespace Eigen::internal;
  constexpr Index NV = NG * kGroupVectors;
  // The result rows are touched once per panel; for wide states they come
  // from DRAM, so their fetch is started now and hidden behind the k loop.
#pragma GCC unroll 16
  for (Index r = 0; r < MR; ++r) {
    for (Index j = 0; j < NG * kLanes; j += 8) prefetch(c + r * ldc + j);
  }
  Packet acc[MR][NV];
#pragma GCC unroll 16
  for (Index r = 0; r < MR; ++r) {
    for (Index v = 0; v < NV; ++v) acc[r][v] = pset1<Packet>(0.0);
  }
  const double* row_data[MR];
  for (Index r = 0; r < MR; ++r) row_data[r] = kRowsInOneGroup ? a[0] + r : a[r];
  for (Index kk = 0; kk < k; ++kk) {
    Packet col[NV];
#pragma GCC unroll 4
    for (Index g = 0; g < NG; ++g) {
      for (Index v = 0; v < kGroupVectors; ++v) {
        col[g * kGroupVectors + v] = ploadu<Packet>(b[g] + kk * kLanes + v * kVector);
      }
    }
#pragma GCC unroll 16
    for (Index r = 0; r < MR; ++r) {
      const Packet s = pset1<Packet>(row_data[r][kk * kLanes]);
      for (Index v = 0; v < NV; ++v) acc[r][v] = pmadd(s, col[v], acc[r][v]);
    }
  }
  // Constant trip counts (the row test inside), so that the accumulators stay
  // in registers instead of being mirrored to the stack.
#pragma GCC unroll 16
  for (Index r = 0; r < MR; ++r) {
    if (r >= rows) continue;
    double* row = c + r * ldc;
    if (cols >= NG * kLanes) {
      for (Index v = 0; v < NV; ++v) {
        double* out = row + v * kVector;
        pstoreu(out, overwrite ? acc[r][v] : padd(ploadu<Packet>(out), acc[r][v]));
      }
    } else {
      double sum[NV * kVector];
      for (Index v = 0; v < NV; ++v) pstoreu(sum + v * kVector, acc[r][v]);
      for (Index j = 0; j < cols; ++j) row[j] = overwrite ? sum[j] : row[j] + sum[j];
    }
  }
}

// A block of C's lower triangle: row groups [g0, g1) x column pairs [p0, p1).
struct PackedTile {
  Index g0, g1, p0, p1;
};

// Tiles covering the lower triangle of an n x n result, off-diagonal (full)
// tiles first so that dynamic scheduling ends on the cheaper diagonal ones.
inline std::vector<PackedTile> packed_lower_tiles(Index n) {
  const Index groups = (n + kLanes - 1) / kLanes;
  const Index pairs = (n + kMicroCols - 1) / kMicroCols;
  const Index tg = tile_groups(n), tp = tg * kLanes / kMicroCols;
  const Index blocks = (groups + tg - 1) / tg;
  std::vector<PackedTile> off, diag;
  for (Index bi = 0; bi < blocks; ++bi) {
    const Index g0 = bi * tg, g1 = std::min(groups, g0 + tg);
    for (Index bj = 0; bj <= bi; ++bj) {
      const Index p0 = bj * tp, p1 = std::min(pairs, p0 + tp);
      (bj < bi ? off : diag).push_back({g0, g1, p0, p1});
    }
  }
  off.insert(off.end(), diag.begin(), diag.end());
  return off;
}

// C (row-major, leading dimension ldc) += panel^T panel over the tile
// (`overwrite`: C = panel^T panel, C not read); only micro-tiles that reach
// the lower triangle are computed (their few entries above the diagonal are
// written too and never read).
inline void packed_tile_update(const double* panel, Index ldk, Index k, Index n, double* c,
                               Index ldc, const PackedTile& t, bool overwrite) {
  const Index groups = (n + kLanes - 1) / kLanes;
  const Index group_stride = ldk * kLanes;
  const Index row_end = std::min(n, t.g1 * kLanes);
  for (Index i0 = t.g0 * kLanes; i0 < row_end; i0 += kMicroRows) {
    const Index rows = std::min(kMicroRows, row_end - i0);
    const Index last_pair = std::min(t.p1, (i0 + rows - 1) / kMicroCols + 1);
    // Rows past the tile's last stand in for its first: computed, not stored.
    const double* a[kMicroRows];
    for (Index r = 0; r < kMicroRows; ++r) {
      const Index i = i0 + (r < rows ? r : 0);
      a[r] = panel + (i / kLanes) * group_stride + i % kLanes;
    }
    for (Index p = t.p0; p < last_pair; ++p) {
      const Index j0 = p * kMicroCols;
      // Groups past the last one stand in for themselves' first group: their
      // columns lie beyond n and are not stored.
      const double* b[kMicroGroups];
      for (Index h = 0; h < kMicroGroups; ++h) {
        const Index gb = p * kMicroGroups + h;
        b[h] = panel + (gb < groups ? gb : p * kMicroGroups) * group_stride;
      }
      micro_kernel<kMicroRows, kMicroGroups>(a, b, k, c + i0 * ldc + j0, ldc, rows,
                                             std::min(kMicroCols, n - j0), overwrite);
    }
  }
}

}  // namespace descramble::detail
