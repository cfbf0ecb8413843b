// Linear sum assignment: Jonker-Volgenant initialisation followed by Dijkstra
// shortest augmenting paths with dense, vectorisable inner loops.
//
// R. Jonker, A. Volgenant, "A shortest augmenting path algorithm for dense and
// sparse linear assignment problems", Computing 38 (1987) 325-340,
// doi:10.1007/BF02278710.  D. F. Crouse, "On implementing 2D rectangular
// assignment algorithms", IEEE Trans. Aerosp. Electron. Syst. 52 (2016)
// 1679-1696, doi:10.1109/TAES.2016.140952.
#include "descramble/assignment.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "thread_policy.hpp"

namespace descramble {
namespace detail {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
// Row passes keep the minimum of every block of kBlock columns, so that a
// search for the entries at the minimum reads one block, not the whole row.
// 128 doubles: long enough for the vectorised loop, short enough to search.
constexpr Index kBlock = 128;

// The free columns are tracked by a list instead of per-column markers once
// there are at most nc / kFewFree of them.
constexpr Index kFewFree = 16;

// Up to nc / kProbeFree free columns, the rows of a batch first check the
// free columns alone (a gather touching at most ~1 in 4 of a row's cache
// lines). On large integer problems the search mostly ends at the first
// probe that hits, which saves most full row scans (docs/tuning.md).
constexpr Index kProbeFree = 32;

// Immediate re-processings allowed per row in one augmenting row reduction:
// nc / kBudgetDivisor, between 1 / 4 and kBudgetMax. The cap matters because
// in floating point the exchanges can cycle on tiny gaps. A re-processing is
// a cheap read-only pass over a row, a shortest-path row scan also updates
// the distances: once the matrix leaves the cache a longer reduction saves
// more row scans than it costs, while on small matrices it does not pay.
constexpr Index kBudgetDivisor = 512;
constexpr Index kBudgetMax = 16;

// min(a, b) by value. Inside `omp simd reduction(min : ...)` loops GCC turns
// std::min (which returns a reference) into gathers and stack traffic; this
// plain select stays a vector min in registers.
inline double lesser(double a, double b) { return b < a ? b : a; }
const char* const kInvalid = "matrix contains invalid numeric entries";
const char* const kInfeasible = "cost matrix is infeasible";

// Duals and path lengths are alternating sums of up to 2 min(nr, nc) costs,
// so finite costs near the largest double overflow them (an overflowed
// distance would read as a forbidden pair). Costs of magnitude >= kHuge are
// flagged by the validation passes, and the problem is then solved on a copy
// scaled by a power of two (exact, same optimal matching) whose largest entry
// lies below kHuge: 2^33 such sums stay finite.
constexpr double kHuge = 0x1p960;
// The validation passes sum x * kFlagFactor over a row: the sum is finite
// unless an entry is NaN, infinite or >= 2^1024 / kFlagFactor = kHuge in
// magnitude (or, rarely, finite terms overflow it: the exact check then finds
// nothing), so one multiply-add per entry flags the rows to check exactly.
constexpr double kFlagFactor = 0x1p64;

// Thrown by the validation when a cost reaches kHuge; caught by solve_wide.
struct HugeCosts {};

// The solver works on nr <= nc rows of a row-major matrix and minimises
// Sign * C: maximisation reads the costs negated instead of copying them.
// Only column duals v are stored; a row's dual is implicit,
// u_i = C[i, col4row[i]] - v[col4row[i]], which is the minimum reduced cost of
// row i (JV's invariant), so every reduced cost C[i, j] - u_i - v_j >= 0.
template <class T, bool Max>
class Solver {
 public:
  Solver(const T* c, Index nr, Index nc, Index stride)
      : c_(c),
        nr_(nr),
        nc_(nc),
        stride_(stride),
        v_(nc, 0.0),
        vw_(nc, 0.0),
        d_(nc, kInf),
        dfin_(nc, 0.0),
        fb_(nc, 0.0),
        pred_(nc, -1),
        row4col_(nc, -1),
        col4row_(nr, -1),
        bmin_((nc + kBlock - 1) / kBlock, kInf) {}

