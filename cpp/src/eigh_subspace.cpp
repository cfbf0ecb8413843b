// Leading eigenpairs by block Krylov subspace iteration with Rayleigh-Ritz
// restarts and locking (declared in descramble/eigh_leading.hpp).
//
// Each restart builds the block Krylov basis [V, G V, ..., G^q V] of the
// current Ritz block V (orthonormalised block by block, twice, against the
// locked vectors and the earlier blocks), takes the Rayleigh-Ritz pairs of G
// on it and locks the leading run of wanted pairs whose residual meets the
// tolerance. The products G Q_j of the basis are kept, so Ritz vectors, their
// images and residuals cost no extra product. Locked pairs are deflated: later
// blocks are kept orthogonal to them. When k pairs are locked one more product
// measures every residual directly; pairs that no longer meet the tolerance
// (deflation can add up to the locked residuals) go back into the iteration.
#include <algorithm>
#include <cmath>
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
// Pairs are locked at this fraction of the tolerance: deflation adds the
// locked pairs' residuals to the others', and the final check must still pass.
constexpr double kLockMargin = 0.25;
// Fresh random fills that may in turn be rank deficient (only when the basis
// nearly fills the space) before giving up.
constexpr int kMaxFills = 4;

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
  const Index n = a.rows();
  // Row stripes (detail::kLeadingProductStripe): a stripe of the result stays
  // in L2 while the tiles of G stream through once per stripe, and every
  // stripe does the same n x stripe multiply-adds per column of x.
  constexpr Index kStripe = detail::kLeadingProductStripe;
  const Index stripes = (n + kStripe - 1) / kStripe;
  // Inside the parallel region Eigen's products run on the calling thread,
  // also when there is a single stripe (Eigen would otherwise fork its own).
#pragma omp parallel for schedule(dynamic, 1) num_threads(detail::max_threads())
  for (Index s = 0; s < stripes; ++s) {
    const Index r0 = s * kStripe;
    const Index h = std::min(kStripe, n - r0);
    const Index r1 = r0 + h;
    auto ys = y.middleRows(r0, h);
    ys.noalias() = a.block(r0, r0, h, h).selfadjointView<Eigen::Lower>() * x.middleRows(r0, h);
    if (r0 > 0) ys.noalias() += a.block(r0, 0, h, r0) * x.topRows(r0);
    if (r1 < n) ys.noalias() += a.block(r1, r0, n - r1, h).transpose() * x.bottomRows(n - r1);
  }
  if (v.size() > 0 && alpha != 0.0) {
    const Eigen::RowVectorXd vx = v.transpose() * x;
    y.noalias() += (alpha * v) * vx;
  }
}

LeadingResult eigh_leading(Index n, const SymmetricProduct& product, Index k,
                           const LeadingOptions& options) {
  if (k < 1 || k > n) {
    throw std::invalid_argument("eigh_leading: k must satisfy 1 <= k <= n = " + std::to_string(n) +
                                ", got " + std::to_string(k));
  }
  if (!(options.tol > 0.0) || !std::isfinite(options.tol)) {
    throw std::invalid_argument("eigh_leading: tol must be a positive finite number, got " +
                                std::to_string(options.tol));
  }
  if (options.block != 0 && options.block < k) {
    throw std::invalid_argument("eigh_leading: the block width must be >= k = " +
                                std::to_string(k) + ", got " + std::to_string(options.block));
  }
  if (options.max_restarts < 1 || options.depth < 0) {
    throw std::invalid_argument("eigh_leading: max_restarts must be >= 1 and depth >= 0");
  }
  std::mt19937_64 rng(options.seed);
  const Index block =
      std::min(n, options.block > 0 ? options.block : k + std::max<Index>(8, k / 4));
  const Index depth = options.depth > 0 ? options.depth : 3;

  LeadingResult out;
  MatrixXd locked(n, 0);
  VectorXd locked_values(0);
  // The next restart's block: the unlocked Ritz vectors, leading first.
  MatrixXd start = gaussian(n, block, rng);
  double norm = 0.0;

  for (Index restart = 0; restart < options.max_restarts && locked.cols() < k; ++restart) {
    const Index l = locked.cols();
    const Index active = std::min(block - l, n - l);
    Index q = depth;
    while (q > 0 && (q + 1) * active + l > n) --q;
    const Index m = (q + 1) * active;
    MatrixXd basis(n, l + m);
    basis.leftCols(l) = locked;
    MatrixXd images(n, m);
    MatrixXd w = start.leftCols(active);
    orthonormalize_against(basis.leftCols(l), w, rng);
    for (Index j = 0; j <= q; ++j) {
      basis.middleCols(l + j * active, active) = w;
      product(basis.middleCols(l + j * active, active), images.middleCols(j * active, active));
      out.products += active;
      if (j < q) {
        w = images.middleCols(j * active, active);
        orthonormalize_against(basis.leftCols(l + (j + 1) * active), w, rng);
      }
    }
    const auto krylov = basis.rightCols(m);
    MatrixXd h = krylov.transpose() * images;
    const MatrixXd hs = 0.5 * (h + h.transpose());
    const Eigen::SelfAdjointEigenSolver<MatrixXd> ritz(hs);
    if (ritz.info() != Eigen::Success) {
      throw std::runtime_error("eigh_leading: the Rayleigh-Ritz eigenproblem did not converge");
    }
    norm = std::max(norm, ritz.eigenvalues().cwiseAbs().maxCoeff());
    const MatrixXd s = ritz.eigenvectors().rightCols(active).rowwise().reverse();
    const VectorXd theta = ritz.eigenvalues().tail(active).reverse();
    const MatrixXd u = krylov * s;
    const MatrixXd gu = images * s;
    const VectorXd res = residual_norms(gu, u, theta);
    out.restarts = restart + 1;

    const Index wanted = k - l;
    Index run = 0;
    while (run < wanted && res[run] <= kLockMargin * options.tol * norm) ++run;
    if (run > 0) {
      locked.conservativeResize(n, l + run);
      locked.rightCols(run) = u.leftCols(run);
      locked_values.conservativeResize(l + run);
      locked_values.tail(run) = theta.head(run);
    }
    start = u.rightCols(active - run);
    if (locked.cols() < k) continue;

    // All k locked: measure every residual on G itself.
    MatrixXd gx(n, k);
    product(locked, gx);
    out.products += k;
    const VectorXd measured = residual_norms(gx, locked, locked_values);
    Index good = 0;
    while (good < k && measured[good] <= options.tol * norm) ++good;
    if (good == k) {
      out.converged = true;
      out.residuals = measured;
      out.quotients = (locked.array() * gx.array()).colwise().sum().transpose();
      break;
    }
    MatrixXd back(n, (k - good) + start.cols());
    back << locked.rightCols(k - good), start;
    start = std::move(back);
    locked.conservativeResize(n, good);
    locked_values.conservativeResize(good);
  }

  MatrixXd x(n, k);
  VectorXd values(k);
  const Index l = std::min(locked.cols(), k);
  x.leftCols(l) = locked.leftCols(l);
  values.head(l) = locked_values.head(l);
  if (!out.converged) {
    // Out of restarts: the best current estimates (Rayleigh quotients), with
    // their measured residuals.
    x.rightCols(k - l) = start.leftCols(k - l);
    MatrixXd gx(n, k);
    product(x, gx);
    out.products += k;
    out.quotients = (x.array() * gx.array()).colwise().sum().transpose();
    values.tail(k - l) = out.quotients.tail(k - l);
    out.residuals = residual_norms(gx, x, values);
  }
  // Ascending order (the pairs were locked in runs, each descending).
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
