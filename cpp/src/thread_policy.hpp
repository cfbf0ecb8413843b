// The core's one thread policy: the OpenMP wrappers every parallel kernel
// uses, and every size from which a kernel lets more than one thread work.
//
// All parallel work follows the calling thread's OpenMP setting
// (omp_get_max_threads(), a per-thread value that threadpoolctl and
// omp_set_num_threads change). Below each crossover the work is too short to
// repay waking a second thread, and on a shared machine far shorter than the
// scheduler time slice a woken thread may wait for its core. The reasons and
// the bench/ cases that measure them are in docs/tuning.md; descramble::
// crossovers() (and _core.crossovers() in Python) lists the values by name so
// that tests place their cases on both sides of each one.
#pragma once

#include "descramble/types.hpp"

#ifdef DESCRAMBLE_HAVE_OPENMP
#include <omp.h>
#endif

namespace descramble::detail {

// Threads the calling thread's OpenMP setting allows (1 without OpenMP).
inline int max_threads() {
#ifdef DESCRAMBLE_HAVE_OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

// This thread's number in the innermost parallel region (0 outside one).
inline int thread_id() {
#ifdef DESCRAMBLE_HAVE_OPENMP
  return omp_get_thread_num();
#else
  return 0;
#endif
}

// The team actually granted, which can be smaller than requested (nested
// regions, thread limits): callers split work by the requested count and let
// each thread also take the shares of absent ones, so none is ever skipped.
inline int team_size() {
#ifdef DESCRAMBLE_HAVE_OPENMP
  return omp_get_num_threads();
#else
  return 1;
#endif
}

// Limits the calling thread's OpenMP threads (which Eigen's GEMM and our own
// parallel loops both follow) to one for the lifetime of the guard when
// `one_thread` is set; restores the previous setting on exit.
class ThreadLimit {
 public:
  explicit ThreadLimit(bool one_thread) {
#ifdef DESCRAMBLE_HAVE_OPENMP
    saved_ = omp_get_max_threads();
    if (one_thread) omp_set_num_threads(1);
#else
    (void)one_thread;
#endif
  }
  ~ThreadLimit() {
#ifdef DESCRAMBLE_HAVE_OPENMP
    omp_set_num_threads(saved_);
#endif
  }
  ThreadLimit(const ThreadLimit&) = delete;
  ThreadLimit& operator=(const ThreadLimit&) = delete;

 private:
  int saved_ = 1;
};

// Eigensolver phases (matrix order n): each phase runs on one thread below
// its own crossover, because they parallelise differently.
//
// The reduction is half memory-bound matrix-vector work synchronised a few
// times per column; two threads only win once a column's work is long.
constexpr Index kEighReduceParallelMin = 448;
// The back-transformation is GEMM-rich and splits into independent column
// slabs, so it pays from a smaller size than the other phases; but at n = 256
// it saves less than a call after idle time waits for the second thread to
// wake (measurements in docs/tuning.md).
constexpr Index kEighBackParallelMin = 320;
// Divide and conquer below this runs its merges as many short parallel loops
// whose fork/join waits for a time slice whenever the other core is busy;
// from here it solves the two top halves on a thread each instead.
constexpr Index kEighDcParallelMin = 512;
// Inside one divide-and-conquer merge of order n with k undeflated roots:
// reordering the columns, and finding the roots and Gu-Eisenstat's z.
constexpr Index kDcMergeCopyParallelMin = 256;
constexpr Index kDcSecularParallelMin = 64;
// Entries of a merge's eigenvector product (rows x columns) from which its
// column ranges go to separate threads, one single-threaded GEMM each.
constexpr Index kDcProductParallelEntries = Index{256} * 256;
// Entries of the eigensolver's input from which its tiled row-to-column-major
// copy is split over threads: below, the copy is done before a thread wakes.
constexpr Index kLayoutCopyParallelEntries = Index{512} * 512;
// Rows per task of eigh_leading's lower symmetric product; orders above one
// stripe give every thread tasks. Each stripe is walked in tiles of
// kLeadingProductTile columns: a 256 x 128 tile of doubles (256 KB) stays in
// a 512 KB L2 between its two uses.
constexpr Index kLeadingProductStripe = 256;
constexpr Index kLeadingProductTile = 128;

// Streaming statistics (Moments, syrk, sketches).
//
// Entries from which a memory-bound pass is threaded: a batch's validation,
// column sums and centring, a merge or mirror of an n x n state, faulting in
// panel buffers. Below, the pass ends before a second thread would start.
constexpr Index kStreamPassParallelEntries = Index{1} << 20;
// Flops (rows x n x n) of a batch's rank-k update from which it is threaded;
// below, waking a second thread costs more than the half it would take over.
// A thread that slept through a pause can take milliseconds to wake on a
// shared or virtual machine (measurements in docs/tuning.md). Kept below
// 2 x kMinRowsPerThread x kRankUpdateSharedPanelMin^2 so that the row split's
// two-share rule can still be reached.
constexpr Index kRankUpdateParallelFlops = 32'000'000;
// Order from which the threads of the rank-k update share the tiles of each
// panel; below, the lower triangle has too few tiles to keep them all busy,
// and each thread takes a range of rows into an accumulator of its own.
constexpr Index kRankUpdateSharedPanelMin = 512;
// Fewest rows a thread gets when threads split a batch by rows: a smaller
// share would not repay the thread's own accumulator or partial sums.
constexpr Index kMinRowsPerThread = 64;
static_assert(kRankUpdateParallelFlops <
                  2 * kMinRowsPerThread * kRankUpdateSharedPanelMin * kRankUpdateSharedPanelMin,
              "a threaded row split must be able to have fewer than two shares of rows");

// Batches of independent problems (eigh stacks, assignment batches): from
// this many problems, each goes whole to one thread, which solves it alone.
constexpr Index kBatchParallelMin = 2;

}  // namespace descramble::detail
