// descramble::Moments against a two-pass mean and scatter: every layout and
// input type, any chunking, merges, thread counts, saved states and errors.
#include <algorithm>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "descramble/moments.hpp"
#include "harness.hpp"
#include "reference.hpp"
#include "thread_policy.hpp"

namespace {

using namespace descramble;
using namespace descramble::test;

// How a block of samples is laid out in memory when it reaches update().
enum class Layout { kRowMajor, kColumnMajor, kEveryOtherColumn, kReversedRows, kRepeatedRow };

const char* name_of(Layout layout) {
  switch (layout) {
    case Layout::kRowMajor:
      return "C order";
    case Layout::kColumnMajor:
      return "Fortran order";
    case Layout::kEveryOtherColumn:
      return "every other column";
    case Layout::kReversedRows:
      return "reversed rows";
    case Layout::kRepeatedRow:
      return "one row repeated (zero row stride)";
  }
  return "?";
}

// Adds rows [r0, r0 + rows) of x to m in the given layout and element type.
// For kRepeatedRow, row r0 is added `rows` times.
template <class T>
void update_as(Moments& m, const RowMatrixXd& x, Index r0, Index rows, Layout layout) {
  const Index n = x.cols();
  std::vector<T> buffer;
  const auto at = [&](Index i, Index j) { return static_cast<T>(x(r0 + i, j)); };
  switch (layout) {
    case Layout::kRowMajor:
      for (Index i = 0; i < rows; ++i) {
        for (Index j = 0; j < n; ++j) buffer.push_back(at(i, j));
      }
      m.update(buffer.data(), rows, n, n, 1);
      return;
    case Layout::kColumnMajor:
      for (Index j = 0; j < n; ++j) {
        for (Index i = 0; i < rows; ++i) buffer.push_back(at(i, j));
      }
      m.update(buffer.data(), rows, n, 1, rows);
      return;
    case Layout::kEveryOtherColumn:
      for (Index i = 0; i < rows; ++i) {
        for (Index j = 0; j < n; ++j) {
          buffer.push_back(at(i, j));
          buffer.push_back(static_cast<T>(1e300));  // never read
        }
      }
      m.update(buffer.data(), rows, n, 2 * n, 2);
      return;
    case Layout::kReversedRows:
      for (Index i = rows - 1; i >= 0; --i) {
        for (Index j = 0; j < n; ++j) buffer.push_back(at(i, j));
      }
      m.update(buffer.data() + (rows > 0 ? (rows - 1) * n : 0), rows, n, -n, 1);
      return;
    case Layout::kRepeatedRow:
      for (Index j = 0; j < n; ++j) buffer.push_back(at(0, j));
      m.update(buffer.data(), rows, n, 0, 1);
      return;
  }
}

// x rounded to T, as the core sees it after reading T.
template <class T>
RowMatrixXd as_read(const RowMatrixXd& x) {
  return x.cast<T>().template cast<double>();
}

// Normal samples with per-column spread and offset, so the mean matters.
RowMatrixXd samples(Index rows, Index n, std::uint64_t seed, double offset = 3.0) {
  RowMatrixXd x = normal_matrix(rows, n, seed);
  const RowMatrixXd column = normal_matrix(2, n, seed + 1);
  for (Index j = 0; j < n; ++j) {
    x.col(j) =
        x.col(j) * (1.0 + std::abs(column(0, j))) + VectorXd::Constant(rows, offset + column(1, j));
  }
  return x;
}

// The reference answers for x, computed once for all the states compared.
struct Expected {
  Index rows;
  TwoPass two_pass;
  RowMatrixXd gram;
  explicit Expected(const RowMatrixXd& x)
      : rows(x.rows()), two_pass(two_pass_moments(x)), gram(x.transpose() * x) {}
};

void check_matches(Moments& m, const Expected& ref, const std::string& what) {
  const double tol = 1e-12;
  CHECK(m.count() == ref.rows, what, ": count ", m.count(), " for ", ref.rows, " rows");
  CHECK_LE(relative_max_difference(m.mean(), ref.two_pass.mean), tol, what, ": mean");
  CHECK_LE(relative_max_difference(m.scatter(), ref.two_pass.scatter), tol, what, ": scatter");
  CHECK_LE(relative_max_difference(m.gram(), ref.gram), tol, what, ": gram");
}

void check_matches(Moments& m, const RowMatrixXd& x, const std::string& what) {
  check_matches(m, Expected(x), what);
}

// Splits rows into consecutive pieces of the given sizes (the rest last).
std::vector<std::pair<Index, Index>> pieces(Index rows, const std::vector<Index>& sizes) {
  std::vector<std::pair<Index, Index>> out;
  Index at = 0;
  for (Index s : sizes) {
    const Index take = std::min(s, rows - at);
    out.push_back({at, take});
    at += take;
  }
  if (at < rows) out.push_back({at, rows - at});
  return out;
}

template <class T>
void check_layouts(Index rows, Index n, const std::vector<Layout>& layouts, const char* type) {
  const RowMatrixXd x = samples(rows, n, 31 * static_cast<std::uint64_t>(rows) + n);
  const Expected expected(as_read<T>(x));
  for (Layout layout : layouts) {
    Moments m(n);
    // Pieces below and above the small-batch buffer, and an empty one.
    for (auto [r0, count] : pieces(rows, {3, 0, 300, 1, 100})) {
      update_as<T>(m, x, r0, count, layout);
    }
    check_matches(m, expected,
                  std::string(type) + " " + name_of(layout) + " " + std::to_string(rows) + " x " +
                      std::to_string(n));
  }
}

}  // namespace

