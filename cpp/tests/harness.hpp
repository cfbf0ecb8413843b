// A minimal test harness for the core's C++ tests: tests register themselves
// with DESCRAMBLE_TEST, checks record failures with file, line and values,
// and the runner (harness.cpp) exits non-zero when any check failed or any
// test threw.
#pragma once

#include <cmath>
#include <cstdint>
#include <functional>
#include <sstream>
#include <string>

namespace descramble::test {

// Registers `body` under `name`; returns a dummy so it can run at static
// initialisation.
bool register_test(const char* name, std::function<void()> body);

// Records a failed check of the running test (the test goes on).
void fail(const char* file, int line, const std::string& message);

template <class A, class B>
std::string describe(const char* what, const A& a, const B& b) {
  std::ostringstream s;
  s.precision(17);
  s << what << " (" << a << " vs " << b << ")";
  return s.str();
}

}  // namespace descramble::test

#define DESCRAMBLE_TEST_CONCAT_(a, b) a##b
#define DESCRAMBLE_TEST_CONCAT(a, b) DESCRAMBLE_TEST_CONCAT_(a, b)

// DESCRAMBLE_TEST(name) { ... }: a test case, found and run by the runner.
#define DESCRAMBLE_TEST(name)                                   \
  static void name();                                           \
  static const bool DESCRAMBLE_TEST_CONCAT(name, _registered) = \
      ::descramble::test::register_test(#name, name);           \
  static void name()

// CHECK(cond, context...): on failure prints the condition and the context
// (anything streamable), then continues with the test.
#define CHECK(cond, ...)                                                                 \
  do {                                                                                   \
    if (!(cond)) {                                                                       \
      std::ostringstream check_context_;                                                 \
      check_context_.precision(17);                                                      \
      ::descramble::test::stream_all(check_context_, __VA_ARGS__);                       \
      ::descramble::test::fail(__FILE__, __LINE__,                                       \
                               std::string("CHECK(" #cond ") ") + check_context_.str()); \
    }                                                                                    \
  } while (false)

// CHECK_LE(value, bound, context...): value <= bound, printing both.
#define CHECK_LE(value, bound, ...)                                                              \
  do {                                                                                           \
    const auto check_value_ = (value);                                                           \
    const auto check_bound_ = (bound);                                                           \
    if (!(check_value_ <= check_bound_)) {                                                       \
      std::ostringstream check_context_;                                                         \
      check_context_.precision(17);                                                              \
      ::descramble::test::stream_all(check_context_, __VA_ARGS__);                               \
      ::descramble::test::fail(                                                                  \
          __FILE__, __LINE__,                                                                    \
          ::descramble::test::describe(#value " <= " #bound, check_value_, check_bound_) + " " + \
              check_context_.str());                                                             \
    }                                                                                            \
  } while (false)

// CHECK_THROWS(statement, Exception, "text in what()", context...).
#define CHECK_THROWS(statement, error_type, text, ...)                                            \
  do {                                                                                            \
    std::ostringstream check_context_;                                                            \
    ::descramble::test::stream_all(check_context_, __VA_ARGS__);                                  \
    try {                                                                                         \
      statement;                                                                                  \
      ::descramble::test::fail(__FILE__, __LINE__,                                                \
                               "no " #error_type " from " #statement " " + check_context_.str()); \
    } catch (const error_type& check_error_) {                                                    \
      if (std::string(check_error_.what()).find(text) == std::string::npos) {                     \
        ::descramble::test::fail(                                                                 \
            __FILE__, __LINE__,                                                                   \
            std::string(#error_type " without \"") + (text) + "\": " + check_error_.what());      \
      }                                                                                           \
    } catch (const std::exception& check_error_) {                                                \
      ::descramble::test::fail(                                                                   \
          __FILE__, __LINE__,                                                                     \
          std::string("wrong exception from " #statement ": ") + check_error_.what());            \
    }                                                                                             \
  } while (false)

namespace descramble::test {

inline void stream_all(std::ostream&) {}
template <class First, class... Rest>
void stream_all(std::ostream& s, const First& first, const Rest&... rest) {
  s << first;
  stream_all(s, rest...);
}

}  // namespace descramble::test
