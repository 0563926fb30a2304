// Stop-the-world and start-the-world (Go's stopTheWorldWithSema and
// startTheWorldWithSema), driven by vm/gc's collector thread and by host
// threads that load code.
//
// Model. One world per process: bdwgc's heap is process-wide, so a
// collection stops every running Sched (each VM has its own: vm/api/host.cpp,
// docs/embedding.md#many-vms). The world is stopped when every P of every
// running Sched is _Pgcstop: no M holds a P, so no goroutine of any VM runs
// Weft code or allocates. The running Scheds are one list (sched_start adds,
// sched_stop removes, both under g_stw_mu, so the list a stopper took
// stays the list until it starts the world). For each Sched the stopper
// (no M, no P) sets sched.gcwaiting and sched.stopwait = nprocs under
// sched.lock, then
//  - takes every idle P and every P in a syscall straight to _Pgcstop (a G
//    in a blocking native touches no Weft state; exitsyscall finds its P
//    gone and waits for the world to start),
//  - asks every running G to stop at its next synchronous safe-point
//    (preemptall, proc.cpp: g->preempt, a poisoned guard and a signal; the
//    G yields and its M's schedule() sees gcwaiting and gives the P up:
//    gcstopm in proc.cpp; a P handed off, put idle or entering a syscall is
//    stopped there too),
//  - and sleeps on sched.stopnote, which the last P to stop wakes;
//    every 100 µs it re-preempts (Go does the same: a G may have started
//    running on a P after the first pass, before its M noticed gcwaiting).
// Every Sched is asked first and waited for after, so their goroutines
// stop concurrently. start_the_world makes every P idle again and starts
// Ms for the work queued meanwhile (the preempted Gs are on the global
// queue).
//
// A Sched shutting down (stopping) is stopped like the others: its Ms exit
// at their next schedule and their Ps, put idle while gcwaiting is set,
// go to the stopper (pidleput). Only when its shutdown gave up on an M
// (Sched::given_up: a goroutine that never reaches a safe-point) does the
// stopper stop waiting for it: that Sched is leaked and its M never returns
// to Weft code through a safe-point.
//
// Invariants: stopwait counts the Ps not yet _Pgcstop; it changes under
// sched.lock only. While gcwaiting is set, nobody
// takes a P (pidleget finds the list empty; exitsyscall's fast path fails
// on a P that is no longer _Psyscall).
//
// A G spinning in a loop without calls or allocations never reaches a
// synchronous safe-point: the signal of preemptall (preemptM) stops it at an
// asynchronous one. With asynchronous preemption off, the stop waits for
// the loop to end (and every VM with it).
//
// Rejected: a stop per VM (only that VM's Sched): bdwgc marks the whole
// process's heap at once, and another VM's goroutine writing its objects
// during the mark could hide one from the marker.
#include <algorithm>
#include <vector>

#include "vm/core/fatal.h"
#include "vm/sched/sched.h"
#include "vm/sched/sched_internal.h"