DESCRAMBLE_TEST(moments_match_the_two_pass_reference_in_every_layout) {
  const std::vector<Layout> all = {Layout::kRowMajor, Layout::kColumnMajor,
                                   Layout::kEveryOtherColumn, Layout::kReversedRows};
  // Narrow states (one tile), a wide one with partial groups, tiled ones.
  for (auto [rows, n] :
       std::vector<std::pair<Index, Index>>{{1, 1}, {5, 40}, {700, 9}, {900, 33}, {1100, 515}}) {
    check_layouts<double>(rows, n, all, "f64");
    check_layouts<float>(rows, n, all, "f32");
  }
}

DESCRAMBLE_TEST(moments_of_a_repeated_row_have_zero_scatter) {
  for (Index rows : {Index{5}, Index{600}}) {
    const RowMatrixXd x = samples(1, 12, 3);
    Moments m(12);
    update_as<double>(m, x, 0, rows, Layout::kRepeatedRow);
    // The reference's own mean rounds, so its scatter is tiny, not zero:
    // compare against the exact values instead.
    const VectorXd row = x.row(0).transpose();
    const RowMatrixXd gram = static_cast<double>(rows) * row * row.transpose();
    CHECK(m.count() == rows, "rows = ", rows);
    CHECK_LE(relative_max_difference(m.mean(), row), 1e-15, "rows = ", rows);
    CHECK_LE(relative_max_difference(m.gram(), gram), 1e-13, "rows = ", rows);
    CHECK_LE(m.scatter().cwiseAbs().maxCoeff(), 1e-12 * gram.cwiseAbs().maxCoeff(),
             "rows = ", rows);
  }
}

DESCRAMBLE_TEST(moments_any_chunking_equals_one_pass) {
  const Index rows = 2500, n = 37;
  const RowMatrixXd x = samples(rows, n, 41);
  Moments one(n);
  one.update(x.data(), rows, n, n, 1);
  std::mt19937_64 engine(42);
  for (int trial = 0; trial < 6; ++trial) {
    std::uniform_int_distribution<Index> size(0, trial % 2 == 0 ? 40 : 700);
    std::vector<Index> sizes;
    for (Index total = 0; total < rows;) {
      sizes.push_back(size(engine));
      total += sizes.back();
    }
    Moments chunked(n);
    for (auto [r0, count] : pieces(rows, sizes)) {
      chunked.update(x.data() + r0 * n, count, n, n, 1);
    }
    const std::string what = "trial " + std::to_string(trial);
    CHECK(chunked.count() == rows, what);
    CHECK_LE(relative_max_difference(chunked.mean(), one.mean()), 1e-13, what);
    CHECK_LE(relative_max_difference(chunked.scatter(), one.scatter()), 1e-12, what);
  }
}

DESCRAMBLE_TEST(moments_merge_equals_concatenation) {
  const Index n = 21;
  const RowMatrixXd a = samples(300, n, 51, 1.0), b = samples(20, n, 52, -2.0);
  RowMatrixXd both(a.rows() + b.rows(), n);
  both << a, b;
  Moments ma(n), mb(n);
  ma.update(a.data(), a.rows(), n, n, 1);
  mb.update(b.data(), b.rows(), n, n, 1);  // stays in the small-batch buffer
  Moments merged(ma);
  merged.merge(mb);
  check_matches(merged, both, "a + b");
  check_matches(ma, a, "a after the merge");
  check_matches(mb, b, "b after the merge");
  // Empty on either side, and a state merged with itself (every sample twice).
  Moments empty(n), into_empty(n);
  into_empty.merge(ma);
  check_matches(into_empty, a, "empty + a");
  Moments plus_empty(ma);
  plus_empty.merge(empty);
  check_matches(plus_empty, a, "a + empty");
  Moments twice(ma);
  twice.merge(twice);
  RowMatrixXd aa(2 * a.rows(), n);
  aa << a, a;
  check_matches(twice, aa, "a + a");
  Moments other(n + 1);
  CHECK_THROWS(ma.merge(other), std::invalid_argument,
               "cannot merge statistics of 22 variables into 21", "n mismatch");
}

