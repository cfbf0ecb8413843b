// Stacked symmetric eigendecompositions: independent matrices across the
// OpenMP threads, each solved on one thread by the single-matrix driver.
#include <exception>
#include <stdexcept>
#include <string>

#include "descramble/eigh.hpp"
#include "thread_policy.hpp"

namespace descramble {

namespace {

// Rethrows `error` as the same standard type with `prefix` before its message
// (the types map to distinct Python exceptions, so they must survive).
[[noreturn]] void rethrow_prefixed(const std::exception_ptr& error, const std::string& prefix) {
  try {
    std::rethrow_exception(error);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(prefix + e.what());
  } catch (const std::domain_error& e) {
    throw std::domain_error(prefix + e.what());
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(prefix + e.what());
  }
}

}  // namespace

void eigh_batch(const double* a, Index count, Index n, Index k, bool compute_vectors,
                double* values, double* vectors) {
  if (count < 0 || n < 0 || k < 0 || k > n) {
    throw std::invalid_argument("eigh: invalid batch shape (" + std::to_string(count) + ", " +
                                std::to_string(n) + ", " + std::to_string(n) +
                                ") with k = " + std::to_string(k));
  }
  const Index m = k > 0 ? k : n;
  const auto solve = [&](Index p) {
    const Eigen::Map<const RowMatrixXd> matrix(a + p * n * n, n, n);
    const EighResult r =
        k > 0 ? eigh_largest(matrix, k, compute_vectors) : eigh(matrix, compute_vectors);
    Eigen::Map<VectorXd>(values + p * m, m) = r.values;
    if (compute_vectors) Eigen::Map<RowMatrixXd>(vectors + p * n * m, n, m) = r.vectors;
  };
  if (count == 1) {
    solve(0);  // one matrix: its own phases decide how many threads to use
    return;
  }
  // Exceptions never cross the parallel region: the lowest failing index is
  // kept, so the error reported does not depend on the thread schedule.
  std::exception_ptr error;
  Index failed = count;
  // Inside this region the single-matrix phases find no idle thread (nested
  // parallelism is off), so each matrix runs serially on its thread.
#pragma omp parallel for schedule(dynamic, 1) if (count >= detail::kBatchParallelMin)
  for (Index p = 0; p < count; ++p) {
    try {
      solve(p);
    } catch (...) {
#pragma omp critical(descramble_eigh_batch_error)
      {
        if (p < failed) {
          failed = p;
          error = std::current_exception();
        }
      }
    }
  }
  if (error) rethrow_prefixed(error, "matrix " + std::to_string(failed) + " of the stack: ");
}

}  // namespace descramble