  void solve(std::int64_t* col_out) {
    std::vector<Index> free_rows;
    bool has_forbidden;
    if (nr_ == nc_) {
      // Column reduction needs a square matrix (on a wide one the free
      // columns' duals would differ) and finite column minima. They are found
      // in the same pass as the validation (the passes over the matrix are
      // what costs on easy problems); if a forbidden entry turns up, that work
      // is dropped.
      has_forbidden = column_minima();
      if (!has_forbidden) {
        column_reduction(free_rows);
        augmenting_row_reduction<false>(free_rows);
        augmenting_row_reduction<false>(free_rows);
      }
    } else {
      // Wide: augmenting row reduction from v = 0 over every row, its first
      // pass validating the matrix.
      free_rows.resize(nr_);
      for (Index i = 0; i < nr_; ++i) free_rows[i] = i;
      has_forbidden = !augmenting_row_reduction<true>(free_rows);
      if (has_forbidden) {
        validate();  // the rows the reduction did not reach
      } else {
        augmenting_row_reduction<false>(free_rows);
      }
    }
    if (has_forbidden) {
      std::fill(v_.begin(), v_.end(), 0.0);
      std::fill(row4col_.begin(), row4col_.end(), -1);
      std::fill(col4row_.begin(), col4row_.end(), -1);
      free_rows.resize(nr_);
      for (Index i = 0; i < nr_; ++i) free_rows[i] = i;
    }
    vw_ = v_;  // the working copy of the duals used by relax()
    // Free columns stay free until an augmenting path ends there.
    for (Index j = 0; j < nc_; ++j) {
      fb_[j] = row4col_[j] < 0 ? 0.0 : kInf;
      if (row4col_[j] < 0) free_cols_.push_back(j);
    }
    for (Index f : free_rows) augment(f);
    for (Index i = 0; i < nr_; ++i) col_out[i] = col4row_[i];
  }

 private:
  const T* row(Index i) const { return c_ + i * stride_; }
  double cost(Index i, Index j) const {
    const double x = static_cast<double>(row(i)[j]);
    return Max ? -x : x;
  }

  // One pass over the costs: rejects NaN and -inf (after the sign flip) and
  // returns whether +inf occurs.
  bool validate() const {
    bool forbidden = false;
    for (Index i = 0; i < nr_; ++i) {
      if (row_flagged(row(i))) forbidden = classify(i) || forbidden;
    }
    return forbidden;
  }

  // Whether a row may hold a NaN, infinite or huge (>= kHuge) entry (see
  // kFlagFactor); classify() then checks it exactly.
  bool row_flagged(const T* ci) const {
    double flagged = 0.0;
#pragma omp simd reduction(+ : flagged)
    for (Index j = 0; j < nc_; ++j) flagged += static_cast<double>(ci[j]) * kFlagFactor;
    return !std::isfinite(flagged);
  }

  // Validation (as validate()) fused with the column minima v_j and their
  // rows argrow_: one pass over a square matrix. Returns whether +inf occurs.
  bool column_minima() {
    std::fill(v_.begin(), v_.end(), kInf);
    argrow_.assign(nc_, 0);
    double* v = v_.data();
    Index* arg = argrow_.data();
    bool forbidden = false;
    for (Index i = 0; i < nr_; ++i) {
      const T* ci = row(i);
      // Two loops over the row (the second reads it from L1): GCC keeps a
      // reduction in a loop with conditional stores in memory, not in a
      // register, which costs a store-to-load round trip per vector.
#pragma omp simd
      for (Index j = 0; j < nc_; ++j) {
        const double x = Max ? -static_cast<double>(ci[j]) : static_cast<double>(ci[j]);
        const bool lower = x < v[j];  // strict: the lowest row wins a tie
        v[j] = lower ? x : v[j];
        arg[j] = lower ? i : arg[j];
      }
      if (row_flagged(ci)) forbidden = classify(i) || forbidden;
    }
    return forbidden;
  }

