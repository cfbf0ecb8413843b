// A team barrier for the eigensolver's parallel regions that stays cheap when
// the machine is shared.
//
// The reduction to tridiagonal form synchronises its threads a few times per
// column (thousands of times per solve). An OpenMP barrier spins on a core and
// then sleeps; when another process holds the partner's core, every barrier
// waits a scheduler time slice (measured: 7 ms per symmetric matrix-vector
// product instead of 50 us on a busy 2-core machine). This barrier spins
// briefly and then yields, so a partner thread waiting for a core gets it.
#pragma once

#include <atomic>
#include <thread>

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#endif

namespace descramble::detail {

class TeamBarrier {
 public:
  explicit TeamBarrier(int threads) : threads_(threads) {}
  TeamBarrier(const TeamBarrier&) = delete;
  TeamBarrier& operator=(const TeamBarrier&) = delete;

  // Returns once all `threads` members have called wait(); everything a
  // member wrote before its call is visible to every member afterwards.
  void wait() {
    if (threads_ == 1) return;
    const unsigned gen = generation_.load(std::memory_order_acquire);
    if (arrived_.fetch_add(1, std::memory_order_acq_rel) == threads_ - 1) {
      arrived_.store(0, std::memory_order_relaxed);
      generation_.fetch_add(1, std::memory_order_acq_rel);
      return;
    }
    for (int spin = 0; generation_.load(std::memory_order_acquire) == gen; ++spin) {
      if (spin < kSpins) {
        pause();
      } else {
        std::this_thread::yield();
      }
    }
  }

 private:
  static constexpr int kSpins = 256;

  // Tells the core it is spinning (frees pipeline resources for a sibling
  // hyperthread); a no-op where the architecture has no such hint.
  static void pause() {
#if defined(__x86_64__) || defined(_M_X64)
    _mm_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
  }

  const int threads_;
  alignas(64) std::atomic<int> arrived_{0};
  alignas(64) std::atomic<unsigned> generation_{0};
};

}  // namespace descramble::detail