DESCRAMBLE_TEST(moments_float32_input_equals_float64_of_the_same_values) {
  // float -> double is exact and the update works in double from there on.
  for (auto [rows, n] : std::vector<std::pair<Index, Index>>{{700, 9}, {1100, 515}}) {
    const RowMatrixXd x = samples(rows, n, 61);
    const RowMatrixXd seen = as_read<float>(x);
    for (Layout layout : {Layout::kRowMajor, Layout::kColumnMajor}) {
      Moments from_float(n), from_double(n);
      update_as<float>(from_float, x, 0, rows, layout);
      update_as<double>(from_double, seen, 0, rows, layout);
      const std::string what = std::string(name_of(layout)) + " n = " + std::to_string(n);
      CHECK(from_float.mean() == from_double.mean(), what);
      CHECK(from_float.scatter() == from_double.scatter(), what);
    }
  }
}

DESCRAMBLE_TEST(moments_keep_the_digits_of_a_large_offset) {
  // The raw formula sum x x^T - N mean mean^T would cancel 12 of 16 digits.
  const Index rows = 3000, n = 6;
  RowMatrixXd x = normal_matrix(rows, n, 71) * 1e-2;
  x.array() += 1e6;
  Moments m(n);
  for (auto [r0, count] : pieces(rows, {100, 1000, 7, 900})) {
    m.update(x.data() + r0 * n, count, n, n, 1);
  }
  const TwoPass ref = two_pass_moments(x);
  CHECK_LE(relative_max_difference(m.scatter(), ref.scatter), 1e-9, "streamed");
  Moments head(n), tail(n);
  head.update(x.data(), 500, n, n, 1);
  tail.update(x.data() + 500 * n, rows - 500, n, n, 1);
  head.merge(tail);
  CHECK_LE(relative_max_difference(head.scatter(), ref.scatter), 1e-9, "merged");
}

DESCRAMBLE_TEST(moments_same_answer_on_one_thread_and_all_threads) {
  // Narrow states split rows among threads, wide ones share tiles; both only
  // above the work at which a second thread pays.
  for (auto [rows, n] : std::vector<std::pair<Index, Index>>{{3000, 200}, {1300, 600}}) {
    const RowMatrixXd x = samples(rows, n, 81);
    const std::string size = std::to_string(rows) + " x " + std::to_string(n);
    Moments one(n), all(n);
    {
      const detail::ThreadLimit limit(true);
      one.update(x.data(), rows, n, n, 1);
    }
    all.update(x.data(), rows, n, n, 1);
    const Expected expected(x);
    check_matches(one, expected, "one thread " + size);
    check_matches(all, expected, "all threads " + size);
    CHECK_LE(relative_max_difference(all.scatter(), one.scatter()), 1e-13, size);
  }
}

DESCRAMBLE_TEST(moments_saved_state_round_trip) {
  const Index n = 10;
  const RowMatrixXd x = samples(900, n, 91);
  Moments m(n);
  m.update(x.data(), 400, n, n, 1);
  Moments restored(m.count(), m.mean(), m.scatter());
  restored.update(x.data() + 400 * n, 500, n, n, 1);
  check_matches(restored, x, "restored, then updated");
  Moments copy(n);
  copy = restored;
  check_matches(copy, x, "assigned copy");
}

DESCRAMBLE_TEST(moments_reject_bad_input_and_stay_unchanged) {
  CHECK_THROWS(Moments(0), std::invalid_argument, "must be >= 1, got 0", "n = 0");
  const Index n = 5;
  for (Index rows : {Index{20}, Index{300}}) {  // buffered and direct batches
    const std::string what = "rows = " + std::to_string(rows);
    const RowMatrixXd good = samples(50, n, 101);
    Moments m(n);
    m.update(good.data(), 50, n, n, 1);
    RowMatrixXd bad = samples(rows, n, 102);
    bad(rows - 1, 2) = std::numeric_limits<double>::quiet_NaN();
    CHECK_THROWS(m.update(bad.data(), rows, n, n, 1), std::domain_error,
                 "row " + std::to_string(rows - 1) + " contains NaN or infinity", what);
    bad(rows - 1, 2) = 2e100;
    CHECK_THROWS(m.update(bad.data(), rows, n, n, 1), std::domain_error,
                 "contains a value beyond 1e100", what);
    CHECK_THROWS(m.update(bad.data(), rows, n - 1, n, 1), std::invalid_argument,
                 "expected 5 columns, got 4", what);
    check_matches(m, good, "after the rejected batches, " + what);
  }
  const VectorXd mean = VectorXd::Zero(3);
  const RowMatrixXd scatter = RowMatrixXd::Identity(3, 3);
  CHECK_THROWS(Moments(-1, mean, scatter), std::invalid_argument, "count must be >= 0", "");
  CHECK_THROWS(Moments(4, mean, RowMatrixXd::Identity(2, 2)), std::invalid_argument,
               "expected a (3, 3) scatter", "");
  CHECK_THROWS(Moments(0, mean, scatter), std::invalid_argument, "count is 0", "");
  RowMatrixXd negative = scatter;
  negative(1, 1) = -1.0;
  CHECK_THROWS(Moments(4, mean, negative), std::domain_error, "negative diagonal entry at [1, 1]",
               "");
}
