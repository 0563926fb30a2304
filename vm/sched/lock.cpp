// HandoffLock's slow paths (the model is in vm/sched/lock.h).
#include "vm/sched/lock.h"


#include "vm/sched/os_linux.h"

namespace weft::sched {

namespace {

constexpr int kLockSpins = 100;  // CAS attempts before sleeping: holders keep it for ~50 ns

}  // namespace

void HandoffLock::lock_slow() {
  for (int i = 0; i < kLockSpins; i++) {
    uint32_t free = 0;
    if (word_.load(std::memory_order_relaxed) == 0 &&
        word_.compare_exchange_weak(free, 1, std::memory_order_acquire))
      return;
  }
  // 2 marks "held, maybe with sleepers": this thread may be one.
  while (word_.exchange(2, std::memory_order_acquire) != 0) futexsleep(&word_, 2);
}

void HandoffLock::wake_one() { futexwakeup(&word_, 1); }

}  // namespace weft::sched
