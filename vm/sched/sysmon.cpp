// sysmon: the scheduler's watchdog thread (Go's sysmon), and --trace=sched.
//
// It has no M and no P, so it runs no Weft code and never allocates from
// the heap. It sleeps on Sched::sysmon_note (notesleep, vm/sched/os_linux.cpp)
// between rounds; add_timer pokes the note when a new deadline falls before
// its next look, and sched_stop pokes it to end the loop. Each round it:
//  - fires due timers (fire_timers: with every P busy running goroutines,
//    nobody else would; the Gs are readied through the global queue);
//  - in retake (Go's), looks at every P:
//    . _Prunning, and its G has run a whole time slice (Options::time_slice_ns,
//      10 ms by default: the P's schedtick did not move since the last look
//      and schedwhen_ns is that old): preemptone sets g->preempt, poisons
//      the guard and signals the M (preemptM, unless asynchronous
//      preemption is off), so the G yields at whichever safe-point comes
//      first, synchronous or asynchronous;
//    . _Psyscall for a whole round (its syscalltick did not move): the P is
//      handed off, unless its run queue is empty, another M is looking for
//      work anyway (one spins or a P is idle) and it has been there less
//      than kForcePreempt. trycasp takes it _Psyscall -> _Pidle, racing the
//      returning M's exitsyscall, and handoffp starts an M on it when there
//      is work or nobody else looks for any, else puts it on the idle list;
//  - in a round that handed off no P, runs checkdead under sched.lock (the
//    last M may have gone idle while a collection was in flight, when
//    checkdead could not decide);
//  - prints a --trace=sched line (schedtrace_line) once a second when asked.
// While the world is stopping (gcwaiting) it does none of this and looks
// again in 1 ms. Otherwise it polls every 20 µs; after 50 rounds in a row
// that handed off no P (1 ms), the delay doubles each round up to 10 ms,
// as Go's does, and shrinks to the next timer's deadline when that is
// sooner (never below 20 µs).
#include <chrono>
#include <cinttypes>
#include <cstdio>

#include "vm/sched/preempt.h"
#include "vm/sched/sched.h"

