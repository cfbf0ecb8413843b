// descramble::linear_sum_assignment against brute force over every matching
// (n <= 8) and a Hungarian solver (larger n): costs compared, not indices,
// since ties allow several optimal matchings.
#include <algorithm>
#include <cstdint>
#include <limits>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "descramble/assignment.hpp"
#include "harness.hpp"
#include "reference.hpp"

namespace {

using namespace descramble;
using namespace descramble::test;

struct Solved {
  std::vector<std::int64_t> rows, cols;
};

template <class T>
Solved solve(const std::vector<T>& cost, Index nr, Index nc, bool maximize) {
  const Index k = std::min(nr, nc);
  Solved s{std::vector<std::int64_t>(k, -1), std::vector<std::int64_t>(k, -1)};
  linear_sum_assignment(cost.data(), nr, nc, nc, maximize, s.rows.data(), s.cols.data());
  return s;
}

// A valid matching of size min(nr, nc): rows strictly increasing, columns
// distinct, all in range. Returns its cost (in double).
template <class T>
double checked_cost(const Solved& s, const std::vector<T>& cost, Index nr, Index nc,
                    const std::string& what) {
  std::set<std::int64_t> seen;
  double total = 0.0;
  for (size_t i = 0; i < s.rows.size(); ++i) {
    const bool in_range = s.rows[i] >= 0 && s.rows[i] < nr && s.cols[i] >= 0 && s.cols[i] < nc;
    CHECK(in_range, what, ": pair ", i, " = (", s.rows[i], ", ", s.cols[i], ")");
    if (!in_range) return std::numeric_limits<double>::quiet_NaN();
    CHECK(i == 0 || s.rows[i] > s.rows[i - 1], what, ": rows not increasing at ", i);
    CHECK(seen.insert(s.cols[i]).second, what, ": column ", s.cols[i], " used twice");
    total += static_cast<double>(cost[s.rows[i] * nc + s.cols[i]]);
  }
  return total;
}

std::vector<double> uniform_costs(Index nr, Index nc, std::uint64_t seed, double lo = 0.0,
                                  double hi = 1.0) {
  std::mt19937_64 engine(seed);
  std::uniform_real_distribution<double> u(lo, hi);
  std::vector<double> c(static_cast<size_t>(nr * nc));
  for (double& v : c) v = u(engine);
  return c;
}

std::string shape(Index nr, Index nc) { return std::to_string(nr) + " x " + std::to_string(nc); }

}  // namespace

DESCRAMBLE_TEST(assignment_matches_brute_force_square_and_rectangular) {
  std::vector<std::pair<Index, Index>> shapes;
  for (Index n = 1; n <= 8; ++n) shapes.push_back({n, n});
  for (auto s : {std::pair<Index, Index>{1, 5}, {3, 7}, {5, 8}, {2, 3}}) {
    shapes.push_back(s);
    shapes.push_back({s.second, s.first});
  }
  for (auto [nr, nc] : shapes) {
    for (bool maximize : {false, true}) {
      for (std::uint64_t seed = 0; seed < 3; ++seed) {
        const std::vector<double> c = uniform_costs(nr, nc, 1000 * nr + 10 * nc + seed, -5, 5);
        const std::string what = shape(nr, nc) + (maximize ? " maximize" : " minimize") + " seed " +
                                 std::to_string(seed);
        const double got = checked_cost(solve(c, nr, nc, maximize), c, nr, nc, what);
        const double best = brute_force_assignment_cost(c, nr, nc, maximize);
        CHECK_LE(std::abs(got - best), 1e-12, what);
      }
    }
  }
}

