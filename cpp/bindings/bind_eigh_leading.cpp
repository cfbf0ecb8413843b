#include <cstdint>
#include <stdexcept>

#include "common.hpp"
#include "descramble/eigh_leading.hpp"
#include "descramble/moments.hpp"

namespace descramble::bindings {

namespace {

LeadingOptions options_of(double tol, Index max_restarts, std::uint64_t seed, bool stop_early,
                          Index block, Index basis) {
  LeadingOptions o;
  o.block = block;
  o.basis = basis;
  o.tol = tol;
  o.max_restarts = max_restarts;
  o.seed = seed;
  o.stop_early = stop_early;
  return o;
}

// (values, vectors, info): ascending pairs, or principal order when asked.
py::tuple leading_tuple(LeadingResult r, bool principal) {
  if (principal) {
    to_principal_order(r.pairs);
    r.residuals.reverseInPlace();
    r.quotients.reverseInPlace();
  }
  py::dict info;
  info["residuals"] = std::move(r.residuals);
  info["quotients"] = std::move(r.quotients);
  info["norm_estimate"] = r.norm_estimate;
  info["restarts"] = r.restarts;
  info["products"] = r.products;
  info["converged"] = r.converged;
  info["stopped_early"] = r.stopped_early;
  return py::make_tuple(std::move(r.pairs.values), std::move(r.pairs.vectors), info);
}

}  // namespace

void bind_eigh_leading(py::module_& m) {
  m.def(
      "eigh_leading",
      [](ConstRefMatrixXd a, Index k, double tol, Index max_restarts, std::uint64_t seed,
         bool principal, bool stop_early, Index block, Index basis) {
        LeadingResult r;
        {
          py::gil_scoped_release release;
          r = eigh_leading(a, k, options_of(tol, max_restarts, seed, stop_early, block, basis));
        }
        return leading_tuple(std::move(r), principal);
      },
      py::arg("a"), py::arg("k"), py::arg("tol") = 1e-10, py::arg("max_restarts") = 100,
      py::arg("seed") = 0, py::arg("principal") = false, py::arg("stop_early") = false,
      py::arg("block") = 0, py::arg("basis") = 0,
      "The k largest eigenpairs of the symmetric matrix whose lower triangle is a's, by block "
      "Krylov subspace iteration. Returns (w, V, info): w ascending (descending with principal, "
      "vectors then signed as principal_eigh's), info with residuals, quotients (u^T G u), "
      "norm_estimate, restarts, "
      "products, converged and stopped_early (with stop_early: gave up before max_restarts, "
      "forecast to need more). block and basis override the iteration's shape "
      "(leading_geometry).");
  m.def(
      "leading_geometry",
      [](Index n, Index k) {
        const LeadingGeometry g = leading_geometry(n, k);
        return py::make_tuple(g.block, g.basis, g.kept);
      },
      py::arg("n"), py::arg("k"),
      "(block, basis, kept): the subspace iteration's default shape for k of n. The first restart "
      "multiplies `basis` columns by G, every later one basis - kept.");
  m.def(
      "moments_leading",
      [](Moments& moments, Index k, bool center, double tol, Index max_restarts, std::uint64_t seed,
         bool stop_early, Index block, Index basis) {
        LeadingResult r;
        {
          py::gil_scoped_release release;
          moments.read_lower_scatter(
              [&](const RowMatrixXd& lower, std::int64_t count, const VectorXd& mean) {
                if (count == 0) {
                  throw std::invalid_argument("the statistics hold no samples yet");
                }
                // Gram = scatter + count mean mean^T, applied without forming it.
                const double alpha = center ? 0.0 : static_cast<double>(count);
                r = eigh_leading(lower, k,
                                 options_of(tol, max_restarts, seed, stop_early, block, basis),
                                 alpha, mean);
              });
        }
        return leading_tuple(std::move(r), true);
      },
      py::arg("moments"), py::arg("k"), py::arg("center") = false, py::arg("tol") = 1e-10,
      py::arg("max_restarts") = 100, py::arg("seed") = 0, py::arg("stop_early") = false,
      py::arg("block") = 0, py::arg("basis") = 0,
      "The k leading principal pairs of a Moments' Gram matrix (center: its scatter), read in "
      "place: (mu descending, U, info) as eigh_leading with principal=True.");
}

}  // namespace descramble::bindings
