// What the running CPU and operating system support, for the loader's choice
// of kernel level. Built with the baseline flags only (descramble._cpu), so
// asking never executes an instruction the CPU may lack.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace descramble::cpu {

// (name, present) for every feature a kernel level relies on. A vector
// feature counts as present only when the operating system also saves its
// registers on a context switch (XCR0), as a CPU may have AVX-512 that the
// kernel has not enabled.
std::vector<std::pair<std::string, bool>> features();

// The kernel levels this CPU runs, lowest first: "baseline" always, then
// "avx2" (the x86-64-v3 set) and "avx512" (x86-64-v4) on x86-64 CPUs that have
// every feature of the level.
std::vector<std::string> supported_levels();

}  // namespace descramble::cpu