DESCRAMBLE_TEST(assignment_float32_and_integer_costs_are_optimal) {
  for (Index n : {Index{4}, Index{7}}) {
    std::mt19937_64 engine(2000 + n);
    std::uniform_int_distribution<std::int64_t> draw(-1000, 1000);
    std::vector<std::int64_t> c64(static_cast<size_t>(n * (n + 1)));
    for (auto& v : c64) v = draw(engine);
    const std::vector<std::int32_t> c32(c64.begin(), c64.end());
    const std::vector<float> cf(c64.begin(), c64.end());
    const std::vector<double> reference(c64.begin(), c64.end());
    for (bool maximize : {false, true}) {
      for (Index nc : {n, n + 1}) {
        const std::string what = shape(n, nc) + (maximize ? " maximize" : " minimize");
        // The same n x nc block in every type (row stride nc).
        const double best = brute_force_assignment_cost(
            std::vector<double>(reference.begin(), reference.begin() + n * nc), n, nc, maximize);
        const std::vector<std::int64_t> block64(c64.begin(), c64.begin() + n * nc);
        const std::vector<std::int32_t> block32(c32.begin(), c32.begin() + n * nc);
        const std::vector<float> blockf(cf.begin(), cf.begin() + n * nc);
        // Integers: exactly optimal.
        CHECK(checked_cost(solve(block64, n, nc, maximize), block64, n, nc, what) == best, what,
              " int64");
        CHECK(checked_cost(solve(block32, n, nc, maximize), block32, n, nc, what) == best, what,
              " int32");
        CHECK(checked_cost(solve(blockf, n, nc, maximize), blockf, n, nc, what) == best, what,
              " float32");
      }
    }
  }
}

DESCRAMBLE_TEST(assignment_matches_hungarian_on_larger_problems) {
  for (Index n : {Index{40}, Index{129}, Index{300}}) {
    const std::vector<double> c = uniform_costs(n, n, 3000 + n);
    const double got = checked_cost(solve(c, n, n, false), c, n, n, "n = " + std::to_string(n));
    CHECK_LE(std::abs(got - hungarian_cost(c, n)), 1e-9, "n = ", n);
    // Few distinct values: many ties and many equal-cost optima.
    std::vector<double> ties = c;
    for (double& v : ties) v = std::floor(v * 4);
    const double tied = checked_cost(solve(ties, n, n, false), ties, n, n, "ties");
    CHECK(tied == hungarian_cost(ties, n), "ties, n = ", n);
  }
}

DESCRAMBLE_TEST(assignment_avoids_forbidden_pairs) {
  for (Index n : {Index{5}, Index{8}}) {
    for (bool maximize : {false, true}) {
      std::vector<double> c = uniform_costs(n, n, 4000 + n);
      std::mt19937_64 engine(4100 + n);
      // Forbid about a third of the pairs, keeping the diagonal allowed.
      const double forbidden = maximize ? -kInf : kInf;
      for (Index i = 0; i < n; ++i) {
        for (Index j = 0; j < n; ++j) {
          if (i != j && engine() % 3 == 0) c[i * n + j] = forbidden;
        }
      }
      const std::string what = "n = " + std::to_string(n) + (maximize ? " maximize" : "");
      const double got = checked_cost(solve(c, n, n, maximize), c, n, n, what);
      CHECK(std::isfinite(got), what, ": a forbidden pair was used");
      CHECK_LE(std::abs(got - brute_force_assignment_cost(c, n, n, maximize)), 1e-12, what);
    }
  }
}

