// Internal to moments.cpp: large scratch and state buffers backed by
// transparent huge pages where the kernel offers them.
//
// A 4096 x 4096 float64 state is 128 MiB: on 4 KiB pages its first touch takes
// 32768 page faults against 64 on 2 MiB pages, and the rank-k update then
// walks rows 32 KiB apart with far fewer TLB misses. numpy advises its own
// large arrays the same way. Linux only; elsewhere a no-op.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "descramble/types.hpp"

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace descramble::detail {

// Asks for huge pages on the 2 MiB-aligned part of [data, data + bytes).
// Advice only: must come before the first touch, and failure changes nothing.
inline void advise_huge_pages(void* data, std::size_t bytes) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  constexpr std::uintptr_t kHuge = std::uintptr_t{1} << 21;
  const std::uintptr_t begin = reinterpret_cast<std::uintptr_t>(data);
  const std::uintptr_t first = (begin + kHuge - 1) & ~(kHuge - 1);
  const std::uintptr_t last = (begin + bytes) & ~(kHuge - 1);
  if (last > first) madvise(reinterpret_cast<void*>(first), last - first, MADV_HUGEPAGE);
#else
  (void)data;
  (void)bytes;
#endif
}

// A zero-filled buffer of `size` doubles on huge pages.
inline std::vector<double> huge_page_buffer(Index size) {
  std::vector<double> buffer;
  buffer.reserve(static_cast<std::size_t>(size));  // allocated, not yet touched
  advise_huge_pages(buffer.data(), static_cast<std::size_t>(size) * sizeof(double));
  buffer.resize(static_cast<std::size_t>(size));
  return buffer;
}

}  // namespace descramble::detail
