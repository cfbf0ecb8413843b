// Internal: transposes of memory layout, vectorised at every kernel level.
//
// A kVector x kVector block is loaded as one vector per row, transposed in
// registers (Eigen's ptranspose) and stored as one vector per column, so that
// reads and writes alike are whole vectors along contiguous memory. Callers
// walk their matrices in square tiles that keep the source rows and the
// destination rows in cache; element-wise copying would stride a whole row
// for every element it writes.
#pragma once

#include <Eigen/Dense>
#include <algorithm>
#include <type_traits>

#include "descramble/types.hpp"
#include "packet.hpp"
#include "thread_policy.hpp"

namespace descramble::detail {

using PacketSquare = Eigen::internal::PacketBlock<Packet, kVector>;

// The kVector x kVector block at `src` (rows `lds` apart) in float64,
// transposed: packet c holds column c of the block.
template <class T>
inline PacketSquare load_transposed(const T* src, Index lds) {
  using namespace Eigen::internal;
  PacketSquare block;
  for (Index r = 0; r < kVector; ++r) {
    if constexpr (std::is_same_v<T, double>) {
      block.packet[r] = ploadu<Packet>(src + r * lds);
    } else {
      // A fixed-length conversion into a local array: vectorised (cvtps2pd).
      double wide[kVector];
      for (Index c = 0; c < kVector; ++c) wide[c] = static_cast<double>(src[r * lds + c]);
      block.packet[r] = ploadu<Packet>(wide);
    }
  }
  ptranspose(block);
  return block;
}

// dst[c * ldd + r] = src[r * lds + c] for r < rows, c < cols: whole blocks in
// vectors, the ragged bottom and right edges element by element.
inline void transpose_copy(const double* src, Index lds, double* dst, Index ldd, Index rows,
                           Index cols) {
  const Index whole_rows = rows - rows % kVector, whole_cols = cols - cols % kVector;
  for (Index r = 0; r < whole_rows; r += kVector) {
    for (Index c = 0; c < whole_cols; c += kVector) {
      const PacketSquare block = load_transposed(src + r * lds + c, lds);
      for (Index k = 0; k < kVector; ++k) {
        Eigen::internal::pstoreu(dst + (c + k) * ldd + r, block.packet[k]);
      }
    }
    for (Index c = whole_cols; c < cols; ++c) {
      for (Index k = 0; k < kVector; ++k) dst[c * ldd + r + k] = src[(r + k) * lds + c];
    }
  }
  for (Index r = whole_rows; r < rows; ++r) {
    for (Index c = 0; c < cols; ++c) dst[c * ldd + r] = src[r * lds + c];
  }
}

// A column-major copy of a row-major matrix, in 16 x 16 tiles (the
// eigensolver's input).
inline Eigen::MatrixXd column_major_copy(const Eigen::Ref<const RowMatrixXd>& a) {
  constexpr Index kTile = 16;
  static_assert(kTile % kVector == 0, "a tile is whole vector blocks");
  const Index rows = a.rows(), cols = a.cols(), lda = a.outerStride();
  Eigen::MatrixXd out(rows, cols);
  const double* src = a.data();
  double* dst = out.data();
  const Index col_tiles = (cols + kTile - 1) / kTile;
  const int threads = rows * cols < kLayoutCopyParallelEntries ? 1 : max_threads();
#pragma omp parallel for schedule(static) num_threads(threads)
  for (Index jt = 0; jt < col_tiles; ++jt) {
    const Index j0 = jt * kTile, j1 = std::min(cols, j0 + kTile);
    for (Index i0 = 0; i0 < rows; i0 += kTile) {
      const Index i1 = std::min(rows, i0 + kTile);
      transpose_copy(src + i0 * lda + j0, lda, dst + j0 * rows + i0, rows, i1 - i0, j1 - j0);
    }
  }
  return out;
}

// Makes the row-major n x n matrix `a` symmetric from its lower triangle
// (diagonal included), in place, in square tiles. Before a tile of the lower
// triangle is mirrored, fill(i, j0, j1) is called for each of its row
// segments [j0, j1) (j1 <= i + 1): a caller that writes the lower triangle
// from elsewhere does so in the same pass, while the tile is in cache.
template <class Fill>
void symmetrise_from_lower(double* a, Index n, const Fill& fill) {
  constexpr Index kTile = 64;
  static_assert(kTile % kVector == 0, "a tile is whole vector blocks");
  const Index tiles = (n + kTile - 1) / kTile;
  const int threads = n * n < kStreamPassParallelEntries ? 1 : max_threads();
  // Row band bi writes only its own rows and column band bi of the upper
  // triangle, so bands are independent; their lengths grow: dynamic chunks.
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
  for (Index bi = 0; bi < tiles; ++bi) {
    const Index i0 = bi * kTile, i1 = std::min(n, i0 + kTile);
    for (Index j0 = 0; j0 < i0; j0 += kTile) {
      const Index j1 = j0 + kTile;
      for (Index i = i0; i < i1; ++i) fill(i, j0, j1);
      transpose_copy(a + i0 * n + j0, n, a + j0 * n + i0, n, i1 - i0, j1 - j0);
    }
    // The diagonal tile, one band of kVector rows at a time: the part left of
    // the band's diagonal block in vectors, that block element by element.
    for (Index i = i0; i < i1; ++i) fill(i, i0, i + 1);
    for (Index r0 = i0; r0 < i1; r0 += kVector) {
      const Index r1 = std::min(i1, r0 + kVector);
      transpose_copy(a + r0 * n + i0, n, a + i0 * n + r0, n, r1 - r0, r0 - i0);
      for (Index i = r0; i < r1; ++i) {
        for (Index j = r0; j < i; ++j) a[j * n + i] = a[i * n + j];
      }
    }
  }
}

}  // namespace descramble::detail