DESCRAMBLE_TEST(assignment_detects_infeasible_and_invalid_costs) {
  // Rows 0 and 1 may only use column 2: no complete matching (Hall's condition).
  std::vector<double> c = uniform_costs(4, 4, 5000);
  for (Index j : {0, 1, 3}) c[0 * 4 + j] = c[1 * 4 + j] = kInf;
  CHECK_THROWS(solve(c, 4, 4, false), std::invalid_argument, "cost matrix is infeasible", "hall");
  std::vector<double> row_forbidden = uniform_costs(3, 6, 5001);
  for (Index j = 0; j < 6; ++j) row_forbidden[1 * 6 + j] = kInf;
  CHECK_THROWS(solve(row_forbidden, 3, 6, false), std::invalid_argument,
               "cost matrix is infeasible", "a forbidden row");
  std::vector<double> all_max = uniform_costs(3, 3, 5002);
  for (double& v : all_max) v = -kInf;
  CHECK_THROWS(solve(all_max, 3, 3, true), std::invalid_argument, "cost matrix is infeasible",
               "maximize, all -inf");
  for (double bad : {std::numeric_limits<double>::quiet_NaN(), -kInf}) {
    std::vector<double> d = uniform_costs(3, 3, 5003);
    d[4] = bad;
    CHECK_THROWS(solve(d, 3, 3, false), std::invalid_argument,
                 "matrix contains invalid numeric entries", "minimize with ", bad);
  }
  std::vector<double> plus_inf = uniform_costs(3, 3, 5004);
  plus_inf[2] = kInf;
  CHECK_THROWS(solve(plus_inf, 3, 3, true), std::invalid_argument,
               "matrix contains invalid numeric entries", "maximize with +inf");
  // Empty problems have an empty answer.
  std::vector<double> none;
  CHECK(solve(none, 0, 5, false).rows.empty(), "0 x 5");
  CHECK(solve(none, 4, 0, false).cols.empty(), "4 x 0");
}

DESCRAMBLE_TEST(assignment_batch_matches_single_solves_and_reports_per_problem) {
  std::vector<std::vector<double>> costs;
  std::vector<AssignmentProblem<double>> problems;
  for (Index p = 0; p < 12; ++p) {
    const Index nr = 2 + p % 5, nc = 3 + (p * 7) % 5;
    costs.push_back(uniform_costs(nr, nc, 6000 + p));
    if (p == 5) costs.back()[0] = std::numeric_limits<double>::quiet_NaN();
  }
  for (Index p = 0; p < 12; ++p) {
    const Index nr = 2 + p % 5, nc = 3 + (p * 7) % 5;
    problems.push_back({costs[p].data(), nr, nc, nc});
  }
  std::vector<AssignmentResult> results;
  std::vector<std::string> errors;
  linear_sum_assignment_batch(problems, false, results, errors);
  CHECK(results.size() == 12 && errors.size() == 12, "sizes");
  for (Index p = 0; p < 12 && p < static_cast<Index>(results.size()); ++p) {
    const auto& q = problems[p];
    const std::string what = "problem " + std::to_string(p);
    if (p == 5) {
      CHECK(errors[p].find("invalid numeric entries") != std::string::npos, what, ": ", errors[p]);
      continue;
    }
    CHECK(errors[p].empty(), what, ": ", errors[p]);
    Solved s;
    s.rows.assign(results[p].row_ind.data(), results[p].row_ind.data() + results[p].row_ind.size());
    s.cols.assign(results[p].col_ind.data(), results[p].col_ind.data() + results[p].col_ind.size());
    const double got = checked_cost(s, costs[p], q.nr, q.nc, what);
    CHECK_LE(std::abs(got - brute_force_assignment_cost(costs[p], q.nr, q.nc, false)), 1e-12, what);
  }
}

DESCRAMBLE_TEST(assignment_eigen_front_end_reads_a_row_stride) {
  // A 4 x 5 block inside a 4 x 9 matrix: the stride must be honoured.
  const std::vector<double> wide = uniform_costs(4, 9, 7000);
  const Eigen::Map<const RowMatrixXd, 0, Eigen::OuterStride<>> view(wide.data(), 4, 5,
                                                                    Eigen::OuterStride<>(9));
  const AssignmentResult r = linear_sum_assignment<double>(view, false);
  std::vector<double> block;
  for (Index i = 0; i < 4; ++i) {
    for (Index j = 0; j < 5; ++j) block.push_back(wide[i * 9 + j]);
  }
  Solved s;
  s.rows.assign(r.row_ind.data(), r.row_ind.data() + r.row_ind.size());
  s.cols.assign(r.col_ind.data(), r.col_ind.data() + r.col_ind.size());
  const double got = checked_cost(s, block, 4, 5, "strided view");
  CHECK_LE(std::abs(got - brute_force_assignment_cost(block, 4, 5, false)), 1e-12, "stride 9");
}
