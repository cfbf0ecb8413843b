#include "cpu_features.hpp"

#include <cstdint>

#if defined(__x86_64__) || defined(_M_X64)
#define DESCRAMBLE_X86_64 1
#if defined(_MSC_VER)
#include <immintrin.h>
#include <intrin.h>
#else
#include <cpuid.h>
#endif
#endif

namespace descramble::cpu {

namespace {

#ifdef DESCRAMBLE_X86_64

struct Registers {
  std::uint32_t eax = 0, ebx = 0, ecx = 0, edx = 0;
};

// CPUID leaf `leaf`, sub-leaf `sub`; all zero when the leaf does not exist.
Registers cpuid(std::uint32_t leaf, std::uint32_t sub = 0) {
  Registers r;
#if defined(_MSC_VER)
  int out[4];
  __cpuid(out, static_cast<int>(leaf & 0x80000000u));
  if (static_cast<std::uint32_t>(out[0]) < leaf) return r;
  __cpuidex(out, static_cast<int>(leaf), static_cast<int>(sub));
  r = {static_cast<std::uint32_t>(out[0]), static_cast<std::uint32_t>(out[1]),
       static_cast<std::uint32_t>(out[2]), static_cast<std::uint32_t>(out[3])};
#else
  if (__get_cpuid_max(leaf & 0x80000000u, nullptr) < leaf) return r;
  __cpuid_count(leaf, sub, r.eax, r.ebx, r.ecx, r.edx);
#endif
  return r;
}

// XCR0: the register states the operating system saves (requires OSXSAVE).
std::uint64_t xcr0() {
#if defined(_MSC_VER)
  return _xgetbv(0);
#else
  std::uint32_t eax = 0, edx = 0;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (static_cast<std::uint64_t>(edx) << 32) | eax;
#endif
}

bool bit(std::uint32_t value, int index) { return (value >> index & 1u) != 0; }

#endif  // DESCRAMBLE_X86_64

// Features each level needs on top of the one below it.
const std::vector<std::string>& level_features(const std::string& level) {
  static const std::vector<std::string> avx2 = {
      "sse3", "ssse3", "sse4_1", "sse4_2", "popcnt", "cx16",  "lahf",  "avx",   "avx2",
      "fma",  "bmi1",  "bmi2",   "f16c",   "lzcnt",  "movbe", "xsave", "os_avx"};
  static const std::vector<std::string> avx512 = {"avx512f",  "avx512cd", "avx512bw",
                                                  "avx512dq", "avx512vl", "os_avx512"};
  static const std::vector<std::string> none;
  if (level == "avx2") return avx2;
  if (level == "avx512") return avx512;
  return none;
}

}  // namespace

std::vector<std::pair<std::string, bool>> features() {
#ifdef DESCRAMBLE_X86_64
  const Registers l1 = cpuid(1);
  const Registers l7 = cpuid(7);
  const Registers ext = cpuid(0x80000001u);
  const bool osxsave = bit(l1.ecx, 27);
  const std::uint64_t xcr = osxsave ? xcr0() : 0;
  // SSE and AVX (YMM upper halves) state; then the AVX-512 opmask and ZMM states.
  const bool os_avx = (xcr & 0x6u) == 0x6u;
  const bool os_avx512 = os_avx && (xcr & 0xE0u) == 0xE0u;
  return {
      {"sse2", bit(l1.edx, 26)},
      {"sse3", bit(l1.ecx, 0)},
      {"ssse3", bit(l1.ecx, 9)},
      {"sse4_1", bit(l1.ecx, 19)},
      {"sse4_2", bit(l1.ecx, 20)},
      {"popcnt", bit(l1.ecx, 23)},
      {"cx16", bit(l1.ecx, 13)},
      {"lahf", bit(ext.ecx, 0)},
      {"xsave", bit(l1.ecx, 26)},
      {"os_avx", os_avx},
      {"avx", bit(l1.ecx, 28) && os_avx},
      {"avx2", bit(l7.ebx, 5) && os_avx},
      {"fma", bit(l1.ecx, 12) && os_avx},
      {"f16c", bit(l1.ecx, 29) && os_avx},
      {"bmi1", bit(l7.ebx, 3)},
      {"bmi2", bit(l7.ebx, 8)},
      {"lzcnt", bit(ext.ecx, 5)},
      {"movbe", bit(l1.ecx, 22)},
      {"os_avx512", os_avx512},
      {"avx512f", bit(l7.ebx, 16) && os_avx512},
      {"avx512dq", bit(l7.ebx, 17) && os_avx512},
      {"avx512cd", bit(l7.ebx, 28) && os_avx512},
      {"avx512bw", bit(l7.ebx, 30) && os_avx512},
      {"avx512vl", bit(l7.ebx, 31) && os_avx512},
  };
#else
  return {};
#endif
}

std::vector<std::string> supported_levels() {
  std::vector<std::string> levels = {"baseline"};
#ifdef DESCRAMBLE_X86_64
  const auto present = features();
  const auto has = [&](const std::string& name) {
    for (const auto& [feature, on] : present) {
      if (feature == name) return on;
    }
    return false;
  };
  for (const std::string level : {"avx2", "avx512"}) {
    for (const std::string& feature : level_features(level)) {
      if (!has(feature)) return levels;
    }
    levels.push_back(level);
  }
#endif
  return levels;
}

}  // namespace descramble::cpu
