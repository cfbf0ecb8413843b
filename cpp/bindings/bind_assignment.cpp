#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "common.hpp"
#include "descramble/assignment.hpp"

namespace descramble::bindings {

namespace {

template <class T>
py::tuple lsa(Eigen::Ref<const RowMatrix<T>> cost, bool maximize) {
  AssignmentResult r;
  {
    py::gil_scoped_release release;
    r = linear_sum_assignment<T>(cost, maximize);
  }
  return py::make_tuple(std::move(r.row_ind), std::move(r.col_ind));
}

// The list holds C-contiguous arrays of one dtype (the Python layer converts),
// kept alive by the caller for the duration of the call.
template <class T>
py::list lsa_batch(const std::vector<py::array_t<T, py::array::c_style>>& costs, bool maximize) {
  std::vector<AssignmentProblem<T>> problems;
  problems.reserve(costs.size());
  for (const auto& a : costs) {
    if (a.ndim() != 2) throw std::invalid_argument("expected 2-D cost matrices");
    problems.push_back({a.data(), a.shape(0), a.shape(1), a.shape(1)});
  }
  std::vector<AssignmentResult> results;
  std::vector<std::string> errors;
  {
    py::gil_scoped_release release;
    linear_sum_assignment_batch<T>(problems, maximize, results, errors);
  }
  for (std::size_t k = 0; k < errors.size(); ++k) {
    if (!errors[k].empty()) throw std::invalid_argument(errors[k]);
  }
  py::list out;
  for (auto& r : results) out.append(py::make_tuple(std::move(r.row_ind), std::move(r.col_ind)));
  return out;
}

}  // namespace

void bind_assignment(py::module_& m) {
  m.def("linear_sum_assignment_f64", &lsa<double>, py::arg("cost"), py::arg("maximize") = false,
        "LAP on a float64 matrix (rows need not be contiguous in memory, columns must be).");
  m.def("linear_sum_assignment_f32", &lsa<float>, py::arg("cost"), py::arg("maximize") = false,
        "LAP on a float32 matrix, solved without a float64 copy.");
  m.def("linear_sum_assignment_i64", &lsa<std::int64_t>, py::arg("cost"),
        py::arg("maximize") = false, "LAP on an int64 matrix, solved without a float64 copy.");
  m.def("linear_sum_assignment_i32", &lsa<std::int32_t>, py::arg("cost"),
        py::arg("maximize") = false, "LAP on an int32 matrix, solved without a float64 copy.");
  m.def("linear_sum_assignment_batch_f64", &lsa_batch<double>, py::arg("costs"),
        py::arg("maximize") = false, "Many float64 LAPs across OpenMP threads.");
  m.def("linear_sum_assignment_batch_f32", &lsa_batch<float>, py::arg("costs"),
        py::arg("maximize") = false, "Many float32 LAPs across OpenMP threads.");
}

}  // namespace descramble::bindings
