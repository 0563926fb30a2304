// The Linux system calls under the scheduler (os_linux.cpp): futexes and
// directed signals. Notes (notesleep/notewakeup, sched.h) are built on
// these; nothing else in the VM calls the kernel for scheduling.
#pragma once

#include <time.h>

#include <atomic>
#include <cstdint>

namespace weft::sched {

// Sleeps while *addr == val, until woken, for at most *timeout (nullptr: no
// limit); spurious and EINTR wake-ups return too, so callers loop. False
// on timeout.
bool futexsleep(std::atomic<uint32_t>* addr, uint32_t val, const timespec* timeout = nullptr);
// Wakes up to n sleepers on addr.
void futexwakeup(std::atomic<uint32_t>* addr, int n = 1);
// This thread's kernel id, and a signal directed at one thread of this process.
int32_t gettid();
void tgkill(int32_t tid, int sig);

}  // namespace weft::sched
