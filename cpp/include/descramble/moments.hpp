// Streaming first and second moments of hidden data (rows = samples).
//
// State: count, mean (n) and the centred scatter M2 = sum (x - mean)(x - mean)^T.
// Each batch is centred by its own mean and merged exactly (Chan, Golub,
// LeVeque, "Algorithms for computing the sample variance", Am. Stat. 1983):
//   M2 = M2_a + M2_b + (n_a n_b / n) d d^T,   mean = mean_a + (n_b / n) d,
// so partial results from any chunking merge into the one-pass answer. The
// raw Gram matrix sum x x^T (the papers' S S^T) is M2 + count mean mean^T.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>

#include "descramble/types.hpp"

namespace descramble {

namespace detail {
struct PanelBuffers;  // scratch of the rank-k update (moments.cpp)
}

class Moments {
 public:
  // Empty statistics of n >= 1 variables.
  explicit Moments(Index n);
  // From a saved state (count, mean, scatter); validated (shapes, finite,
  // non-negative diagonal, zero state when count == 0). Only the lower
  // triangle of scatter is read.
  Moments(std::int64_t count, const Eigen::Ref<const VectorXd>& mean,
          const Eigen::Ref<const RowMatrixXd>& scatter);
  Moments(const Moments& other);
  Moments& operator=(const Moments& other);
  ~Moments();

  // Adds a (rows x n) block of samples read through element strides (any
  // layout: C, Fortran, negative or zero strides). The block is converted to
  // float64 panel by panel, never copied whole. Throws std::invalid_argument
  // when cols != n and std::domain_error naming the first row with NaN/inf
  // (the statistics are then unchanged). Thread-safe; multithreaded inside.
  template <class T>
  void update(const T* data, Index rows, Index cols, Index row_stride, Index col_stride);

  // Adds the samples summarised by `other` (exact Chan merge). Throws
  // std::invalid_argument when the variable counts differ.
  void merge(Moments& other);

  Index n() const { return n_; }
  std::int64_t count() const;
  VectorXd mean();
  RowMatrixXd scatter();  // full symmetric n x n
  RowMatrixXd gram();     // full symmetric n x n, sum x x^T

  // Calls f(lower, count, mean) under the lock with pending samples folded
  // in. `lower` holds the centred scatter in its lower triangle only (the
  // upper one is not maintained) and is valid only when count > 0. Solvers
  // that need products with the scatter or the Gram matrix (scatter + count
  // mean mean^T) read the state in place instead of copying n x n numbers.
  template <class F>
  void read_lower_scatter(F&& f) {
    std::lock_guard<std::mutex> lock(mutex_);
    flush_locked();
    const VectorXd mean = shift_ + dmean_;
    const RowMatrixXd& lower = m2_;
    f(lower, count_, mean);
  }

 private:
  void flush_locked();
  // Copies the whole state of `other` (its scratch excepted); the caller holds
  // the lock of `other` (and of this object when it is shared already).
  void copy_state_locked(const Moments& other);
  // The full symmetric scatter (plus count * mean mean^T when add_mean_term).
  RowMatrixXd full_locked(bool add_mean_term);
  template <class T>
  void accumulate_locked(const T* data, Index rows, Index rs, Index cs);
  template <class T>
  void buffer_locked(const T* data, Index rows, Index rs, Index cs);

  Index n_;
  std::int64_t count_ = 0;  // samples folded into m2_ (excludes the buffer)
  // mean = shift_ + dmean_: the shift (a mean of early data) keeps every
  // difference the merge forms small, so large offsets (mean 1e6, variance 1)
  // lose no digits in d = mean_b - mean_a.
  VectorXd shift_;
  VectorXd dmean_;
  RowMatrixXd m2_;  // lower triangle valid once count_ > 0 (a new state is not cleared)
  // Small batches are gathered here and folded in as one batch, so tiny
  // updates cost O(n) each instead of a pass over the n x n state.
  RowMatrixXd buffer_;
  Index buffered_ = 0;
  // Per-thread scratch of the rank-k update (not part of the state: not
  // copied), allocated by the first batch.
  std::unique_ptr<detail::PanelBuffers> panels_;
  mutable std::mutex mutex_;
};

// X^T X (full, symmetric) of a (rows x cols) float64 block read through
// element strides: the blocked rank-k kernel of Moments::update with nothing
// subtracted, multithreaded for large blocks. Throws std::invalid_argument
// for cols < 1 and std::domain_error naming the first row with NaN/inf or a
// magnitude of 1e100 or more.
RowMatrixXd syrk(const double* data, Index rows, Index cols, Index row_stride, Index col_stride);

}  // namespace descramble