namespace weft::sched {

namespace {

// As Go's stopTheWorldWithSema: how long to wait before re-preempting.
constexpr int64_t kRepreemptNs = 100'000;

// Held by the stopper from stop_the_world to start_the_world, so that
// sched_start and sched_stop wait out a stop (sched_stop: a collection that
// reads the Sched's Ps and Gs). Ranks above sched.lock: taken first.
Mutex g_stw_mu{LockRank::Stw};
// The running Scheds: written under g_stw_mu and g_scheds_mu, so either
// keeps it still for a reader.
Mutex g_scheds_mu{LockRank::Scheds};
std::vector<Sched*> g_scheds;
std::atomic<int32_t> g_nscheds{0};
std::vector<Sched*> g_stopped;  // the Scheds this stop applies to; under g_stw_mu

void restart(Sched* s, bool complete);

// First half of a stop for one Sched: every P that is not running goes to
// the stopper at once. True when some P is still to stop.
bool begin_stop(Sched* s) {
  std::lock_guard lock(s->lock);
  if (s->gcwaiting.load()) fatal("sched: stop_the_world while the world is stopping");
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
  return s->stopwait > 0;
}

// Second half: waits for s's running Ps (preempted by the first pass).
// False when s's shutdown gave up on an M: s is left as it is.
bool finish_stop(Sched* s) {
  bool wait;
  {
    std::lock_guard lock(s->lock);
    wait = s->stopwait > 0;
  }
  while (wait && !notesleep(&s->stopnote, kRepreemptNs)) {
    if (s->given_up.load()) return false;
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
  return true;
}

}  // namespace

int64_t stop_the_world(const char* reason) {
  (void)reason;  // kept for traces and fatal messages
  g_stw_mu.lock();  // released by start_the_world
  g_stopped = g_scheds;
  if (g_stopped.empty()) return 0;  // no goroutines: nothing runs
  int64_t start = nanotime();
  std::vector<bool> wait(g_stopped.size());
  for (size_t i = 0; i < g_stopped.size(); i++) wait[i] = begin_stop(g_stopped[i]);
  for (size_t i = 0; i < g_stopped.size(); i++) {
    if (wait[i]) preemptall(g_stopped[i]);  // outside sched.lock: it may take it
  }
  int64_t stopped = 0;
  for (size_t i = 0; i < g_stopped.size(); i++) {
    Sched* s = g_stopped[i];
    if (!finish_stop(s)) {
      restart(s, false);  // leaked by its shutdown: not ours to restart later
      g_stopped[i] = nullptr;
      continue;
    }
    // Time to stop ends when the last P stopped, not when this thread got a
    // CPU back to notice: with every CPU busy that wake-up alone can take a
    // scheduler tick, which is pause (counted there) but not goroutines
    // being slow to stop.
    std::lock_guard lock(s->lock);
    stopped = std::max(stopped, s->stopped_ns > start ? s->stopped_ns : start);
  }
  return (stopped > start ? stopped : nanotime()) - start;
}

void start_the_world() {
  for (Sched* s : g_stopped) {
    if (s != nullptr) restart(s, true);
  }
  g_stopped.clear();
  g_stw_mu.unlock();
}

void stw_quiesce() { std::lock_guard lock(g_stw_mu); }

void sched_register(Sched* s) {
  std::lock_guard stw(g_stw_mu);
  std::lock_guard lock(g_scheds_mu);
  g_scheds.push_back(s);
  g_nscheds.fetch_add(1);
}

void sched_unregister(Sched* s) {
  std::lock_guard stw(g_stw_mu);  // a stop in progress still reads s's Gs and Ps: wait it out
  std::lock_guard lock(g_scheds_mu);
  g_scheds.erase(std::remove(g_scheds.begin(), g_scheds.end(), s), g_scheds.end());
  g_nscheds.fetch_sub(1);
}

int32_t running_scheds() { return g_nscheds.load(); }

Sched* running_sched_of(const void* vm) {
  std::lock_guard lock(g_scheds_mu);
  for (Sched* s : g_scheds) {
    if (s->hooks.vm == vm) return s;
  }
  return nullptr;
}

namespace {

// Makes every stopped P idle again (all of them must be stopped when
// `complete`; an aborted stop leaves the others as they are) and starts Ms
// for the queued work, unless the scheduler is shutting down.
void restart(Sched* s, bool complete) {
  int32_t with_work = 0;
  std::vector<P*> busy;
  bool stopping;
  {
    std::lock_guard lock(s->lock);
    // Read once, under the lock sched_stop sets it under: a P kept off the
    // idle list for an M must get one below. (A P with work kept off the
    // list while the scheduler was shutting down was lost: no M took it,
    // the next stop of the world waited for it forever, and sched_stop
    // waited for that stop.)
    stopping = s->stopping.load();
    s->gcwaiting.store(false);
    for (P* p : s->allp) {
      if (p->status.load() != _Pgcstop) {
        if (complete) fatal("sched: start_the_world: a P is not stopped");
        continue;
      }
      p->m.store(nullptr, std::memory_order_release);
      casp(p, _Pgcstop, _Pidle);
      if (!runqempty(p) && !stopping) {
        busy.push_back(p);  // stays off the idle list: an M gets it below
      } else {
        pidleput(s, p);
      }
    }
    with_work = s->runqsize.load();
  }
  for (P* p : busy) startm(s, p, false);
  if (!stopping) {
    // Work on the global queue (the Gs preempted for the stop): one M per
    // idle P, up to the queue's length; they steal from each other after.
    for (int32_t i = 0; i < with_work && s->npidle.load() > 0; i++) startm(s, nullptr, false);
  }
  s->gc_active.store(false);
}

}  // namespace

}  // namespace weft::sched
