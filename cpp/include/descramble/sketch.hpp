// The streaming kernel of the randomized second-moment sketch (descramble.Sketch).
//
// For a block of samples X (rows) and a fixed test matrix Omega (n x m), it
// accumulates Y += Z^T (Z Omega) and sum += Z^T 1 with Z = X - 1 shift^T: the
// sketch of sum z z^T, from which the Python side derives the sketches of the
// centred scatter and of the raw Gram matrix exactly (both are linear in Y,
// sum and the count). Two GEMMs of 2 rows n m flops each per block.
#pragma once

#include "descramble/types.hpp"

namespace descramble {

// Reads the (rows x cols) block through element strides (any layout), in
// float64 panels (float32 converted panel by panel). Throws
// std::invalid_argument for mismatched shapes and std::domain_error naming the
// first row with NaN, infinity or a magnitude beyond 1e100; on any error y and
// sum are unchanged. Multithreaded (OpenMP); call without the GIL.
template <class T>
void sketch_update(const T* data, Index rows, Index cols, Index row_stride, Index col_stride,
                   const Eigen::Ref<const VectorXd>& shift,
                   const Eigen::Ref<const RowMatrixXd>& omega, Eigen::Ref<RowMatrixXd> y,
                   Eigen::Ref<VectorXd> sum);

}  // namespace descramble
