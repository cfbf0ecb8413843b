// Linear sum assignment (the LAP) of the core: Jonker-Volgenant initialisation
// and shortest augmenting paths on dense rectangular cost matrices.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "descramble/types.hpp"

namespace descramble {

using IndexVector = Eigen::Matrix<std::int64_t, Eigen::Dynamic, 1>;

struct AssignmentResult {
  IndexVector row_ind;  // strictly increasing
  IndexVector col_ind;  // col_ind[k] is the column assigned to row row_ind[k]
};

// Solves min (maximize: max) sum_k C[row_ind[k], col_ind[k]] over all matchings
// of size min(nr, nc) of the nr x nc matrix C, stored row-major with row stride
// `stride` (in elements). `row_ind` and `col_ind` must hold min(nr, nc) entries.
//
// +inf (maximize: -inf) marks a forbidden pair. Throws std::invalid_argument
// with scipy's wording: "matrix contains invalid numeric entries" for NaN or
// -inf (maximize: +inf), "cost matrix is infeasible" when no complete matching
// avoids the forbidden pairs. float, int32 and int64 costs are read in their
// own type (no copy; integers beyond 2**53 in magnitude are rounded to double
// as they are read) while the dual variables and path lengths are accumulated
// in double. Instantiated for float, double, std::int32_t and std::int64_t (the
// batch entry point: float and double). Deterministic: ties are broken by the
// lowest index, preferring unassigned columns (a constant matrix gives the
// identity, as scipy's solver does). Finite costs of magnitude >= 2^960, whose
// duals could overflow, are solved on a copy scaled by a power of two.
template <class T>
void linear_sum_assignment(const T* cost, Index nr, Index nc, Index stride, bool maximize,
                           std::int64_t* row_ind, std::int64_t* col_ind);

// Eigen front end of the above (any row stride; the column stride must be 1).
template <class T>
AssignmentResult linear_sum_assignment(const Eigen::Ref<const RowMatrix<T>>& cost, bool maximize);

// One problem of a batch: a pointer to a row-major matrix and its shape.
template <class T>
struct AssignmentProblem {
  const T* cost;
  Index nr;
  Index nc;
  Index stride;
};

// Solves every problem of the batch (OpenMP threads across problems). The
// result k holds problem k's answer; errors[k] is empty on success or the
// message of the exception problem k threw (the caller decides how to report).
template <class T>
void linear_sum_assignment_batch(const std::vector<AssignmentProblem<T>>& problems, bool maximize,
                                 std::vector<AssignmentResult>& results,
                                 std::vector<std::string>& errors);

}  // namespace descramble
