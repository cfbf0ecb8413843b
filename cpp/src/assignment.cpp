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

#ifdef DESCRAMBLE_HAVE_OPENMP
#include <omp.h>
#endif

namespace descramble {
namespace detail {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
const char* const kInvalid = "matrix contains invalid numeric entries";
const char* const kInfeasible = "cost matrix is infeasible";

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
        col4row_(nr, -1) {}

  void solve(std::int64_t* col_out) {
    std::vector<Index> free_rows;
    // JV's heuristics need a square, finite matrix: on a rectangular one the
    // duals of the columns left unassigned must all stay equal (Crouse), and
    // a forbidden entry breaks the column minima. On a square matrix the
    // column minima are found in the same pass as the validation (the passes
    // over the matrix are what costs on easy problems); if a forbidden entry
    // turns up, that work is dropped.
    const bool square = nr_ == nc_;
    const bool has_forbidden = square ? column_minima() : validate();
    if (square && !has_forbidden) {
      column_reduction(free_rows);
      augmenting_row_reduction(free_rows);
      augmenting_row_reduction(free_rows);
      vw_ = v_;  // the working copy of the duals used by relax()
    } else {
      std::fill(v_.begin(), v_.end(), 0.0);
      free_rows.resize(nr_);
      for (Index i = 0; i < nr_; ++i) free_rows[i] = i;
    }
    // Free columns stay free until an augmenting path ends there.
    for (Index j = 0; j < nc_; ++j) fb_[j] = row4col_[j] < 0 ? 0.0 : kInf;
    for (Index f : free_rows) augment(f);
    for (Index i = 0; i < nr_; ++i) col_out[i] = col4row_[i];
  }

 private:
  const T* row(Index i) const { return c_ + i * stride_; }
  double cost(Index i, Index j) const {
    const double x = static_cast<double>(row(i)[j]);
    return Max ? -x : x;
  }

  // One pass over the costs: rejects NaN and -inf (after the sign flip),
  // reports whether +inf occurs, and hands each entry x = c(i, j) (sign
  // applied) to visit(i, j, x), which is inlined into the vectorised loop.
  template <class Visit>
  bool scan(Visit&& visit) const {
    long long bad = 0, forbidden = 0;
    for (Index i = 0; i < nr_; ++i) {
      const T* ci = row(i);
#pragma omp simd reduction(+ : bad, forbidden)
      for (Index j = 0; j < nc_; ++j) {
        const double x = Max ? -static_cast<double>(ci[j]) : static_cast<double>(ci[j]);
        bad += !(x > -kInf);  // true for NaN and -inf
        forbidden += (x == kInf);
        visit(i, j, x);
      }
    }
    if (bad) throw std::invalid_argument(kInvalid);
    return forbidden > 0;
  }

  bool validate() const {
    return scan([](Index, Index, double) {});
  }

  // Validation fused with the column minima v_j (and their rows, argrow_):
  // one pass over a square matrix. Returns whether +inf occurs.
  bool column_minima() {
    std::fill(v_.begin(), v_.end(), kInf);
    argrow_.assign(nc_, 0);
    double* v = v_.data();
    Index* arg = argrow_.data();
    return scan([v, arg](Index i, Index j, double x) {
      const bool lower = x < v[j];  // strict: the lowest row wins a tie
      v[j] = lower ? x : v[j];
      arg[j] = lower ? i : arg[j];
    });
  }

