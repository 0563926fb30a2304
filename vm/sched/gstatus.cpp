// The G and P state machines (Go's casgstatus and friends). Every status
// change of a G or a P goes through here; a transition outside Go's state machine, or from a
// status the G is not in, is fatal with both states named, so a scheduler
// bug stops where it happens instead of corrupting a queue later.
#include <cinttypes>
#include <cstdio>

#include "vm/core/fatal.h"
#include "vm/sched/sched.h"

namespace weft::sched {

namespace {

const char* status_name(uint32_t st) {
  switch (st & ~uint32_t(_Gscan)) {
    case _Gidle: return "idle";
    case _Grunnable: return "runnable";
    case _Grunning: return "running";
    case _Gsyscall: return "syscall";
    case _Gwaiting: return "waiting";
    case _Gdead: return "dead";
    case _Gpreempted: return "preempted";
  }
  return "?";
}

[[noreturn]] void bad_status(const char* what, G* g, uint32_t from, uint32_t to, uint32_t seen) {
  std::fprintf(stderr, "runtime: %s: goroutine %" PRIu64 " from %s%s to %s%s, status is %s%s\n", what,
               g->goid, status_name(from), from & _Gscan ? "|scan" : "", status_name(to),
               to & _Gscan ? "|scan" : "", status_name(seen), seen & _Gscan ? "|scan" : "");
  fatal("sched: bad goroutine status transition");
}

}  // namespace

uint32_t readgstatus(G* g) { return g->atomicstatus.load(std::memory_order_acquire); }

bool legal_transition(uint32_t from, uint32_t to) {
  switch (from) {
    case _Gidle: return to == _Grunnable || to == _Gdead;
    case _Gdead: return to == _Grunnable;
    case _Grunnable: return to == _Grunning;
    case _Grunning:
      return to == _Grunnable || to == _Gwaiting || to == _Gsyscall || to == _Gdead || to == _Gpreempted;
    case _Gsyscall: return to == _Grunning || to == _Grunnable;
    case _Gwaiting: return to == _Grunnable;
    case _Gpreempted: return to == _Gwaiting;
  }
  return false;
}

void casgstatus(G* g, uint32_t from, uint32_t to) {
  if ((from | to) & _Gscan || from == to || !legal_transition(from, to)) {
    bad_status("casgstatus: illegal transition", g, from, to, readgstatus(g));
  }
  // A suspendG holding _Gscan keeps the G where it is: wait for it (Go
  // spins with osyield; a scan of one G is short).
  // acq_rel: a status change hands the G over (runnable to running, a
  // suspendG's _Gscan): the new holder must see every field the old one
  // wrote before it (its context, preempt flags, parking state), on arm64
  // where plain stores may otherwise become visible after the CAS.
  for (int i = 0;; i++) {
    uint32_t want = from;
    if (g->atomicstatus.compare_exchange_weak(want, to, std::memory_order_acq_rel)) return;
    if (want != from && want != (from | _Gscan)) bad_status("casgstatus: bad from status", g, from, to, want);
    if (i > 64) sched_yield();
  }
}

bool castogscanstatus(G* g, uint32_t from, uint32_t to) {
  if (to != (from | _Gscan) || !(from == _Grunnable || from == _Gsyscall || from == _Gwaiting || from == _Grunning)) {
    bad_status("castogscanstatus: bad transition", g, from, to, readgstatus(g));
  }
  uint32_t want = from;
  return g->atomicstatus.compare_exchange_strong(want, to, std::memory_order_acq_rel);
}

void casfrom_Gscanstatus(G* g, uint32_t from, uint32_t to) {
  uint32_t want = from;
  if (from != (to | _Gscan) || !g->atomicstatus.compare_exchange_strong(want, to, std::memory_order_acq_rel)) {
    bad_status("casfrom_Gscanstatus: bad transition", g, from, to, readgstatus(g));
  }
}

bool casGFromPreempted(G* g, uint32_t from, uint32_t to) {
  if (from != _Gpreempted || to != _Gwaiting) bad_status("casGFromPreempted: bad transition", g, from, to, readgstatus(g));
  uint32_t want = _Gpreempted;
  return g->atomicstatus.compare_exchange_strong(want, _Gwaiting, std::memory_order_acq_rel);
}

// ---- P status ----
//
//   _Pidle    -> _Prunning (acquirep), _Pgcstop (a stop takes an idle P)
//   _Prunning -> _Pidle (releasep), _Psyscall (entersyscall), _Pgcstop (gcstopm)
//   _Psyscall -> _Prunning (exitsyscall's fast path), _Pidle (sysmon's retake),
//                _Pgcstop (a stop takes it from the syscall)
//   _Pgcstop  -> _Pidle (start_the_world)

namespace {

const char* pstatus_name(uint32_t st) {
  switch (st) {
    case _Pidle: return "idle";
    case _Prunning: return "running";
    case _Psyscall: return "syscall";
    case _Pgcstop: return "gcstop";
    case _Pdead: return "dead";
  }
  return "?";
}

[[noreturn]] void bad_pstatus(const char* what, P* p, uint32_t from, uint32_t to, uint32_t seen) {
  std::fprintf(stderr, "runtime: %s: P %d from %s to %s, status is %s\n", what, p->id, pstatus_name(from),
               pstatus_name(to), pstatus_name(seen));
  fatal("sched: bad P status transition");
}

}  // namespace

bool legal_ptransition(uint32_t from, uint32_t to) {
  switch (from) {
    case _Pidle: return to == _Prunning || to == _Pgcstop;
    case _Prunning: return to == _Pidle || to == _Psyscall || to == _Pgcstop;
    case _Psyscall: return to == _Prunning || to == _Pidle || to == _Pgcstop;
    case _Pgcstop: return to == _Pidle;
  }
  return false;
}

void casp(P* p, uint32_t from, uint32_t to) {
  if (!legal_ptransition(from, to)) bad_pstatus("casp: illegal transition", p, from, to, p->status.load());
  uint32_t seen = from;
  if (!p->status.compare_exchange_strong(seen, to)) bad_pstatus("casp: wrong status", p, from, to, seen);
}

bool trycasp(P* p, uint32_t from, uint32_t to) {
  if (!legal_ptransition(from, to)) bad_pstatus("trycasp: illegal transition", p, from, to, p->status.load());
  return p->status.compare_exchange_strong(from, to);
}

}  // namespace weft::sched