  // Column reduction and reduction transfer (JV 1987, section 4): v_j is the
  // column minimum; each row that is the minimum of exactly one column takes
  // it, and its dual is then raised to its second-smallest reduced cost.
  // (Row duals stay implicit; see the class comment.)
  void column_reduction(std::vector<Index>& free_rows) {
    const Index n = nr_;
    const std::vector<Index>& argrow = argrow_;
    std::vector<int> matches(n, 0);
    // A row that is the minimum of several columns keeps the lowest of them
    // (JV visit the columns in reverse; the order is free). With the lowest
    // free column taken on ties later on, a constant matrix gets the identity,
    // the matching scipy's solver returns.
    for (Index j = 0; j < n; ++j) {
      const Index i = argrow[j];
      if (matches[i]++ == 0) {
        col4row_[i] = j;
        row4col_[j] = i;
      }
    }
    for (Index i = 0; i < n; ++i) {
      if (matches[i] == 0) free_rows.push_back(i);
    }
    // The transfer only prepares the free rows' augmentations (the duals are
    // feasible and every assigned pair tight without it): with no free row
    // left, as on planted problems, it would be a wasted pass over the matrix.
    if (free_rows.empty()) return;
    for (Index i = 0; i < n; ++i) {
      if (matches[i] == 1) {
        const Index j1 = col4row_[i];
        const T* ci = row(i);
        const double* v = v_.data();
        double m = kInf;
        // Every column but j1, without a branch in the loop (it vectorises).
#pragma omp simd reduction(min : m)
        for (Index j = 0; j < n; ++j) {
          const double x = (Max ? -static_cast<double>(ci[j]) : static_cast<double>(ci[j])) - v[j];
          m = lesser(m, j == j1 ? kInf : x);
        }
        if (m < kInf) v_[j1] -= m;
      }
    }
  }

  // Smallest reduced cost u1 of row i, its lowest column j1, and the smallest
  // reduced cost u2 over the other columns (u2 == u1 on a tie). The first
  // pass keeps the minimum of every block of kBlock columns (plain min
  // reductions vectorise well, unlike a running two-smallest); the second
  // looks only at the block holding u1, for j1 and the block's runner-up,
  // which the other blocks' minima complete to u2. With Check the first pass
  // also validates the row (it is the first pass over a rectangular matrix):
  // it throws on NaN or -inf and returns whether +inf occurs.
  template <bool Check>
  bool two_smallest(Index i, double& u1, Index& j1, double& u2) {
    const T* ci = row(i);
    const double* v = v_.data();
    double* bmin = bmin_.data();
    // One multiply-add per entry flags a row that may hold a NaN, infinite or
    // huge entry (see kFlagFactor); it is then classified exactly (rarely).
    double flagged = 0.0;
    double m = kInf;
    Index mb = 0;
    for (Index b = 0, lo = 0; lo < nc_; ++b, lo += kBlock) {
      const Index hi = std::min(lo + kBlock, nc_);
      double bm = kInf;
#pragma omp simd reduction(min : bm) reduction(+ : flagged)
      for (Index j = lo; j < hi; ++j) {
        const double x = (Max ? -static_cast<double>(ci[j]) : static_cast<double>(ci[j])) - v[j];
        if (Check) flagged += x * kFlagFactor;
        bm = lesser(bm, x);
      }
      bmin[b] = bm;
      if (bm < m) {  // strict: the lowest block wins a tie
        m = bm;
        mb = b;
      }
    }
    if (Check && !std::isfinite(flagged) && classify(i)) return true;
    const Index lo = mb * kBlock, hi = std::min(lo + kBlock, nc_);
    Index first = hi;
    long long count = 0;
    double above = kInf;
#pragma omp simd reduction(min : first, above) reduction(+ : count)
    for (Index j = lo; j < hi; ++j) {
      const double x = (Max ? -static_cast<double>(ci[j]) : static_cast<double>(ci[j])) - v[j];
      const bool at_min = x == m;
      const Index cand = at_min ? j : hi;
      first = cand < first ? cand : first;
      count += at_min;
      above = lesser(above, at_min ? kInf : x);
    }
    double second = count > 1 ? m : above;
    const Index nblocks = static_cast<Index>(bmin_.size());
    for (Index b = 0; b < nblocks; ++b) {
      if (b != mb) second = lesser(second, bmin[b]);
    }
    u1 = m;
    j1 = first;
    u2 = second;
    return false;
  }

