// Internal: the value check every streaming kernel (Moments, syrk, sketches)
// applies to each sample row, and the error that names the first bad row.
#pragma once

#include <string>

#include "descramble/types.hpp"

namespace descramble::detail {

// Largest accepted magnitude: squares of sums of such values cannot overflow.
constexpr double kMaxAbs = 1e100;

inline std::string bad_row_message(Index row, bool non_finite) {
  if (non_finite) return "row " + std::to_string(row) + " contains NaN or infinity";
  return "row " + std::to_string(row) +
         " contains a value beyond 1e100 in magnitude (its square could overflow)";
}

}  // namespace descramble::detail
