// Leading eigenpairs by thick-restart block Lanczos with full
// reorthogonalisation and Rayleigh-Ritz (declared in
// descramble/eigh_leading.hpp; Wu and Simon, SIAM J. Matrix Anal. Appl. 22
// (2000) 602-616, and Stewart's Krylov-Schur restart, ibid. 23 (2001)
// 601-614, here with blocks).
//
// The basis V grows block by block: each new block is G times the last one,
// orthonormalised twice against V. Its images G V are kept, so the Ritz
// vectors U = V S, their images G U = (G V) S and their residuals cost no
// extra product. When V is full, the leading `kept` Ritz vectors and their
// images become the front of the next basis, and it grows on from the block
// G V_last made orthogonal to the old V: the kept vectors' residuals lie in
// that block's span, so no Krylov information is lost at a restart and none
// of the kept vectors is multiplied again. When the k wanted Ritz residuals
// meet the tolerance one more product measures them on G itself.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "descramble/eigh_leading.hpp"
#include "eigh_internal.hpp"
#include "thread_policy.hpp"

namespace descramble {

namespace {

using Eigen::MatrixXd;

// A column whose norm after projection is below this fraction of the block's
// largest norm before it carries no direction that survives rounding.
constexpr double kLostFraction = 1e-12;
// The Ritz residuals must fall to this fraction of the tolerance before they
// are measured on G: the images carried across restarts gather rounding, and
// the measured residuals must still pass.
constexpr double kCheckMargin = 0.25;
// A block whose smallest Cholesky pivot after projection is above this
// fraction of its largest column norm before it is conditioned well enough
// for Cholesky QR: the two passes then leave it orthonormal, and orthogonal to
// the basis, to rounding.
constexpr double kCholeskyFraction = 1e-4;
// Fresh random fills that may in turn be rank deficient (only when the basis
// nearly fills the space) before giving up.
constexpr int kMaxFills = 4;
// The convergence forecast reads the slowest wanted residual over this many
// restarts: enough to average out the first restarts' irregular steps.
constexpr Index kForecastSpan = 3;
// Krylov convergence speeds up as it goes, so a geometric forecast from the
// last restarts overestimates what is left; the iteration gives up only when
// the forecast exceeds the restarts left by this factor.
constexpr double kForecastSlack = 2.0;

// Restarts still needed, at the geometric rate the slowest wanted residual
// fell over the last kForecastSpan restarts, to bring it to `target`; a
// stalled or growing residual needs infinitely many.
double forecast_restarts(const std::vector<double>& worst, double target) {
  const std::size_t t = worst.size() - 1;
  const double now = worst[t];
  if (now <= target) return 0.0;
  const double before = worst[t - static_cast<std::size_t>(kForecastSpan)];
  if (!(now < before) || now <= 0.0) return std::numeric_limits<double>::infinity();
  const double rate = std::pow(now / before, 1.0 / static_cast<double>(kForecastSpan));
  return std::log(target / now) / std::log(rate);
}

MatrixXd gaussian(Index rows, Index cols, std::mt19937_64& rng) {
  std::normal_distribution<double> normal;
  MatrixXd m(rows, cols);
  for (Index j = 0; j < cols; ++j) {
    for (Index i = 0; i < rows; ++i) m(i, j) = normal(rng);
  }
  return m;
}

// w -= basis (basis^T w) for a basis with orthonormal columns.
void project_out(const Eigen::Ref<const MatrixXd>& basis, MatrixXd& w) {
  if (basis.cols() == 0) return;
  const MatrixXd c = basis.transpose() * w;
  w.noalias() -= basis * c;
}

MatrixXd thin_q(const MatrixXd& w, Index cols) {
  Eigen::HouseholderQR<MatrixXd> qr(w);
  return qr.householderQ() * MatrixXd::Identity(w.rows(), cols);
}

// One Cholesky QR pass: w <- w R^{-1} with R^T R = w^T w. False (w
// unchanged) when the block is too ill-conditioned for it: its smallest
// Cholesky pivot below kCholeskyFraction of `scale`.
bool cholesky_qr(MatrixXd& w, double scale) {
  const MatrixXd gram = w.transpose() * w;
  const Eigen::LLT<MatrixXd> llt(gram);
  if (llt.info() != Eigen::Success) return false;
  if (!(llt.matrixLLT().diagonal().minCoeff() > kCholeskyFraction * scale)) return false;
  llt.matrixU().solveInPlace<Eigen::OnTheRight>(w);
  return true;
}

// Replaces w (n x b, b + basis.cols() <= n) by b orthonormal columns spanning
// as much of span(w) as is orthogonal to the orthonormal `basis`. Directions
// that w does not add (rank deficiency, an exhausted Krylov space) are filled
// with random ones, so the block never shrinks.
void orthonormalize_against(const Eigen::Ref<const MatrixXd>& basis, MatrixXd& w,
                            std::mt19937_64& rng, int fills_left = kMaxFills) {
  const Index n = w.rows(), b = w.cols();
  if (b == 0) return;
  const double scale = w.colwise().norm().maxCoeff();
  project_out(basis, w);
  project_out(basis, w);
  // Usually the block keeps most of its size through the projections and is
  // well conditioned: two Cholesky QR passes (all level-3 work) orthonormalise
  // it. Otherwise the rank-revealing path below.
  MatrixXd fast = w;
  if (cholesky_qr(fast, scale) && cholesky_qr(fast, 1.0)) {
    w = std::move(fast);
    return;
  }
  Eigen::ColPivHouseholderQR<MatrixXd> qr(w);
  // Column pivoting sorts R's diagonal by decreasing magnitude.
  Index rank = 0;
  while (rank < b && std::abs(qr.matrixQR()(rank, rank)) > kLostFraction * scale) ++rank;
  MatrixXd q = qr.householderQ() * MatrixXd::Identity(n, rank);
  if (rank < b) {
    if (fills_left == 0) {
      throw std::runtime_error("eigh_leading: could not complete an orthonormal basis");
    }
    MatrixXd known(n, basis.cols() + rank);
    known.leftCols(basis.cols()) = basis;
    known.rightCols(rank) = q;
    MatrixXd fill = gaussian(n, b - rank, rng);
    orthonormalize_against(known, fill, rng, fills_left - 1);
    w.leftCols(rank) = q;
    w.rightCols(b - rank) = fill;
  } else {
    w = std::move(q);
  }
  // Columns kept with a small R entry carry a relative rounding error of
  // eps / (their share of the scale) in their direction; one more projection
  // of this nearly orthonormal block and a well-conditioned QR remove it.
  project_out(basis, w);
  w = thin_q(w, b);
}

// Euclidean norms of the columns of g - x diag(values).
VectorXd residual_norms(const MatrixXd& g, const MatrixXd& x, const VectorXd& values) {
  VectorXd r(values.size());
  for (Index j = 0; j < values.size(); ++j) r[j] = (g.col(j) - values[j] * x.col(j)).norm();
  return r;
}

}  // namespace

void lower_symmetric_product(const Eigen::Ref<const RowMatrixXd>& a, double alpha,
                             const Eigen::Ref<const VectorXd>& v,
                             const Eigen::Ref<const Eigen::MatrixXd>& x,
                             Eigen::Ref<Eigen::MatrixXd> y) {
  const Index n = a.rows(), b = x.cols();
  // For the narrow blocks of the subspace iteration the product is bound by
  // reading G from memory, so each tile of the lower triangle is read once
  // and used twice while it sits in L2: y_I += A_IJ x_J and y_J += A_IJ^T x_I.
  // The second update writes rows other threads may own, so every thread
  // accumulates into its own n x b buffer and the buffers are summed.
  constexpr Index kStripe = detail::kLeadingProductStripe;
  constexpr Index kTile = detail::kLeadingProductTile;
  const Index stripes = (n + kStripe - 1) / kStripe;
  const int requested = stripes > 1 ? detail::max_threads() : 1;
  std::vector<MatrixXd> partial(static_cast<std::size_t>(requested));
  // Inside the parallel region Eigen's products run on the calling thread.
#pragma omp parallel num_threads(requested)
  {
    MatrixXd& mine = partial[static_cast<std::size_t>(detail::thread_id())];
    mine.setZero(n, b);
#pragma omp for schedule(dynamic, 1)
    for (Index s = 0; s < stripes; ++s) {
      // Longest stripes (most tiles) first, so the last tasks are short.
      const Index r0 = (stripes - 1 - s) * kStripe;
      const Index h = std::min(kStripe, n - r0);
      const auto xi = x.middleRows(r0, h);
      auto yi = mine.middleRows(r0, h);
      yi.noalias() += a.block(r0, r0, h, h).selfadjointView<Eigen::Lower>() * xi;
      for (Index c0 = 0; c0 < r0; c0 += kTile) {
        const Index w = std::min(kTile, r0 - c0);
        const auto tile = a.block(r0, c0, h, w);
        yi.noalias() += tile * x.middleRows(c0, w);
        mine.middleRows(c0, w).noalias() += tile.transpose() * xi;
      }
    }
  }
  y.setZero();
  for (const MatrixXd& p : partial) {
    if (p.size() > 0) y += p;
  }
  if (v.size() > 0 && alpha != 0.0) {
    const Eigen::RowVectorXd vx = v.transpose() * x;
    y.noalias() += (alpha * v) * vx;
  }
}

LeadingGeometry leading_geometry(Index n, Index k, const LeadingOptions& options) {
  if (k < 1 || k > n) {
    throw std::invalid_argument("eigh_leading: k must satisfy 1 <= k <= n = " + std::to_string(n) +
                                ", got " + std::to_string(k));
  }
  LeadingGeometry g;
  g.block = options.block > 0 ? options.block : std::clamp<Index>(k / 4, 8, 16);
  const Index target = options.basis > 0 ? options.basis : std::max(3 * k, k + 2 * g.block);
  // Each restart renews about half the room beyond k, in whole blocks, and
  // keeps a whole number of blocks of Ritz vectors, at least k: then every
  // block is G times the one before it, so the kept vectors' residuals lie in
  // the span of the next block (the thick-restart Krylov relation).
  const Index fresh = std::max<Index>(1, (target - k) / (2 * g.block)) * g.block;
  g.kept = std::max(k, target - fresh);
  g.kept = (g.kept + g.block - 1) / g.block * g.block;
  g.basis = g.kept + fresh;
  if (g.basis > n) {
    // Small n: the basis is all of R^n, and its Rayleigh-Ritz pairs exact.
    g.basis = n;
    g.block = std::min(g.block, n - k);
    g.kept = g.block == 0 ? n : n - std::max<Index>(1, (n - k) / (2 * g.block)) * g.block;
  }
  return g;
}

LeadingResult eigh_leading(Index n, const SymmetricProduct& product, Index k,
                           const LeadingOptions& options) {
  const LeadingGeometry geo = leading_geometry(n, k, options);  // checks k
  if (!(options.tol > 0.0) || !std::isfinite(options.tol)) {
    throw std::invalid_argument("eigh_leading: tol must be a positive finite number, got " +
                                std::to_string(options.tol));
  }
  if (options.block < 0 || options.basis < 0 || (options.basis > 0 && options.basis < k)) {
    throw std::invalid_argument(
        "eigh_leading: the block width must be >= 0 and the basis 0 or >= k = " +
        std::to_string(k));
  }
  if (options.max_restarts < 1) {
    throw std::invalid_argument("eigh_leading: max_restarts must be >= 1");
  }
  std::mt19937_64 rng(options.seed);
  const Index m = geo.basis, b = geo.block;

  LeadingResult out;
  // The basis V and its image G V; the first `cols` columns are in use.
  MatrixXd v(n, m), gv(n, m);
  Index cols = 0;
  // The next block to append: orthonormal and orthogonal to V.
  MatrixXd w = gaussian(n, b > 0 ? b : m, rng);
  orthonormalize_against(v.leftCols(0), w, rng);
  double norm = 0.0;
  MatrixXd x;
  VectorXd theta;
  // The k-th pair's residual after each restart, relative to the norm.
  std::vector<double> worst;
  for (Index restart = 0; restart < options.max_restarts; ++restart) {
    // Extend the basis block by block: each new block is G times the last one,
    // orthogonalised against the basis (block Lanczos with full
    // reorthogonalisation; thick restarts keep Ritz vectors in front).
    while (cols < m) {
      const Index width = std::min(w.cols(), m - cols);
      v.middleCols(cols, width) = w.leftCols(width);
      product(v.middleCols(cols, width), gv.middleCols(cols, width));
      out.products += width;
      cols += width;
      if (cols < m || (b > 0 && cols + b <= n)) {
        // Near n (small matrices) only the room left can be filled.
        w = gv.middleCols(cols - width, std::min(width, n - cols));
        orthonormalize_against(v.leftCols(cols), w, rng);
      }
    }
    const MatrixXd h = v.transpose() * gv;
    const MatrixXd hs = 0.5 * (h + h.transpose());
    const Eigen::SelfAdjointEigenSolver<MatrixXd> ritz(hs);
    if (ritz.info() != Eigen::Success) {
      throw std::runtime_error("eigh_leading: the Rayleigh-Ritz eigenproblem did not converge");
    }
    norm = std::max(norm, ritz.eigenvalues().cwiseAbs().maxCoeff());
    const Index keep = geo.kept;
    const MatrixXd s = ritz.eigenvectors().rightCols(keep).rowwise().reverse();
    theta = ritz.eigenvalues().tail(keep).reverse();
    MatrixXd u = v * s;
    MatrixXd gu = gv * s;
    const VectorXd res = residual_norms(gu.leftCols(k), u.leftCols(k), theta.head(k));
    out.restarts = restart + 1;

    if ((res.array() <= kCheckMargin * options.tol * norm).all()) {
      // Every wanted pair meets the tolerance by its Ritz residual: measure
      // the residuals on G itself.
      MatrixXd gx(n, k);
      product(u.leftCols(k), gx);
      out.products += k;
      const VectorXd measured = residual_norms(gx, u.leftCols(k), theta.head(k));
      if ((measured.array() <= options.tol * norm).all()) {
        out.converged = true;
        out.residuals = measured;
        out.quotients = (u.leftCols(k).array() * gx.array()).colwise().sum().transpose();
        x = u.leftCols(k);
        break;
      }
      // Rounding in the kept images: continue from the measured ones.
      gu.leftCols(k) = gx;
    }
    if (norm > 0.0) worst.push_back(res[k - 1] / norm);
    // With no room for a block (k = n) the basis is all of R^n and the
    // Rayleigh-Ritz pairs are as good as they get.
    const bool last = restart + 1 == options.max_restarts || b == 0;
    const bool give_up =
        options.stop_early && static_cast<Index>(worst.size()) > kForecastSpan &&
        forecast_restarts(worst, kCheckMargin * options.tol) >
            kForecastSlack * static_cast<double>(options.max_restarts - (restart + 1));
    if (last || give_up) {
      out.stopped_early = give_up && !last;
      x = u.leftCols(k);
      break;
    }
    // Thick restart: the leading Ritz vectors and their images stay, and the
    // iteration continues from the block w (their residuals lie in its span).
    if (cols + b > n) {
      // The basis spans (nearly) all of R^n: continue from the part of G's
      // image of the last block that the kept vectors miss.
      w = gv.rightCols(b);
      orthonormalize_against(u, w, rng);
    }
    v.leftCols(keep) = u;
    gv.leftCols(keep) = gu;
    cols = keep;
  }

  // Final pairs: measured residuals and quotients (converged: already done).
  VectorXd values = theta.head(k);
  if (!out.converged) {
    MatrixXd gx(n, k);
    product(x, gx);
    out.products += k;
    out.quotients = (x.array() * gx.array()).colwise().sum().transpose();
    values = out.quotients;
    out.residuals = residual_norms(gx, x, values);
  }
  // Ascending order, as the full solvers return them (the quotients of an
  // unconverged run need not be ordered like the Ritz values).
  std::vector<Index> order(static_cast<std::size_t>(k));
  std::iota(order.begin(), order.end(), Index{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](Index i, Index j) { return values[i] < values[j]; });
  out.pairs.values.resize(k);
  out.pairs.vectors.resize(n, k);
  VectorXd residuals(k), quotients(k);
  for (Index j = 0; j < k; ++j) {
    const Index from = order[static_cast<std::size_t>(j)];
    out.pairs.values[j] = values[from];
    out.pairs.vectors.col(j) = x.col(from);
    residuals[j] = out.residuals[from];
    quotients[j] = out.quotients[from];
  }
  out.residuals = residuals;
  out.quotients = quotients;
  out.norm_estimate = norm;
  return out;
}

namespace {

// Largest magnitude in the lower triangle; std::domain_error at a non-finite entry.
double checked_lower_max(const Eigen::Ref<const RowMatrixXd>& a) {
  double largest = 0.0;
  for (Index i = 0; i < a.rows(); ++i) {
    for (Index j = 0; j <= i; ++j) {
      const double v = a(i, j);
      if (!std::isfinite(v)) {
        throw std::domain_error("eigh: the matrix contains NaN or infinity (at [" +
                                std::to_string(i) + ", " + std::to_string(j) + "])");
      }
      largest = std::max(largest, std::abs(v));
    }
  }
  return largest;
}

}  // namespace

LeadingResult eigh_leading(const Eigen::Ref<const RowMatrixXd>& a, Index k,
                           const LeadingOptions& options, double alpha,
                           const Eigen::Ref<const VectorXd>& v) {
  if (a.rows() != a.cols()) {
    throw std::invalid_argument("eigh: expected a square matrix, got shape (" +
                                std::to_string(a.rows()) + ", " + std::to_string(a.cols()) + ")");
  }
  if (v.size() != 0 && v.size() != a.rows()) {
    throw std::invalid_argument("eigh_leading: the rank-one vector has " +
                                std::to_string(v.size()) + " entries, expected " +
                                std::to_string(a.rows()));
  }
  // Entries far from unit scale would overflow in the products: work on
  // 2^e G for the power of two that brings the largest entry near 1 (exact;
  // the vectors do not change), applied to the block before each product.
  double largest = checked_lower_max(a);
  if (v.size() != 0) largest = std::max(largest, std::abs(alpha) * v.squaredNorm());
  int exponent = 0;
  std::frexp(largest, &exponent);
  const double scale = largest == 0.0 ? 1.0 : std::ldexp(1.0, std::min(-exponent, 1000));
  const SymmetricProduct product = [&](const Eigen::Ref<const MatrixXd>& x,
                                       Eigen::Ref<MatrixXd> y) {
    const MatrixXd xs = scale * x;
    lower_symmetric_product(a, alpha, v, xs, y);
  };
  LeadingResult r = eigh_leading(a.rows(), product, k, options);
  r.pairs.values /= scale;
  r.residuals /= scale;
  r.quotients /= scale;
  r.norm_estimate /= scale;
  return r;
}

}  // namespace descramble
