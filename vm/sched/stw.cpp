// Stop-the-world and start-the-world (Go's stopTheWorldWithSema and
// startTheWorldWithSema), driven by vm/gc's collector thread.
//
// Model. The world is stopped when every P is _Pgcstop: no M holds a P, so
// no goroutine runs Weft code or allocates. The stopper (the collector
// thread: no M, no P) sets sched.gcwaiting and sched.stopwait = nprocs under
// sched.lock, then
//  - takes every idle P and every P in a syscall straight to _Pgcstop (a G
//    in a blocking native touches no Weft state; exitsyscall finds its P
//    gone and waits for the world to start),
//  - asks every running G to stop at its next synchronous safe-point
//    (preemptall, proc.cpp: g->preempt, a poisoned guard and a signal; the
//    G yields and its M's schedule() sees gcwaiting and gives the P up:
//    gcstopm in proc.cpp; a P handed off or entering a syscall is stopped
//    there too),
//  - and sleeps on sched.stopnote, which the last P to stop wakes;
//    every 100 µs it re-preempts (Go does the same: a G may have started
//    running on a P after the first pass, before its M noticed gcwaiting).
// start_the_world makes every P idle again and starts Ms for the work
// queued meanwhile (the preempted Gs are on the global queue).
//
// Invariants: stopwait counts the Ps not yet _Pgcstop; it changes under
// sched.lock only. While gcwaiting is set, nobody
// takes a P (pidleget finds the list empty; exitsyscall's fast path fails
// on a P that is no longer _Psyscall).
//
// A G spinning in a loop without calls or allocations never reaches a
// synchronous safe-point: the signal of preemptall (preemptM) stops it at an
// asynchronous one. With asynchronous preemption off, the stop waits for
// the loop to end.
#include "vm/core/fatal.h"
#include "vm/sched/sched.h"

namespace weft::sched {

namespace {

// As Go's stopTheWorldWithSema: how long to wait before re-preempting.
constexpr int64_t kRepreemptNs = 100'000;

// Held by the stopper from stop_the_world to start_the_world (or an aborted
// stop), so sched_stop can wait out a collection that reads the Sched's Ps
// and Gs (stw_quiesce). Ranks above sched.lock: taken first.
Mutex g_stw_mu{LockRank::Stw};
Sched* g_stopped = nullptr;  // the Sched this stop applies to; under g_stw_mu

void restart(Sched* s, bool complete);

}  // namespace

int64_t stop_the_world(const char* reason) {
  (void)reason;  // kept for traces and fatal messages
  g_stw_mu.lock();  // released by start_the_world or an aborted stop
  Sched* s = current_sched();
  g_stopped = s;
  if (s == nullptr) return 0;  // no goroutines: nothing runs
  int64_t start = nanotime();
  bool wait;
  {
    std::lock_guard lock(s->lock);
    if (s->gcwaiting.load()) fatal("sched: stop_the_world while the world is stopping");
    if (s->stopping.load()) {  // shutting down: the Ms are exiting
      g_stopped = nullptr;
      g_stw_mu.unlock();
      return -1;
    }
    s->gc_active.store(true);
    s->stopwait = s->nprocs;
    s->stopped_ns = 0;
    s->stopnote.store(0);
    s->gcwaiting.store(true);
    for (P* p : s->allp) {  // Ps in syscalls: their Gs touch no Weft state
      if (trycasp(p, _Psyscall, _Pgcstop)) {
        p->syscalltick++;
        s->stopwait--;
      }
    }
    while (P* p = pidleget(s)) {  // idle Ps
      p->m.store(nullptr, std::memory_order_release);
      casp(p, _Pidle, _Pgcstop);
      s->stopwait--;
    }
    wait = s->stopwait > 0;
  }
  if (wait) preemptall(s);  // outside sched.lock: it may take it
  while (wait && !notesleep(&s->stopnote, kRepreemptNs)) {
    if (s->stopping.load()) {  // shutdown raced with the stop: give up
      restart(s, false);
      g_stopped = nullptr;
      g_stw_mu.unlock();
      return -1;
    }
    preemptall(s);
    std::lock_guard lock(s->lock);
    // A P may have entered a syscall since the first pass.
    for (P* p : s->allp) {
      if (trycasp(p, _Psyscall, _Pgcstop)) {
        p->syscalltick++;
        if (--s->stopwait == 0) wait = false;
      }
    }
  }
  for (P* p : s->allp) {
    if (p->status.load() != _Pgcstop) fatal("sched: stop_the_world: a P is not stopped");
  }
  // Time to stop ends when the last P stopped, not when this thread got a
  // CPU back to notice: with every CPU busy that wake-up alone can take a
  // scheduler tick, which is pause (counted there) but not goroutines
  // being slow to stop.
  std::lock_guard lock(s->lock);
  int64_t stopped = s->stopped_ns > start ? s->stopped_ns : nanotime();
  return stopped - start;
}

void start_the_world() {
  if (g_stopped != nullptr) restart(g_stopped, true);
  g_stopped = nullptr;
  g_stw_mu.unlock();
}

void stw_quiesce() { std::lock_guard lock(g_stw_mu); }

namespace {

// Makes every stopped P idle again (all of them must be stopped when
// `complete`; an aborted stop leaves the others as they are) and starts Ms
// for the queued work, unless the scheduler is shutting down.
void restart(Sched* s, bool complete) {
  int32_t with_work = 0;
  std::vector<P*> busy;
  {
    std::lock_guard lock(s->lock);
    s->gcwaiting.store(false);
    for (P* p : s->allp) {
      if (p->status.load() != _Pgcstop) {
        if (complete) fatal("sched: start_the_world: a P is not stopped");
        continue;
      }
      p->m.store(nullptr, std::memory_order_release);
      casp(p, _Pgcstop, _Pidle);
      if (!runqempty(p)) {
        busy.push_back(p);  // stays off the idle list: an M gets it below
      } else {
        pidleput(s, p);
      }
    }
    with_work = s->runqsize.load();
  }
  if (!s->stopping.load()) {
    for (P* p : busy) startm(s, p, false);
    // Work on the global queue (the Gs preempted for the stop): one M per
    // idle P, up to the queue's length; they steal from each other after.
    for (int32_t i = 0; i < with_work && s->npidle.load() > 0; i++) startm(s, nullptr, false);
  }
  s->gc_active.store(false);
}

}  // namespace

}  // namespace weft::sched
