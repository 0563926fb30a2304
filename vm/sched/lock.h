// A runtime lock that a goroutine takes and its M's g0 releases (Go's
// runtime mutex, as opposed to std::mutex).
//
// Model. gopark's unlockf (sched.h) releases, on the M's g0, a lock that
// the parking goroutine took on its own stack: "lock, queue myself, park,
// unlock once I am off my stack" keeps wakers away until the G can be
// readied. g0 and the goroutine are the same OS thread, but to TSan they are
// two fibers (vm/arch/stack.h), and a std::mutex (pthread) unlocked by
// another fiber than its locker is "unlock of an unlocked mutex (or by a
// wrong thread)", its release skipped, so the next holder seems to race
// with the parked G. This lock is a futex word with acquire/release
// atomics only: it has no owner, which is what the hand-off needs, and
// TSan orders each unlock before the next lock like any other lock.
//
// Drepper's futex mutex ("Futexes are tricky", mutex3): 0 free, 1 held,
// 2 held with possible sleepers; the unlocker wakes one sleeper when it
// finds 2. Spins briefly first: the holders (gc_wait's waiter list) keep it
// for a few instructions, and a parked holder's g0 releases it at once.
// It has a rank like weft::Mutex (vm/core/lockrank.h), checked per OS
// thread: g0 runs on the OS thread of the goroutine that locked.
//
// Rejected: TSan's fiber annotations for the hand-off (running unlockf
// under the parked G's fiber would need that G's stack, which a stackless
// park has already returned to the pool).
#pragma once

#include <atomic>
#include <cstdint>

#include "vm/core/lockrank.h"

namespace weft::sched {

class HandoffLock {
 public:
  explicit HandoffLock(LockRank rank) : rank_(rank) {}
  HandoffLock(const HandoffLock&) = delete;
  HandoffLock& operator=(const HandoffLock&) = delete;

  // Any thread; not reentrant. Satisfies BasicLockable (std::lock_guard).
  void lock() {
    lockrank_acquire(rank_, this);
    uint32_t free = 0;
    // Acquire / release (unlock): the critical section's accesses stay
    // between them on arm64 too (LDAXR/CASA ... STLR), nothing stronger.
    if (!word_.compare_exchange_strong(free, 1, std::memory_order_acquire)) lock_slow();
  }
  // Any fiber of the locking OS thread, not only the locking one (the point
  // of this lock).
  void unlock() {
    if (word_.exchange(0, std::memory_order_release) == 2) wake_one();
    lockrank_release(rank_, this);
  }

 private:
  void lock_slow();
  void wake_one();
  std::atomic<uint32_t> word_{0};
  LockRank rank_;
};

}  // namespace weft::sched
