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
#include <cstdlib>
#include <memory>
#include <new>
#include <vector>

#include "descramble/types.hpp"

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace descramble::detail {

constexpr std::uintptr_t kHugePage = std::uintptr_t{1} << 21;

// Asks for huge pages on the 2 MiB-aligned part of [data, data + bytes).
// Advice only: must come before the first touch, and failure changes nothing.
inline void advise_huge_pages(void* data, std::size_t bytes) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  const std::uintptr_t begin = reinterpret_cast<std::uintptr_t>(data);
  const std::uintptr_t first = (begin + kHugePage - 1) & ~(kHugePage - 1);
  const std::uintptr_t last = (begin + bytes) & ~(kHugePage - 1);
  if (last > first) madvise(reinterpret_cast<void*>(first), last - first, MADV_HUGEPAGE);
#else
  (void)data;
  (void)bytes;
#endif
}

// `size` doubles, not initialised, starting on a cache line, and for a block
// of 2 MiB or more on a huge page boundary with the whole block advised:
// every page of a panel is then a huge one. A heap block would start part way
// into a page, and its unaligned head and tail (up to 4 MiB) would fault in
// 4 KiB at a time, which costs more than the panel's whole centring pass for
// one-shot products of a few hundred variables.
class HugePageArray {
 public:
  HugePageArray() = default;
  explicit HugePageArray(Index size) : size_(size) {
    const std::size_t bytes = static_cast<std::size_t>(size) * sizeof(double);
    const std::uintptr_t align = bytes >= kHugePage ? kHugePage : 64;
    block_.reset(std::malloc(bytes + align));
    if (!block_) throw std::bad_alloc();
    const std::uintptr_t start = reinterpret_cast<std::uintptr_t>(block_.get());
    data_ = reinterpret_cast<double*>((start + align - 1) & ~(align - 1));
    advise_huge_pages(data_, bytes);
  }
  double* data() const { return data_; }
  Index size() const { return size_; }

 private:
  struct Free {
    void operator()(void* p) const { std::free(p); }
  };
  std::unique_ptr<void, Free> block_;
  double* data_ = nullptr;
  Index size_ = 0;
};

// The rank-k update's panel buffers, one per thread or per double-buffered
// panel. A Moments keeps them across batches, so that a stream of batches
// does not allocate and fault in fresh pages on every call.
struct PanelBuffers {
  std::vector<HugePageArray> buffers;
};

}  // namespace descramble::detail
