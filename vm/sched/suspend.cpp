// suspendG / resumeG: stopping one goroutine at a safe-point so another
// thread may read its state (the collector's root scan), after Go's
// preempt.go case by case (docs/design.md#suspendg).
//
// Model. The caller claims the G by the _Gscan bit: while it is set, the G
// cannot change status (casgstatus spins), so its VM stack and frames hold
// still. A G that is not running (_Grunnable, _Gsyscall, _Gwaiting) is
// already at a blocked or synchronous safe-point: claiming the bit is the
// whole suspension. A G in _Gsyscall is inside a blocking native that
// touches no Weft state (vm/sched/sched.h), so its frames are stable too;
// exitsyscall waits for the bit. A running G is asked to stop itself:
// preemptStop + preempt + a poisoned guard, so its next call or allocating
// instruction parks it as _Gpreempted (preemptPark); suspendG then takes it
// to _Gwaiting and owns it (stopped = true), and resumeG readies it.
//
// During a collection the world is already stopped, so every G is found at
// a safe-point on the first look; the _Grunning path serves other callers
// (and a unit test drives it).
//
// The loop's pacing is Go's: spin (re-reading the status) for the first
// kYieldDelay, then yield the thread, re-checking every kYieldDelay / 2.
// A running G also gets the asynchronous request (preemptM: a signal to its
// M), at most one per kYieldDelay / 2, and again only once the last one was
// delivered (its M's preemptGen moved) or the G moved to another M.
//
// Threads: any thread that is not running a goroutine (an M on g0, the
// collector, a test). Calling it from an M whose user G is running is a
// fatal error: two running goroutines suspending each other would deadlock
// (Go's rule).
#include <thread>

#include "vm/core/fatal.h"
#include "vm/sched/preempt.h"
#include "vm/sched/sched.h"

namespace weft::sched {

namespace {

// As Go's yieldDelay: long enough for a G at a safe-point to notice its
// poisoned guard (a call or allocation happens within a few hundred ns in
// any loop that has them), short enough not to stall a collection.
constexpr int64_t kYieldDelay = 10'000;  // ns

// The G's guard back to normal: safe while the caller holds _Gscan (it owns
// the G's VM state).
void restore_guard(G* g) {
  if (g->vm != nullptr) set_guard(g->vm, g);
}

// While a suspender waits for a running G to park itself _Gpreempted, and
// until it readies that G again, the G is blocked on work outside the Ms:
// checkdead must not call that a deadlock (sched.external_work).
void count_external(G* g, int32_t delta) {
  if (Sched* s = g->owner) s->external_work.fetch_add(delta);
}

}  // namespace

SuspendGState suspendG(G* gp) {
  if (M* mp = getm(); mp != nullptr && mp->curg.load(std::memory_order_relaxed) != nullptr &&
      readgstatus(mp->curg.load(std::memory_order_relaxed)) == _Grunning)
    fatal("sched: suspendG from non-preemptible goroutine");

  bool stopped = false;
  bool counted = false;     // we hold one external_work count
  M* async_m = nullptr;     // the M we last asked to preempt gp, and its preemptGen then
  uint32_t async_gen = 0;
  int64_t next_preempt_m = 0;
  int64_t next_yield = 0;
  for (int i = 0;; i++) {
    uint32_t s = readgstatus(gp);
    switch (s) {
      default:
        if ((s & _Gscan) == 0) fatal("sched: suspendG: invalid g status");
        break;  // someone else is suspending it: wait for them to finish

      case _Gdead:
        // Nothing to suspend. preemptStop may need clearing, but the G may
        // be reused: goexit clears it.
        if (counted) count_external(gp, -1);
        return SuspendGState{nullptr, true, false, false, false};

      case _Gpreempted:
        // It stopped itself for a suspendG (ours or another's): claim it.
        if (!casGFromPreempted(gp, _Gpreempted, _Gwaiting)) break;
        stopped = true;  // we must ready it in resumeG
        s = _Gwaiting;
        [[fallthrough]];

      case _Grunnable:
      case _Gsyscall:
      case _Gwaiting:
        // Already at a safe-point: lock that in with the scan bit. This may
        // race with the G being readied or returning from a syscall.
        if (!castogscanstatus(gp, s, s | _Gscan)) break;
        // We own its state now: drop any pending request and its poison.
        gp->preemptStop.store(false);
        gp->preempt.store(false);
        restore_guard(gp);
        if (counted && !stopped) {  // it stopped for someone else, or by itself
          count_external(gp, -1);
          counted = false;
        }
        return SuspendGState{gp, false, stopped, counted, s == _Gsyscall};

      case _Grunning: {
        // Already asked, and the async request (if any) not yet delivered:
        // nothing new to do.
        if (gp->preemptStop.load() && gp->preempt.load() &&
            gp->vm->stackguard.load(std::memory_order_relaxed) == kStackPoison &&
            async_m == gp->m.load(std::memory_order_acquire) && async_m != nullptr &&
            async_m->preemptGen.load() == async_gen)
          break;
        // Block transitions while we post the request.
        if (!castogscanstatus(gp, _Grunning, _Grunning | _Gscan)) break;
        if (!counted) {
          count_external(gp, 1);
          counted = true;
        }
        gp->preemptStop.store(true);
        gp->preempt.store(true);
        // The next call or allocation fails its check (seq_cst after
        // g->preempt: set_guard).
        gp->vm->stackguard.store(kStackPoison);
        M* m2 = gp->m.load(std::memory_order_acquire);
        uint32_t gen2 = m2 != nullptr ? m2->preemptGen.load() : 0;
        bool need_async = async_m != m2 || async_gen != gen2;
        async_m = m2;
        async_gen = gen2;
        casfrom_Gscanstatus(gp, _Grunning | _Gscan, _Grunning);
        // After releasing the bit: a synchronous preemptM must not find the
        // G spinning on its status.
        if (async_preempt_allowed(gp) && need_async && async_m != nullptr) {
          int64_t now = nanotime();
          if (now >= next_preempt_m) {  // rate limit, as Go
            next_preempt_m = now + kYieldDelay / 2;
            preemptM(async_m);
          }
        }
        break;
      }
    }

    // Pace the retries: spin first, then give the thread away.
    if (i == 0) next_yield = nanotime() + kYieldDelay;
    if (nanotime() < next_yield) {
      for (int k = 0; k < 10 && readgstatus(gp) == s; k++) {
      }
    } else {
      std::this_thread::yield();
      next_yield = nanotime() + kYieldDelay / 2;
    }
  }
}

void resumeG(SuspendGState st) {
  if (st.dead) return;  // we stopped nothing
  G* gp = st.g;
  uint32_t s = readgstatus(gp);
  switch (s) {
    case _Grunnable | _Gscan:
    case _Gwaiting | _Gscan:
    case _Gsyscall | _Gscan:
      casfrom_Gscanstatus(gp, s, s & ~uint32_t(_Gscan));
      break;
    default:
      fatal("sched: resumeG: unexpected g status");
  }
  if (st.stopped) goready(gp);  // we stopped it (it was _Gpreempted): reschedule it
  if (st.counted) count_external(gp, -1);
}

}  // namespace weft::sched