  // Exact check of row i, whose pass flagged a NaN, infinite or huge entry:
  // throws std::invalid_argument on NaN or -inf (after the sign flip) and
  // HugeCosts on a finite entry of magnitude >= kHuge (NaN first: an invalid
  // matrix is reported whatever its scale); returns whether +inf occurs.
  bool classify(Index i) const {
    const T* ci = row(i);
    bool forbidden = false, huge = false;
    for (Index j = 0; j < nc_; ++j) {
      const double x = Max ? -static_cast<double>(ci[j]) : static_cast<double>(ci[j]);
      if (!(x > -kInf)) throw std::invalid_argument(kInvalid);
      forbidden = forbidden || x == kInf;
      huge = huge || (x != kInf && std::abs(x) >= kHuge);
    }
    if (huge) throw HugeCosts{};
    return forbidden;
  }

  // On a tie (u1 == u2) in row i, the column the row takes: the lowest free
  // column at the minimum if there is one (nobody is evicted: on integer
  // costs most rows have several such columns), else the lowest column at the
  // minimum other than `first`. Only the blocks whose minimum (kept by
  // two_smallest for this row) equals u1 are read.
  Index tie_column(Index i, double u1, Index first) const {
    const T* ci = row(i);
    const double* v = v_.data();
    Index other = -1;
    const Index nblocks = static_cast<Index>(bmin_.size());
    for (Index b = 0; b < nblocks; ++b) {
      if (bmin_[b] != u1) continue;
      const Index hi = std::min((b + 1) * kBlock, nc_);
      for (Index j = b * kBlock; j < hi; ++j) {
        const double c = Max ? -static_cast<double>(ci[j]) : static_cast<double>(ci[j]);
        if (c - v[j] != u1) continue;
        if (row4col_[j] < 0) return j;
        if (other < 0 && j != first) other = j;
      }
    }
    return other;
  }

  // Augmenting row reduction (JV 1987): an auction-like pass in which each free
  // row takes its cheapest column, lowering that column's dual by the gap to
  // the second cheapest, and evicts the column's previous row, which is
  // re-processed at once while the budget (see kBudgetDivisor) lasts.
  //
  // Valid on a wide matrix too when started from v = 0: a dual is only lowered
  // on a column that is then assigned, and an assigned column stays assigned,
  // so the free columns keep equal (maximal) duals, the optimality condition
  // of the rectangular problem (Crouse 2016). With Check every row's first
  // visit validates it; returns false, leaving the state to be reset, as soon
  // as a +inf entry is seen (a forbidden pair can make the gap infinite).
  template <bool Check>
  bool augmenting_row_reduction(std::vector<Index>& free_rows) {
    const Index prev = static_cast<Index>(free_rows.size());
    if (prev == 0) return true;
    Index k = 0, nfree = 0;
    const Index scaled = nr_ * nc_ / kBudgetDivisor;
    Index budget = std::clamp<Index>(scaled, nr_ / 4, kBudgetMax * nr_) + 16;
    while (k < prev) {
      const Index i = free_rows[k++];
      double u1, u2;
      Index j1;
      if (two_smallest<Check>(i, u1, j1, u2)) return false;
      Index i0 = row4col_[j1];
      const bool strict = u1 < u2;
      if (strict) {
        if (u2 < kInf) v_[j1] -= u2 - u1;
      } else if (i0 >= 0) {
        j1 = tie_column(i, u1, j1);
        i0 = row4col_[j1];
      }
      row4col_[j1] = i;
      col4row_[i] = j1;
      if (i0 >= 0) {
        col4row_[i0] = -1;
        if (strict && budget > 0) {
          --budget;
          free_rows[--k] = i0;  // re-process the evicted row at once
        } else {
          free_rows[nfree++] = i0;
        }
      }
    }
    free_rows.resize(nfree);
    return true;
  }

