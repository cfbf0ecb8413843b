// Internal to moments.cpp: the symmetric rank-k update C += P^T P on a packed
// float64 panel, lower triangle only.
//
// Panel layout: variables in groups of 8 ("lanes"); group g holds, for each
// sample k, the 8 values of variables 8g..8g+7 contiguously at
// panel[(g * ldk + k) * 8 + lane] (lanes past n are zero). One layout serves
// both operands of the product, so the centring pass writes the panel once and
// no GEMM packing follows. A micro-tile updates 8 rows x 16 columns of the
// row-major n x n result with 16 AVX-512 accumulators: a row of C is two
// vectors, so results are stored with plain (masked at the edge) vector adds.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "descramble/types.hpp"

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace descramble::detail {

constexpr Index kLanes = 8;
constexpr Index kMicroRows = 8;   // rows of C per micro-tile (one group, broadcast)
constexpr Index kMicroCols = 16;  // columns of C per micro-tile (two groups, vectors)

// Row groups per side of a (square) tile of C, as measured on Zen 4. Wide
// results: 256 x 256 tiles (128 x 128 ran 2-3% slower at n = 4096). From 512
// to 2047 variables the threads share each panel's tiles, and a 256-wide grid
// leaves too few of them (10 at n = 1024) to finish a panel together; 128 x
// 128 tiles run as fast there and balance to within a small tile. Narrow
// results, which each thread updates whole, run 20% faster as one 256-wide
// tile than as three 128-wide ones at n = 256.
inline Index tile_groups(Index n) { return n >= 512 && n < 2048 ? 16 : 32; }

// C[r, 0:16] += sum_k a[k][r] * (b0[k] | b1[k]) for the first `rows` rows
// (`overwrite`: C[r, 0:16] = the sum, C is then never read); column lanes
// outside mask0/mask1 are left untouched.
inline void micro_kernel(const double* a, const double* b0, const double* b1, Index k, double* c,
                         Index ldc, Index rows, std::uint8_t mask0, std::uint8_t mask1,
                         bool overwrite) {
#if defined(__AVX512F__)
  // The result rows are touched once per panel; for wide states they come
  // from DRAM, so their fetch is started now and hidden behind the k loop.
#pragma GCC unroll 8
  for (int r = 0; r < kMicroRows; ++r) {
    _mm_prefetch(reinterpret_cast<const char*>(c + r * ldc), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(c + r * ldc + kLanes), _MM_HINT_T0);
  }
  __m512d acc0[kMicroRows], acc1[kMicroRows];
#pragma GCC unroll 8
  for (int r = 0; r < kMicroRows; ++r) {
    acc0[r] = _mm512_setzero_pd();
    acc1[r] = _mm512_setzero_pd();
  }
  for (Index kk = 0; kk < k; ++kk) {
    const __m512d v0 = _mm512_loadu_pd(b0 + kk * kLanes);
    const __m512d v1 = _mm512_loadu_pd(b1 + kk * kLanes);
    const double* ak = a + kk * kLanes;
#pragma GCC unroll 8
    for (int r = 0; r < kMicroRows; ++r) {
      const __m512d s = _mm512_set1_pd(ak[r]);
      acc0[r] = _mm512_fmadd_pd(s, v0, acc0[r]);
      acc1[r] = _mm512_fmadd_pd(s, v1, acc1[r]);
    }
  }
  // Constant indices only (the row test inside), so that the accumulators
  // stay in registers instead of being mirrored to the stack.
#pragma GCC unroll 8
  for (int r = 0; r < kMicroRows; ++r) {
    if (r < rows) {
      double* row = c + r * ldc;
      if (!overwrite) {
        acc0[r] = _mm512_add_pd(_mm512_maskz_loadu_pd(mask0, row), acc0[r]);
        acc1[r] = _mm512_add_pd(_mm512_maskz_loadu_pd(mask1, row + kLanes), acc1[r]);
      }
      _mm512_mask_storeu_pd(row, mask0, acc0[r]);
      _mm512_mask_storeu_pd(row + kLanes, mask1, acc1[r]);
    }
  }
#else
  // Portable builds: the same blocking in plain loops, left to the vectoriser.
  double acc[kMicroRows][kMicroCols] = {};
  for (Index kk = 0; kk < k; ++kk) {
    const double* ak = a + kk * kLanes;
    const double* v0 = b0 + kk * kLanes;
    const double* v1 = b1 + kk * kLanes;
    for (Index r = 0; r < kMicroRows; ++r) {
      for (Index l = 0; l < kLanes; ++l) {
        acc[r][l] += ak[r] * v0[l];
        acc[r][kLanes + l] += ak[r] * v1[l];
      }
    }
  }
  for (Index r = 0; r < rows; ++r) {
    for (Index l = 0; l < kLanes; ++l) {
      double* c0 = c + r * ldc + l;
      double* c1 = c0 + kLanes;
      if (mask0 >> l & 1) *c0 = overwrite ? acc[r][l] : *c0 + acc[r][l];
      if (mask1 >> l & 1) *c1 = overwrite ? acc[r][kLanes + l] : *c1 + acc[r][kLanes + l];
    }
  }
#endif
}

inline std::uint8_t lane_mask(Index first_col, Index n) {
  const Index left = n - first_col;
  if (left >= kLanes) return 0xFF;
  if (left <= 0) return 0;
  return static_cast<std::uint8_t>((1u << left) - 1u);
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
  for (Index g = t.g0; g < t.g1; ++g) {
    const Index i0 = g * kLanes;
    const Index rows = std::min(kLanes, n - i0);
    const Index last_pair = std::min(t.p1, (i0 + kLanes - 1) / kMicroCols + 1);
    const double* a = panel + g * ldk * kLanes;
    for (Index p = t.p0; p < last_pair; ++p) {
      const Index j0 = p * kMicroCols;
      const Index gb = 2 * p;
      const double* b0 = panel + gb * ldk * kLanes;
      const double* b1 = gb + 1 < groups ? b0 + ldk * kLanes : b0;
      micro_kernel(a, b0, b1, k, c + i0 * ldc + j0, ldc, rows, lane_mask(j0, n),
                   gb + 1 < groups ? lane_mask(j0 + kLanes, n) : 0, overwrite);
    }
  }
}

}  // namespace descramble::detail