namespace weft::sched {

void run_timers(Sched* s, int64_t now);
int64_t timer_timeout(Sched* s, int64_t now);

namespace {

using namespace std::chrono_literals;

// As Go's forcePreemptNS: how long a P may sit in a syscall before it is
// handed off even when nothing waits for it. The time slice of a running G
// is Options::time_slice_ns (10 ms by default, like Go's: latency stays low
// without measurable switching overhead).
constexpr int64_t kForcePreempt = std::chrono::nanoseconds(10ms).count();
constexpr int64_t kMinDelay = std::chrono::nanoseconds(20us).count();
constexpr int64_t kMaxDelay = std::chrono::nanoseconds(10ms).count();
constexpr int kIdleRoundsBeforeBackoff = 50;  // 50 x 20 µs = 1 ms, as Go
constexpr int64_t kStwDelay = std::chrono::nanoseconds(1ms).count();  // while the world stops
constexpr int64_t kTraceEvery = std::chrono::nanoseconds(1s).count();

// Go's retake. Returns how many Ps in syscalls it handed off: only those
// need sysmon's fast polling (a syscall P retaken 20 µs late keeps runnable
// work waiting); a time slice preempted late by a millisecond is 10% of
// a 10 ms slice, and polling every 20 µs costs a small machine a CPU that
// the goroutines being stopped need.
int retake(Sched* s, int64_t now) {
  int n = 0;
  const int64_t slice = s->opts.time_slice_ns;
  for (P* p : s->allp) {
    uint32_t st = p->status.load(std::memory_order_acquire);
    if (st == _Prunning) {
      uint64_t tick = p->schedtick.load(std::memory_order_relaxed);
      if (tick != p->sysmon_schedtick) {
        p->sysmon_schedtick = tick;
      } else if (now - p->schedwhen_ns.load(std::memory_order_relaxed) >= slice) {
        preemptone(p);  // both kinds: the guard for calls, a signal for call-free loops
      }
    } else if (st == _Psyscall) {
      uint64_t tick = p->syscalltick.load(std::memory_order_relaxed);
      if (tick != p->sysmon_syscalltick) {  // give it one round
        p->sysmon_syscalltick = tick;
        continue;
      }
      if (runqempty(p) && s->nmspinning.load() + s->npidle.load() > 0 &&
          now - p->syscallwhen_ns.load(std::memory_order_relaxed) < kForcePreempt) {
        continue;  // nothing waits for it, and someone else is looking
      }
      if (trycasp(p, _Psyscall, _Pidle)) {
        handoffp(s, p);
        n++;
      }
    }
  }
  return n;
}

// Due timers while no P schedules (goready from outside: see there).
void fire_timers(Sched* s, int64_t now) {
  if (s->next_timer.load(std::memory_order_acquire) > now) return;
  s->external_work.fetch_add(1);  // checkdead: Gs are in flight from the heap
  run_timers(s, now);
  s->external_work.fetch_sub(1);
}

}  // namespace

std::string schedtrace_line(Sched* s) {
  char buf[256];
  std::string line;
  int idle_ms, threads, spinning, runq;
  {
    std::lock_guard lk(s->lock);
    idle_ms = s->nmidle;
    threads = s->mcount;
    runq = s->runqsize.load();
  }
  spinning = s->nmspinning.load();
  std::snprintf(buf, sizeof buf, "procs=%d idleprocs=%d threads=%d spinningthreads=%d idlethreads=%d runqueue=%d [",
                s->nprocs, s->npidle.load(), threads, spinning, idle_ms, runq);
  line = buf;
  for (P* p : s->allp) {
    uint32_t n = p->runqtail.load() - p->runqhead.load() + (p->runnext.load() ? 1 : 0);
    if (p != s->allp.front()) line += ' ';
    line += std::to_string(n);
  }
  int64_t counts[7] = {};  // runnable running syscall waiting preempted dead other
  for_each_g(s, [&](G* g) {
    switch (readgstatus(g) & ~uint32_t(_Gscan)) {
      case _Grunnable: counts[0]++; break;
      case _Grunning: counts[1]++; break;
      case _Gsyscall: counts[2]++; break;
      case _Gwaiting: counts[3]++; break;
      case _Gpreempted: counts[4]++; break;
      case _Gdead: counts[5]++; break;
      default: counts[6]++; break;
    }
  });
  std::snprintf(buf, sizeof buf,
                "] gs: runnable=%" PRId64 " running=%" PRId64 " syscall=%" PRId64 " waiting=%" PRId64
                " preempted=%" PRId64 " dead=%" PRId64,
                counts[0], counts[1], counts[2], counts[3], counts[4], counts[5]);
  line += buf;
  // Asynchronous preemption since the process started (PreemptCounters):
  // signals sent, preemptions made, and refusals by reason (pc outside the
  // safe ranges, wrong state, locks/malloc/preemptoff, no stack room).
  const PreemptCounters& c = preempt_counters();
  auto n = [](const std::atomic<uint64_t>& v) { return static_cast<unsigned long long>(v.load()); };
  std::snprintf(buf, sizeof buf, " preempt: signals=%llu injected=%llu restarted=%llu refused=%llu/%llu/%llu/%llu",
                n(c.signals), n(c.injected), n(c.restarted), n(c.refused_pc), n(c.refused_state),
                n(c.refused_locks), n(c.refused_stack));
  return line + buf;
}

void sysmon_main(Sched* s, bool trace) {
  int64_t delay = kMinDelay;
  int idle = 0;
  int64_t start = nanotime();
  int64_t next_trace = start + kTraceEvery;
  while (!s->stopping.load()) {
    notesleep(&s->sysmon_note, delay);
    if (s->stopping.load()) break;
    s->sysmon_note.store(0);  // woken early for a timer (add_timer); the loop rechecks stopping
    if (s->gcwaiting.load()) {
      // As Go's sysmon: nothing to retake or preempt while the world
      // stops, and on a small machine each wake-up can take the CPU of an M
      // that still has to reach its safe-point.
      delay = kStwDelay;
      continue;
    }
    int64_t now = nanotime();
    fire_timers(s, now);
    if (retake(s, now) > 0) {
      idle = 0;
    } else {
      idle++;
      std::lock_guard lk(s->lock);
      checkdead(s);
    }
    delay = idle <= kIdleRoundsBeforeBackoff ? kMinDelay : std::min(delay * 2, kMaxDelay);
    // Wake for the next timer too: with every P busy nobody else fires it.
    if (int64_t t = timer_timeout(s, nanotime()); t >= 0 && t < delay) delay = std::max(t, kMinDelay);
    if (trace && now >= next_trace) {
      std::fprintf(stderr, "SCHED %" PRId64 "ms: %s\n", (now - start) / 1000000,
                   schedtrace_line(s).c_str());
      next_trace = now + kTraceEvery;
    }
  }
}

}  // namespace weft::sched