  // Relaxes every unscanned column from row i at path length h - (its reduced
  // offset); returns the new minimum over unscanned columns. With TrackFree it
  // also sets best_free, the minimum over unscanned FREE columns (fb_ is 0
  // there, +inf on assigned ones); that costs one more load per column, so
  // it is only done where it can end a batch early. Scanned columns have
  // vw = -inf, so x = +inf there and they are never touched: no mask and no
  // branch, which lets the compiler vectorise the loop.
  template <bool TrackFree>
  double relax(Index i, double h, double* best_free) {
    const T* ci = row(i);
    double* d = d_.data();
    const double* vw = vw_.data();
    const double* fb = fb_.data();
    std::int32_t* pred = pred_.data();
    const std::int32_t row_index = static_cast<std::int32_t>(i);
    double* bmin = bmin_.data();
    double best = kInf, bf = kInf;
    for (Index b = 0, lo = 0; lo < nc_; ++b, lo += kBlock) {
      const Index hi = std::min(lo + kBlock, nc_);
      double bm = kInf;
#pragma omp simd reduction(min : bm, bf)
      for (Index j = lo; j < hi; ++j) {
        const double cij = Max ? -static_cast<double>(ci[j]) : static_cast<double>(ci[j]);
        const double x = h + cij - vw[j];
        double dj = d[j];
        const bool better = x < dj;
        dj = better ? x : dj;
        pred[j] = better ? row_index : pred[j];
        d[j] = dj;
        bm = lesser(bm, dj);
        if (TrackFree) bf = lesser(bf, dj + fb[j]);
      }
      bmin[b] = bm;
      best = lesser(best, bm);
    }
    if (TrackFree) *best_free = bf;
    return best;
  }

  // The first free column (in list order) that row i reaches at distance
  // `level` from path length h, made the end of the path; -1 if none. The
  // distance is computed as relax() computes it, so that equality is exact.
  Index free_at_level(Index i, double h, double level) {
    const T* ci = row(i);
    for (Index k : free_cols_) {
      const double cik = Max ? -static_cast<double>(ci[k]) : static_cast<double>(ci[k]);
      if (h + cik - vw_[k] == level) {
        d_[k] = level;
        pred_[k] = static_cast<std::int32_t>(i);
        return k;
      }
    }
    return -1;
  }

  // Dijkstra over reduced costs from free row f to the nearest free column.
  // Columns at the current minimum distance are taken as a batch (JV's SCAN
  // list), which saves minimum scans on integer costs full of ties; and a
  // batch stops as soon as a free column is reached at that same distance
  // (the path is then shortest), which on integer costs saves many of the
  // row scans. Columns of the batch whose rows were not scanned keep
  // their duals (their distance equals the path's).
  void augment(Index f) {
    std::fill(d_.begin(), d_.end(), kInf);
    scanned_.clear();
    double best = relax<false>(f, 0.0, nullptr);
    Index sink = -1;
    while (true) {
      if (!(best < kInf)) throw std::invalid_argument(kInfeasible);
      ties_.clear();
      // Only the blocks whose minimum (kept by relax) is `best` hold ties.
      const double* d = d_.data();
      const Index nblocks = static_cast<Index>(bmin_.size());
      for (Index b = 0; b < nblocks && sink < 0; ++b) {
        if (bmin_[b] != best) continue;
        const Index hi = std::min((b + 1) * kBlock, nc_);
        for (Index j = b * kBlock; j < hi; ++j) {
          if (d[j] == best) {
            if (fb_[j] == 0.0) {
              sink = j;
              break;
            }
            ties_.push_back(j);
          }
        }
      }
      if (sink >= 0) break;
      for (Index j : ties_) {
        dfin_[j] = best;
        d_[j] = kInf;
        vw_[j] = -kInf;
        scanned_.push_back(j);
      }
      const double level = best;
      if (ties_.size() == 1) {
        const Index j = ties_[0], i = row4col_[j];
        best = relax<false>(i, level - (cost(i, j) - v_[j]), nullptr);
        continue;
      }
      // Few free columns (late augmentations of a square problem): their
      // distances are read from the list after a plain relax instead of
      // loading the free markers for every column.
      const Index nfree = static_cast<Index>(free_cols_.size());
      const bool few_free = nfree * kFewFree <= nc_;
      // Very few: first the batch's rows are probed in the free columns alone
      // (a short gather per row); one reaching a free column at this level
      // ends the search without any full row scan. On integer costs most row
      // scans happen in the last batch, where this replaces them.
      if (nfree * kProbeFree <= nc_) {
        for (Index j : ties_) {
          const Index i = row4col_[j];
          sink = free_at_level(i, level - (cost(i, j) - v_[j]), level);
          if (sink >= 0) break;
        }
        if (sink >= 0) {
          best = level;
          break;
        }
      }
      for (Index j : ties_) {
        const Index i = row4col_[j];
        const double h = level - (cost(i, j) - v_[j]);
        double best_free = kInf;
        if (few_free) {
          best = relax<false>(i, h, nullptr);
          for (Index k : free_cols_) best_free = lesser(best_free, d_[k]);
        } else {
          best = relax<true>(i, h, &best_free);
        }
        if (best_free == level) break;
      }
    }
    fb_[sink] = kInf;
    *std::find(free_cols_.begin(), free_cols_.end(), sink) = free_cols_.back();
    free_cols_.pop_back();
    // Dual update keeps the reduced costs non-negative and the new path tight.
    for (Index j : scanned_) {
      v_[j] += dfin_[j] - best;
      vw_[j] = v_[j];
    }
    Index j = sink;
    while (true) {
      const Index i = pred_[j];
      row4col_[j] = i;
      const Index prev = col4row_[i];
      col4row_[i] = j;
      if (i == f) break;
      j = prev;
    }
  }

