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
      "eigh_batch",
      [](const py::array_t<double, py::array::c_style | py::array::forcecast>& a, Index k,
         bool compute_vectors) {
        if (a.ndim() != 3 || a.shape(1) != a.shape(2)) {
          throw std::invalid_argument("eigh_batch: expected a (count, n, n) array");
        }
        const Index count = a.shape(0), n = a.shape(1), m = k > 0 ? k : n;
        py::array_t<double> values({count, m});
        py::array_t<double> vectors(compute_vectors ? std::vector<py::ssize_t>{count, n, m}
                                                    : std::vector<py::ssize_t>{0});
        const double* in = a.data();
        double* w = values.mutable_data();
        double* v = compute_vectors ? vectors.mutable_data() : nullptr;
        {
          py::gil_scoped_release release;
          eigh_batch(in, count, n, k, compute_vectors, w, v);
        }
        return py::make_tuple(values, vectors);
      },
      py::arg("a"), py::arg("k") = 0, py::arg("compute_vectors") = true,
      "Stacked symmetric eigendecompositions of a (count, n, n) array (lower "
      "triangles read), one matrix per OpenMP thread. Returns (w (count, m) "
      "ascending, V (count, n, m)); m = n, or k > 0 for the k largest pairs. "
      "Non-C-contiguous or non-float64 input is copied once.");
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
