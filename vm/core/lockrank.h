// Lock ranks (Go's lockrank.go): every runtime lock has a rank, and a
// thread may take a lock only while every lock it holds ranks lower. The
// order is the one list below, so a cycle (a deadlock waiting to happen)
// cannot be written without breaking it somewhere a test runs. Builds with
// WEFT_LOCKRANK (Debug and the sanitizer builds) check every acquisition
// and abort naming both locks; other builds compile the checks away.
//
// A leaf header: it includes nothing from vm/, so every layer may use it.
//
// Held locks are counted per OS thread. A goroutine never parks holding a
// lock, except through gopark's unlockf, which g0 runs on the same thread;
// so a lock is always released by the thread that took it.
#pragma once

#include <cstdint>
#include <mutex>

namespace weft {

// Lowest first. Locks of one rank are taken one at a time, except channel
// locks, which select takes several of in address order.
#define WEFT_LOCK_RANKS(X)                                                              \
  X(HostSched, "Runtime::sched_mu_")      /* starting, stopping, spawning (host) */    \
  X(Heaps, "gc: heaps list")              /* the collector holds it for a cycle */     \
  X(Stw, "sched: stop-the-world")         /* one stopper at a time */                  \
  X(Scheds, "sched: running schedulers")  /* the list a stop-the-world stops */        \
  X(GcWaiters, "gc: waiters")             /* goroutines waiting in gc() */             \
  X(Sched, "sched.lock")                                                               \
  X(Chan, "channel")                                                                   \
  X(Imports, "lib: file modules")         /* held into gopark, as a channel's */      \
  X(Timers, "sched: timers")                                                           \
  X(AllG, "sched: allglock")                                                           \
  X(Globals, "Runtime::globals_mu_")      /* the global table's names */               \
  X(Host, "HostState::mu")                /* handles and requests of the API */        \
  X(Done, "sched: done_mu")               /* a run's outcome; host waiters */          \
  X(Collector, "gc: collector mailbox")                                                \
  X(HeapCaches, "gc: caches")                                                          \
  X(HeapStats, "gc: stats")                                                            \
  X(LibFile, "lib: a file's I/O")         /* fs.open's files; held across a read (no P) */ \
  X(LibEnv, "lib: environment")           /* getenv/setenv/environ, os.run's spawn */  \
  X(LibChildren, "lib: child processes")  /* os.run's live children */                 \
  X(Leaf, "leaf")                         /* tables that take nothing under them */

enum class LockRank : uint8_t {
#define WEFT_RANK_ENUM(name, text) name,
  WEFT_LOCK_RANKS(WEFT_RANK_ENUM)
#undef WEFT_RANK_ENUM
};

const char* lockrank_name(LockRank rank);

#ifdef WEFT_LOCKRANK
// Records that this thread takes (has taken) `lock` of `rank`; aborts when
// it holds a lock of the same or a higher rank (a channel lock of a lower
// address, for Chan). try_lock acquisitions cannot deadlock and are
// recorded without the check.
void lockrank_acquire(LockRank rank, const void* lock, bool check = true);
void lockrank_release(LockRank rank, const void* lock);
#else
inline void lockrank_acquire(LockRank, const void*, bool = true) {}
inline void lockrank_release(LockRank, const void*) {}
#endif

// A std::mutex with a rank: a drop-in for std::lock_guard and std::unique_lock
// (and std::condition_variable_any).
class Mutex {
 public:
  explicit Mutex(LockRank rank) : rank_(rank) {}
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void lock() {
    lockrank_acquire(rank_, this);
    mu_.lock();
  }
  bool try_lock() {
    if (!mu_.try_lock()) return false;
    lockrank_acquire(rank_, this, false);
    return true;
  }
  void unlock() {
    mu_.unlock();
    lockrank_release(rank_, this);
  }

 private:
  std::mutex mu_;
  LockRank rank_;
};

}  // namespace weft