  const T* c_;
  Index nr_, nc_, stride_;
  std::vector<double> v_, vw_, d_, dfin_, fb_;
  std::vector<std::int32_t> pred_;  // 32 bits: less traffic in the relax loop
  std::vector<Index> row4col_, col4row_;
  std::vector<Index> scanned_, ties_, argrow_, free_cols_;
  std::vector<double> bmin_;  // the minimum of each block of kBlock columns
};

template <class T>
void solve_unscaled(const T* c, Index nr, Index nc, Index stride, bool maximize,
                    std::int64_t* col_out) {
  if (maximize) {
    Solver<T, true>(c, nr, nc, stride).solve(col_out);
  } else {
    Solver<T, false>(c, nr, nc, stride).solve(col_out);
  }
}

// Solves an nr <= nc problem; col_out[i] is the column of row i. Costs of
// magnitude >= kHuge are solved on a copy scaled by a power of two (see
// kHuge): exact for every entry above the subnormal range, which is far below
// the rounding of sums of such costs.
template <class T>
void solve_wide(const T* c, Index nr, Index nc, Index stride, bool maximize,
                std::int64_t* col_out) {
  try {
    solve_unscaled(c, nr, nc, stride, maximize, col_out);
    return;
  } catch (const HugeCosts&) {
  }
  double largest = 0.0;
  for (Index i = 0; i < nr; ++i) {
    for (Index j = 0; j < nc; ++j) {
      const double x = std::abs(static_cast<double>(c[i * stride + j]));
      if (x < kInf) largest = std::max(largest, x);
    }
  }
  int exponent = 0;
  std::frexp(largest, &exponent);  // largest < 2^exponent
  const double scale = std::ldexp(1.0, std::ilogb(kHuge) - 1 - exponent);
  RowMatrixXd scaled(nr, nc);
  for (Index i = 0; i < nr; ++i) {
    for (Index j = 0; j < nc; ++j) scaled(i, j) = static_cast<double>(c[i * stride + j]) * scale;
  }
  solve_unscaled(scaled.data(), nr, nc, nc, maximize, col_out);
}

}  // namespace
}  // namespace detail

