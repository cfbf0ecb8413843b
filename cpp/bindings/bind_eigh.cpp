#include "common.hpp"
#include "descramble/eigh.hpp"

namespace descramble::bindings {

void bind_eigh(py::module_& m) {
  m.def(
      "eigh",
      [](ConstRefMatrixXd a, Index k, bool compute_vectors) {
        EighResult r;
        {
          py::gil_scoped_release release;
          r = k > 0 ? eigh_largest(a, k, compute_vectors) : eigh(a, compute_vectors);
        }
        return py::make_tuple(std::move(r.values), std::move(r.vectors));
      },
      py::arg("a"), py::arg("k") = 0, py::arg("compute_vectors") = true,
      "Symmetric eigendecomposition (lower triangle read). k > 0: the k largest "
      "pairs. Returns (w ascending, V). Non-C-contiguous or non-float64 input is "
      "copied once.");
  m.def(
      "principal_eigh",
      [](ConstRefMatrixXd a, Index k) {
        EighResult r;
        {
          py::gil_scoped_release release;
          r = principal_eigh(a, k);
        }
        return py::make_tuple(std::move(r.values), std::move(r.vectors));
      },
      py::arg("a"), py::arg("k"),
      "The k largest eigenpairs in principal order: (mu descending, U), each "
      "column's largest-magnitude entry positive (first on ties).");
}

}  // namespace descramble::bindings
