// Leading eigenpairs of a large symmetric matrix without reducing it to
// tridiagonal form: thick-restart block Lanczos with Rayleigh-Ritz. The
// matrix is only touched through block products G X, O(n^2 b) flops each,
// so the cost is O(n^2 k) per restart instead of the O(n^3) of the reduction,
// and the memory O(n k) beyond G.
#pragma once

#include <cstdint>
#include <functional>

#include "descramble/eigh.hpp"

namespace descramble {

struct LeadingOptions {
  // Convergence: ||G u - mu u|| <= tol * ||G|| for every returned pair, with
  // ||G|| estimated by the largest Ritz value magnitude seen (a lower bound of
  // the 2-norm, so the test is never looser than stated).
  double tol = 1e-10;
  // Restarts before giving up (the result then has converged == false).
  Index max_restarts = 100;
  // Also give up as soon as the rate at which the slowest wanted residual
  // falls shows that it cannot converge within max_restarts: for callers with
  // a fallback, which then lose a few restarts rather than the whole budget.
  bool stop_early = false;
  // Block width and basis size (0: the defaults of leading_geometry).
  Index block = 0;
  Index basis = 0;
  std::uint64_t seed = 0;
};

struct LeadingResult {
  EighResult pairs;    // the k largest, ascending (as eigh_largest returns them)
  VectorXd residuals;  // ||G u_j - w_j u_j||, measured by a final product, per column
  VectorXd quotients;  // u_j^T G u_j from that same product (independent of the Ritz values)
  double norm_estimate = 0.0;
  Index restarts = 0;
  Index products = 0;  // columns multiplied by G in all
  bool converged = false;
  bool stopped_early = false;  // gave up before max_restarts: forecast to need more
};

// The shape of the iteration for k of n: `basis` columns in all, of which
// `kept` Ritz vectors survive each restart; the rest is filled `block` columns
// at a time, one product each. Defaults: blocks of k / 4 clamped to [8, 16]
// (narrow blocks raise the Krylov degree per product; narrower than 16 the
// product of a large G is bound by reading it from memory) and a basis of about 3 k,
// half of its room beyond k renewed per restart (docs/tuning.md).
struct LeadingGeometry {
  Index block = 0;
  Index basis = 0;
  Index kept = 0;
};
// Throws std::invalid_argument for k outside [1, n].
LeadingGeometry leading_geometry(Index n, Index k, const LeadingOptions& options = {});

// y = G x for a column-major (n x b) block x.
using SymmetricProduct =
    std::function<void(const Eigen::Ref<const Eigen::MatrixXd>& x, Eigen::Ref<Eigen::MatrixXd> y)>;

// The k largest eigenpairs of the symmetric n x n operator behind `product`.
// Throws std::invalid_argument for k outside [1, n] or a tol that is not a
// positive finite number; never throws for slow convergence (see converged).
LeadingResult eigh_leading(Index n, const SymmetricProduct& product, Index k,
                           const LeadingOptions& options = {});

// y = (lower(a) + alpha v v^T) x, where lower(a) is the symmetric matrix whose
// lower triangle is that of the row-major a (its upper triangle is not read).
// Multithreaded over block rows; each tile below the diagonal is read twice,
// once as itself and once transposed, so no two threads write the same rows.
void lower_symmetric_product(const Eigen::Ref<const RowMatrixXd>& a, double alpha,
                             const Eigen::Ref<const VectorXd>& v,
                             const Eigen::Ref<const Eigen::MatrixXd>& x,
                             Eigen::Ref<Eigen::MatrixXd> y);

// eigh_leading on lower(a) + alpha v v^T (v empty: alpha is ignored). The
// lower triangle must be finite (std::domain_error otherwise).
LeadingResult eigh_leading(const Eigen::Ref<const RowMatrixXd>& a, Index k,
                           const LeadingOptions& options = {}, double alpha = 0.0,
                           const Eigen::Ref<const VectorXd>& v = VectorXd());

// Reorders ascending pairs into principal-component order: values descending
// and each vector's entry of largest magnitude positive (the first such entry
// on ties), which makes the signs reproducible.
void to_principal_order(EighResult& r);

}  // namespace descramble
