#include "descramble/sketch.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "row_checks.hpp"
#include "thread_policy.hpp"

namespace descramble {

namespace {

// Panel of centred float64 rows: about 64 MiB (256 rows at n = 32768), deep
// enough that the Z^T A product runs near GEMM speed, small beside the sketch.
constexpr Index kPanelDoubles = Index{1} << 23;
constexpr Index kMinPanelRows = 64;
constexpr Index kMaxPanelRows = 2048;

// Threads for a memory-bound pass over `entries` values (thread_policy.hpp).
int pass_threads(Index entries) {
  return entries < detail::kStreamPassParallelEntries ? 1 : detail::max_threads();
}

std::string shape_message(const char* what, Index got, Index expected) {
  return std::string("sketch_update: ") + what + " has " + std::to_string(got) +
         " entries, expected " + std::to_string(expected);
}

// First row (of all rows) holding a non-finite or oversized value, or -1.
template <class T>
Index first_bad_row(const T* data, Index rows, Index cols, Index rs, Index cs) {
  Index first = rows;
  const int threads = pass_threads(rows * cols);
#pragma omp parallel for schedule(static) reduction(min : first) num_threads(threads)
  for (Index i = 0; i < rows; ++i) {
    const T* row = data + i * rs;
    bool bad = false;
    for (Index j = 0; j < cols; ++j) {
      const double v = static_cast<double>(row[j * cs]);
      bad |= !(std::abs(v) < detail::kMaxAbs);
    }
    if (bad && i < first) first = i;
  }
  return first == rows ? -1 : first;
}

}  // namespace

template <class T>
void sketch_update(const T* data, Index rows, Index cols, Index rs, Index cs,
                   const Eigen::Ref<const VectorXd>& shift,
                   const Eigen::Ref<const RowMatrixXd>& omega, Eigen::Ref<RowMatrixXd> y,
                   Eigen::Ref<VectorXd> sum) {
  const Index n = omega.rows(), m = omega.cols();
  if (cols != n) throw std::invalid_argument(shape_message("a sample row", cols, n));
  if (shift.size() != n) throw std::invalid_argument(shape_message("the shift", shift.size(), n));
  if (sum.size() != n) throw std::invalid_argument(shape_message("the sum", sum.size(), n));
  if (y.rows() != n || y.cols() != m) {
    throw std::invalid_argument("sketch_update: the sketch must be " + std::to_string(n) + " x " +
                                std::to_string(m));
  }
  if (rows == 0) return;
  const Index bad = first_bad_row(data, rows, cols, rs, cs);
  if (bad >= 0) {
    const T* row = data + bad * rs;
    bool non_finite = false;
    for (Index j = 0; j < cols; ++j) non_finite |= !std::isfinite(static_cast<double>(row[j * cs]));
    throw std::domain_error(detail::bad_row_message(bad, non_finite));
  }
  const Index panel =
      std::clamp(kPanelDoubles / std::max<Index>(n, 1), kMinPanelRows, kMaxPanelRows);
  RowMatrixXd z(std::min(panel, rows), n);
  RowMatrixXd a(z.rows(), m);
  for (Index r0 = 0; r0 < rows; r0 += panel) {
    const Index p = std::min(panel, rows - r0);
    const int threads = pass_threads(p * n);
#pragma omp parallel for schedule(static) num_threads(threads)
    for (Index i = 0; i < p; ++i) {
      const T* row = data + (r0 + i) * rs;
      double* out = z.data() + i * n;
      if (cs == 1) {
        for (Index j = 0; j < n; ++j) out[j] = static_cast<double>(row[j]) - shift[j];
      } else {
        for (Index j = 0; j < n; ++j) out[j] = static_cast<double>(row[j * cs]) - shift[j];
      }
    }
    const auto zp = z.topRows(p);
    auto ap = a.topRows(p);
    ap.noalias() = zp * omega;
    y.noalias() += zp.transpose() * ap;
    sum.noalias() += zp.colwise().sum().transpose();
  }
}

template void sketch_update<float>(const float*, Index, Index, Index, Index,
                                   const Eigen::Ref<const VectorXd>&,
                                   const Eigen::Ref<const RowMatrixXd>&, Eigen::Ref<RowMatrixXd>,
                                   Eigen::Ref<VectorXd>);
template void sketch_update<double>(const double*, Index, Index, Index, Index,
                                    const Eigen::Ref<const VectorXd>&,
                                    const Eigen::Ref<const RowMatrixXd>&, Eigen::Ref<RowMatrixXd>,
                                    Eigen::Ref<VectorXd>);

}  // namespace descramble
