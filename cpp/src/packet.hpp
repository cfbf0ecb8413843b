// Internal: the float64 vector of the kernel level this translation unit is
// compiled for, from Eigen's packet layer (2 doubles with SSE2 or NEON, 4
// with AVX2, 8 with AVX-512). Kernels written over it are vectorised at every
// level without an intrinsic of their own.
#pragma once

#include <Eigen/Core>

#include "descramble/types.hpp"

namespace descramble::detail {

using Packet = Eigen::internal::packet_traits<double>::type;
constexpr Index kVector = Eigen::internal::packet_traits<double>::size;

}  // namespace descramble::detail
