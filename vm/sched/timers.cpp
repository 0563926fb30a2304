// Timers: sleep(ms). One global min-heap of sleeping Gs keyed on
// G::when_ns, under Sched::timers_lock; Sched::next_timer mirrors its top so
// the hot paths look without locking.
//
// Who runs timers: an M in findrunnable (every schedule while one is due),
// an idle M when its futex sleep times out at the next deadline (idle Ms
// sleep at most until then), and sysmon (so a due timer fires even while
// every P runs a goroutine that never schedules). Expired Gs are readied
// after the lock is dropped (sched.lock ranks below the timers lock).
//
// A sleeping G is added by the park's unlockf, on g0, once it is
// _Gwaiting and off its stack, so a timer can never ready a G that is
// still running.
//
// Rejected: per-P heaps (Go's; they need timer stealing and matter only
// with many timers per P; a global heap is one lock per sleep).
#include <algorithm>

#include "vm/sched/sched.h"

namespace weft::sched {

namespace {

bool later(const G* a, const G* b) { return a->when_ns > b->when_ns; }

void update_next(Sched* s) {
  s->next_timer.store(s->timers.empty() ? INT64_MAX : s->timers.front()->when_ns,
                      std::memory_order_release);
}

// unlockf of sleep's park: the G is off its stack; arm its timer.
bool add_timer(G* g, void*) {
  Sched* s = g->owner;
  int64_t previous;
  {
    std::lock_guard lk(s->timers_lock);
    previous = s->next_timer.load();
    s->timers.push_back(g);
    std::push_heap(s->timers.begin(), s->timers.end(), later);
    update_next(s);
  }
  // An idle M may be sleeping until a later deadline: make it look again;
  // with no P idle, sysmon fires it (it may be sleeping up to 10 ms).
  if (g->when_ns < previous) {
    wakep(s);
    if (s->npidle.load() == 0) notewakeup(&s->sysmon_note);
  }
  return true;
}

}  // namespace

Parked sleep_ns(int64_t ns) {
  G* g = getg();
  g->resume = Resume::Complete;
  g->resume_value = Value::nil();
  if (ns <= 0) return gosched();
  g->when_ns = nanotime() + ns;
  return gopark(add_timer, nullptr, WaitReason::Sleep);
}

// Readies every G whose deadline is <= now.
void run_timers(Sched* s, int64_t now) {
  G* ready[64];
  for (;;) {
    int n = 0;
    {
      std::lock_guard lk(s->timers_lock);
      while (n < 64 && !s->timers.empty() && s->timers.front()->when_ns <= now) {
        std::pop_heap(s->timers.begin(), s->timers.end(), later);
        ready[n++] = s->timers.back();
        s->timers.pop_back();
      }
      // Stays "pending" until the Gs are readied: checkdead must not see a
      // gap between the heap and the run queues.
      if (n == 0) update_next(s);
    }
    if (n == 0) return;
    // Latest deadline first: goready puts each ahead of the one before
    // (runnext, or the global queue's head), so the earliest runs first.
    for (int i = n; i-- > 0;) goready(ready[i]);
    std::lock_guard lk(s->timers_lock);
    update_next(s);
  }
}

// How long an idle M may sleep: until the next timer, or -1 (no limit).
int64_t timer_timeout(Sched* s, int64_t now) {
  int64_t next = s->next_timer.load(std::memory_order_acquire);
  if (next == INT64_MAX) return -1;
  return next > now ? next - now : 0;
}

}  // namespace weft::sched