  // Column reduction and reduction transfer (JV 1987, section 4): v_j is the
  // column minimum; each row that is the minimum of exactly one column takes
  // it, and its dual is then raised to its second-smallest reduced cost.
  // (Row duals stay implicit; see the class comment.)
  void column_reduction(std::vector<Index>& free_rows) {
    const Index n = nr_;
    const std::vector<Index>& argrow = argrow_;
    std::vector<int> matches(n, 0);
    // Columns in reverse, as in JV: a row that is the minimum of several
    // columns keeps the first one visited (the highest index).
    for (Index j = n - 1; j >= 0; --j) {
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
          m = std::min(m, j == j1 ? kInf : x);
        }
        if (m < kInf) v_[j1] -= m;
      }
    }
  }

  // Smallest and second-smallest reduced cost of row i, with their columns.
  void two_smallest(Index i, double& u1, Index& j1, double& u2, Index& j2) const {
    const T* ci = row(i);
    u1 = kInf;
    u2 = kInf;
    j1 = 0;
    j2 = -1;
    for (Index j = 0; j < nc_; ++j) {
      const double x = (Max ? -static_cast<double>(ci[j]) : static_cast<double>(ci[j])) - v_[j];
      if (x < u2) {
        if (x < u1) {
          u2 = u1;
          j2 = j1;
          u1 = x;
          j1 = j;
        } else {
          u2 = x;
          j2 = j;
        }
      }
    }
    if (j2 < 0) j2 = j1;
  }

  // Augmenting row reduction (JV 1987): an auction-like pass in which each free
  // row takes its cheapest column, lowering that column's dual by the gap to
  // the second cheapest, and evicts the column's previous row. The number of
  // immediate re-processings is capped because in floating point the gap can
  // be tiny and the exchange can cycle for a long time.
  void augmenting_row_reduction(std::vector<Index>& free_rows) {
    const Index prev = static_cast<Index>(free_rows.size());
    if (prev == 0) return;
    Index k = 0, nfree = 0;
    Index budget = 4 * nr_ + 16;
    while (k < prev) {
      const Index i = free_rows[k++];
      double u1, u2;
      Index j1, j2;
      two_smallest(i, u1, j1, u2, j2);
      Index i0 = row4col_[j1];
      const bool strict = u1 < u2;
      if (strict) {
        v_[j1] -= u2 - u1;
      } else if (i0 >= 0) {
        j1 = j2;
        i0 = row4col_[j2];
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
    Index* pred = pred_.data();
    double best = kInf, bf = kInf;
#pragma omp simd reduction(min : best, bf)
    for (Index j = 0; j < nc_; ++j) {
      const double cij = Max ? -static_cast<double>(ci[j]) : static_cast<double>(ci[j]);
      const double x = h + cij - vw[j];
      double dj = d[j];
      const bool better = x < dj;
      dj = better ? x : dj;
      pred[j] = better ? i : pred[j];
      d[j] = dj;
      best = std::min(best, dj);
      if (TrackFree) bf = std::min(bf, dj + fb[j]);
    }
    if (TrackFree) *best_free = bf;
    return best;
  }

  // Dijkstra over reduced costs from free row f to the nearest free column.
  // Columns at the current minimum distance are taken as a batch (JV's SCAN
  // list), which saves minimum scans on integer costs full of ties; and a
  // batch stops as soon as a free column is reached at that same distance
  // (the path is then shortest), which on integer costs saves about 40% of
  // the row scans. Columns of the batch whose rows were not scanned keep
  // their duals (their distance equals the path's).
  void augment(Index f) {
    std::fill(d_.begin(), d_.end(), kInf);
    scanned_.clear();
    double best = relax<false>(f, 0.0, nullptr);
    Index sink = -1;
    while (true) {
      if (!(best < kInf)) throw std::invalid_argument(kInfeasible);
      ties_.clear();
      for (Index j = 0; j < nc_; ++j) {
        if (d_[j] == best) {
          if (fb_[j] == 0.0) {
            sink = j;
            break;
          }
          ties_.push_back(j);
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
      for (Index j : ties_) {
        const Index i = row4col_[j];
        double best_free;
        best = relax<true>(i, level - (cost(i, j) - v_[j]), &best_free);
        if (best_free == level) break;
      }
    }
    fb_[sink] = kInf;
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
  std::vector<Index> pred_, row4col_, col4row_;
  std::vector<Index> scanned_, ties_, argrow_;
};

// Solves an nr <= nc problem; col_out[i] is the column of row i.
template <class T>
void solve_wide(const T* c, Index nr, Index nc, Index stride, bool maximize,
                std::int64_t* col_out) {
  if (maximize) {
    Solver<T, true>(c, nr, nc, stride).solve(col_out);
  } else {
    Solver<T, false>(c, nr, nc, stride).solve(col_out);
  }
}

}  // namespace
}  // namespace detail

template <class T>
void linear_sum_assignment(const T* cost, Index nr, Index nc, Index stride, bool maximize,
                           std::int64_t* row_ind, std::int64_t* col_ind) {
  if (nr < 0 || nc < 0 || (nr > 0 && stride < nc)) {
    throw std::invalid_argument("linear_sum_assignment: invalid matrix shape or stride");
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
  for (Index i = 0; i < nr; ++i) {
    for (Index j = 0; j < nc; ++j) t(j, i) = cost[i * stride + j];
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
#pragma omp parallel for schedule(dynamic, 1)
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
template void linear_sum_assignment_batch<float>(const std::vector<AssignmentProblem<float>>&, bool,
                                                 std::vector<AssignmentResult>&,
                                                 std::vector<std::string>&);
template void linear_sum_assignment_batch<double>(const std::vector<AssignmentProblem<double>>&,
                                                  bool, std::vector<AssignmentResult>&,
                                                  std::vector<std::string>&);

}  // namespace descramble
