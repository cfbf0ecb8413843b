// The runner: every registered test in name order (or those whose name holds
// the first argument), a line per failed check, a summary, and the exit status
// ctest reads (0 only when every check passed).
#include "harness.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <exception>
#include <map>

namespace descramble::test {

namespace {

std::map<std::string, std::function<void()>>& registry() {
  static std::map<std::string, std::function<void()>> tests;
  return tests;
}

int failures_in_test = 0;
int failures_total = 0;

}  // namespace

bool register_test(const char* name, std::function<void()> body) {
  registry().emplace(name, std::move(body));
  return true;
}

void fail(const char* file, int line, const std::string& message) {
  ++failures_in_test;
  ++failures_total;
  // Enough lines to diagnose a broken kernel without drowning the log.
  if (failures_in_test <= 10) std::printf("  FAIL %s:%d: %s\n", file, line, message.c_str());
}

}  // namespace descramble::test

int main(int argc, char** argv) {
  using namespace descramble::test;
  const std::string filter = argc > 1 ? argv[1] : "";
  int run = 0, failed = 0;
  for (const auto& [name, body] : registry()) {
    if (name.find(filter) == std::string::npos) continue;
    ++run;
    failures_in_test = 0;
    const auto start = std::chrono::steady_clock::now();
    try {
      body();
    } catch (const std::exception& e) {
      fail(__FILE__, __LINE__, std::string("uncaught exception: ") + e.what());
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (failures_in_test > 0) ++failed;
    std::printf("%s %s (%.2f s)\n", failures_in_test > 0 ? "FAILED" : "ok    ", name.c_str(),
                seconds);
    std::fflush(stdout);
  }
  std::printf("%d of %d tests failed (%d failed checks)\n", failed, run, failures_total);
  if (run == 0) {
    std::printf("no test matches \"%s\"\n", filter.c_str());
    return 1;
  }
  return failed == 0 ? 0 : 1;
}