template <class T>
void linear_sum_assignment(const T* cost, Index nr, Index nc, Index stride, bool maximize,
                           std::int64_t* row_ind, std::int64_t* col_ind) {
  if (nr < 0 || nc < 0 || (nr > 0 && stride < nc)) {
    throw std::invalid_argument("linear_sum_assignment: invalid matrix shape or stride");
  }
  if (std::min(nr, nc) > std::numeric_limits<std::int32_t>::max()) {
    // The solver stores path predecessors (row indices) as 32-bit integers.
    throw std::invalid_argument("linear_sum_assignment: more than 2**31 - 1 rows and columns");
  }
  if (nr == 0 || nc == 0) return;
  if (nr <= nc) {
    detail::solve_wide(cost, nr, nc, stride, maximize, col_ind);
    for (Index i = 0; i < nr; ++i) row_ind[i] = i;
    return;
  }
  // Tall: solve the transpose (rows <= columns) and read the matching back in
  // increasing original row order.
  RowMatrix<T> t(nc, nr);
  // In tiles, so that both the reads and the strided writes stay in cache.
  constexpr Index kTile = 32;
  for (Index i0 = 0; i0 < nr; i0 += kTile) {
    const Index i1 = std::min(i0 + kTile, nr);
    for (Index j0 = 0; j0 < nc; j0 += kTile) {
      const Index j1 = std::min(j0 + kTile, nc);
      for (Index i = i0; i < i1; ++i) {
        for (Index j = j0; j < j1; ++j) t(j, i) = cost[i * stride + j];
      }
    }
  }
  std::vector<std::int64_t> row_of_col(nc);
  detail::solve_wide(t.data(), nc, nr, nr, maximize, row_of_col.data());
  std::vector<std::int64_t> col_of_row(nr, -1);
  for (Index j = 0; j < nc; ++j) col_of_row[row_of_col[j]] = j;
  Index k = 0;
  for (Index i = 0; i < nr; ++i) {
    if (col_of_row[i] >= 0) {
      row_ind[k] = i;
      col_ind[k] = col_of_row[i];
      ++k;
    }
  }
}

template <class T>
AssignmentResult linear_sum_assignment(const Eigen::Ref<const RowMatrix<T>>& cost, bool maximize) {
  const Index k = std::min(cost.rows(), cost.cols());
  AssignmentResult r;
  r.row_ind.resize(k);
  r.col_ind.resize(k);
  linear_sum_assignment(cost.data(), cost.rows(), cost.cols(), cost.outerStride(), maximize,
                        r.row_ind.data(), r.col_ind.data());
  return r;
}

template <class T>
void linear_sum_assignment_batch(const std::vector<AssignmentProblem<T>>& problems, bool maximize,
                                 std::vector<AssignmentResult>& results,
                                 std::vector<std::string>& errors) {
  const Index count = static_cast<Index>(problems.size());
  results.assign(count, AssignmentResult{});
  errors.assign(count, std::string());
  // Each problem is independent: one thread solves it whole, so exceptions are
  // caught per problem and never cross the OpenMP region.
#pragma omp parallel for schedule(dynamic, 1) if (count >= detail::kBatchParallelMin)
  for (Index p = 0; p < count; ++p) {
    const AssignmentProblem<T>& q = problems[p];
    const Index k = std::min(q.nr, q.nc);
    try {
      results[p].row_ind.resize(k);
      results[p].col_ind.resize(k);
      linear_sum_assignment(q.cost, q.nr, q.nc, q.stride, maximize, results[p].row_ind.data(),
                            results[p].col_ind.data());
    } catch (const std::exception& e) {
      errors[p] = e.what();
    }
  }
}

template void linear_sum_assignment<float>(const float*, Index, Index, Index, bool, std::int64_t*,
                                           std::int64_t*);
template void linear_sum_assignment<double>(const double*, Index, Index, Index, bool, std::int64_t*,
                                            std::int64_t*);
template AssignmentResult linear_sum_assignment<float>(const Eigen::Ref<const RowMatrix<float>>&,
                                                       bool);
template AssignmentResult linear_sum_assignment<double>(const Eigen::Ref<const RowMatrix<double>>&,
                                                        bool);
template void linear_sum_assignment<std::int32_t>(const std::int32_t*, Index, Index, Index, bool,
                                                  std::int64_t*, std::int64_t*);
template void linear_sum_assignment<std::int64_t>(const std::int64_t*, Index, Index, Index, bool,
                                                  std::int64_t*, std::int64_t*);
template AssignmentResult linear_sum_assignment<std::int32_t>(
    const Eigen::Ref<const RowMatrix<std::int32_t>>&, bool);
template AssignmentResult linear_sum_assignment<std::int64_t>(
    const Eigen::Ref<const RowMatrix<std::int64_t>>&, bool);
template void linear_sum_assignment_batch<float>(const std::vector<AssignmentProblem<float>>&, bool,
                                                 std::vector<AssignmentResult>&,
                                                 std::vector<std::string>&);
template void linear_sum_assignment_batch<double>(const std::vector<AssignmentProblem<double>>&,
                                                  bool, std::vector<AssignmentResult>&,
                                                  std::vector<std::string>&);

}  // namespace descramble
