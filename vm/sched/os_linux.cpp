// The Linux primitives the scheduler is built on: the monotonic clock,
// futexes and the notes on them, and thread ids and directed signals.
// Every blocking call here retries on EINTR (a SIGURG for preemption may
// land on any thread at any time).
#include "vm/sched/os_linux.h"

#include <linux/futex.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>

#include "vm/core/fatal.h"
#include "vm/sched/sched.h"

namespace weft::sched {

int64_t nanotime() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

bool futexsleep(std::atomic<uint32_t>* addr, uint32_t val, const timespec* timeout) {
  long r = syscall(SYS_futex, reinterpret_cast<uint32_t*>(addr), FUTEX_WAIT_PRIVATE, val, timeout, nullptr, 0);
  if (r != 0 && errno != EAGAIN && errno != EINTR && errno != ETIMEDOUT) fatal("sched: futex wait failed");
  return r == 0 || errno != ETIMEDOUT;
}

void futexwakeup(std::atomic<uint32_t>* addr, int n) {
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(addr), FUTEX_WAKE_PRIVATE, n, nullptr, nullptr, 0);
}

int32_t gettid() { return int32_t(syscall(SYS_gettid)); }

void tgkill(int32_t tid, int sig) { syscall(SYS_tgkill, getpid(), tid, sig); }

bool notesleep(std::atomic<uint32_t>* note, int64_t timeout_ns) {
  int64_t deadline = timeout_ns < 0 ? -1 : nanotime() + timeout_ns;
  while (note->load(std::memory_order_acquire) == 0) {
    timespec ts, *tsp = nullptr;
    if (deadline >= 0) {
      int64_t left = deadline - nanotime();
      if (left <= 0) return false;
      ts.tv_sec = left / 1000000000;
      ts.tv_nsec = left % 1000000000;
      tsp = &ts;
    }
    futexsleep(note, 0, tsp);
  }
  return true;
}

// Release / notesleep's acquire: the sleeper sees what the waker wrote
// before the wakeup (a handed-off P, a G to run); the futex itself orders
// nothing for memory on arm64.
void notewakeup(std::atomic<uint32_t>* note) {
  note->store(1, std::memory_order_release);
  futexwakeup(note, 1);
}

}  // namespace weft::sched
