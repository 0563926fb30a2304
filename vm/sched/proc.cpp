// The M/P loop: Ms and Ps, schedule(), parking and readying, syscalls,
// checkdead, and the Sched's start and stop. The G state machine is in
// gstatus.cpp, the goroutine lifecycle (newproc, g_entry, goexit) in
// goroutine.cpp, the system calls in os_linux.cpp.
// The model, invariants and lock order are in vm/sched/sched.h; Go's
// proc.go is the commentary (same names where the idea is the same).
//
// Where code runs.
//  - g0: each M's own thread stack runs mstart() -> schedule loop. It picks a
//    G (findrunnable), switches to it (execute), and when the G switches
//    back, performs what the G asked (M::action: park, yield, preempt-park,
//    exit, exitsyscall-park), always after the G is off its stack.
//  - A G runs on a native stack from its M's pool. A fresh or stacklessly
//    parked G starts at g_entry(), which re-enters the interpreter at the
//    G's saved pc; a stackfully parked G resumes inside weft_switch.
//  - The host thread (Runtime::run) never runs goroutines; it waits on
//    Sched::done_cv. sysmon (sysmon.cpp) and the collector thread (vm/gc)
//    have no M and no P: they ready Gs through the global queue.
//
// Stackless vs stackful park. gopark() at g->vm->depth == 1 only records
// the request and returns Parked::Unwound; the interpreter returns kParked
// to g_entry, which switches to g0 for good (the native stack goes back to
// the pool). At depth > 1 (a native called back into Weft) the G switches
// to g0 keeping its stack, and gopark() returns Parked::Resumed once some M
// switches back to it.
//
// Rejected: running schedule() on the goroutine's stack (Go's mcall exists
// because a G must be off its stack before another M may run it; a g0 loop
// that performs the action after the switch gives the same guarantee).
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <thread>

#include <unistd.h>

#include "vm/arch/stack.h"
#include "vm/core/fatal.h"
#include "vm/sched/chan.h"
#include "vm/sched/preempt.h"
#include "vm/sched/sched.h"
#include "vm/sched/sched_internal.h"

// The current M of this thread (declared in sched.h).
extern "C" {
__thread weft::sched::M* weft_tls_m __attribute__((tls_model("initial-exec"))) = nullptr;
}

namespace weft::sched {

namespace {

#ifndef WEFT_TSAN
constexpr auto kStopGrace = std::chrono::milliseconds(200);  // shutdown: time for Gs to reach
                                                             // a safe-point before their M is
                                                             // detached (a call-free loop never does)
#else
// ThreadSanitizer runs 5-15x slower and without asynchronous preemption
// (vm/sched/preempt.cpp): on a loaded machine 200 ms did not always do, and
// a detached M then ran on while its Runtime was destroyed.
constexpr auto kStopGrace = std::chrono::milliseconds(2000);
#endif

// Shutdown's bound on waiting for an M that should stop but has not: past
// it the M is detached as before (a leak, not a hang). Ten times the
// grace: a machine stalled that long is rare, a program that never ends
// worse.
constexpr auto kStopLimit = kStopGrace * 10;

// Under s->lock, at shutdown once the grace period is over: whether m's
// goroutine may never reach a safe-point, so that waiting for m could be
// forever: it is in a blocking native, or runs Weft code that only
// asynchronous preemption could stop while that is off. Any other M (idle,
// scheduling, exiting, or running preemptible code) stops in bounded time.
// Not a pure test: an M found in a blocking native is given up there and
// then (kAbandoned), so that its exitsyscall never returns.
bool may_never_stop(M* m) {
  uint32_t was = M::kInSyscall;
  if (m->syscall.compare_exchange_strong(was, M::kAbandoned) || was == M::kAbandoned) return true;
  G* g = m->curg.load();
  return g != nullptr && (readgstatus(g) & ~_Gscan) == _Grunning && !async_preempt_allowed(g);
}

// Threads that ready a G without holding a P (the collector readying gc()
// waiters after a cycle, sysmon's timers, host threads) read the Sched's Ps
// and Ms and may start an M. sched_stop waits until none is inside goready
// before it lets the Ms go and frees them. goready counts itself, then
// checks stopping; sched_stop stores stopping, then reads the count (seq_cst
// both sides: one of them sees the other).
std::atomic<int32_t> g_outside_readies{0};
struct OutsideReady {
  bool counted;
  OutsideReady() {
    M* m = getm();
    counted = m == nullptr || m->p == nullptr;
    if (counted) g_outside_readies.fetch_add(1);
  }
  ~OutsideReady() {
    if (counted) g_outside_readies.fetch_sub(1);
  }
};

}  // namespace

M* getm() { return weft_tls_m; }

Sched* current_sched() {
  G* g = getg();
  return g != nullptr ? g->owner : nullptr;
}

uint32_t fastrand() {
  M* m = getm();
  static std::atomic<uint64_t> shared{0x9e3779b97f4a7c15ull};
  uint64_t x;
  if (m != nullptr) {
    m->fastrand_state += 0xa0761d6478bd642full;
    x = m->fastrand_state;
  } else {
    x = shared.fetch_add(0xa0761d6478bd642full, std::memory_order_relaxed);
  }
  __uint128_t r = __uint128_t(x) * (x ^ 0xe7037ed1a0b428dbull);  // wyrand
  return uint32_t(uint64_t(r >> 64) ^ uint64_t(r));
}

// ---- Ps and Ms (sched.lock held unless said) ----

void acquirep(M* m, P* p) {
  m->p = p;
  p->m.store(m, std::memory_order_release);
  casp(p, _Pidle, _Prunning);
}

P* releasep(M* m) {
  P* p = m->p;
  m->p = nullptr;
  p->m.store(nullptr, std::memory_order_release);
  casp(p, _Prunning, _Pidle);
  return p;
}

namespace {

void mput(Sched* s, M* m) {
  m->schedlink = s->midle;
  s->midle = m;
  s->nmidle++;
}

M* mget(Sched* s) {
  M* m = s->midle;
  if (m != nullptr) {
    s->midle = m->schedlink;
    m->schedlink = nullptr;
    s->nmidle--;
  }
  return m;
}

bool mremove(Sched* s, M* m) {
  for (M** at = &s->midle; *at != nullptr; at = &(*at)->schedlink) {
    if (*at == m) {
      *at = m->schedlink;
      m->schedlink = nullptr;
      s->nmidle--;
      return true;
    }
  }
  return false;
}

}  // namespace

// Go's checkdead: called when an M goes idle (and by sysmon, for the case
// where the last M went idle while a collection was in flight, and by a
// host thread that starts waiting). Every M idle, nothing runnable, no
// timer and no outside work: every goroutine is asleep, or there are none.
// That is a deadlock only for the host threads waiting on goroutines: they
// are woken to see it (an idle runtime, or goroutines a later host request
// may wake, are not one).
void checkdead(Sched* s) {
  if (s->stopping.load() || s->gcwaiting.load() || s->external_work.load() > 0) return;
  if (s->mcount - s->nmidle > 0 || s->nhostm.load() > 0) return;  // a host M runs a call
  if (s->next_timer.load() != INT64_MAX || s->runqsize.load() > 0) return;
  for (P* p : s->allp) {
    if (!runqempty(p)) return;
  }
  if (s->host_waiters == 0) return;
  {
    std::lock_guard lk(s->done_mu);  // sched.lock < done_mu
    s->asleep_gen++;
  }
  s->done_cv.notify_all();
}

namespace {

void mstart(Sched* s, M* m);

void newm(Sched* s, P* p, bool spinning) {
  M* m = new M();
  m->stacks = new arch::StackPool();
  m->nextp = p;
  m->spinning = spinning;
  {
    std::lock_guard lk(s->lock);
    m->id = s->mnext++;
    m->fastrand_state = uint64_t(nanotime()) ^ (uint64_t(m->id) << 32);
    s->allm.push_back(m);
    s->mcount++;
  }
  m->thread = std::thread(mstart, s, m);
}

// Parks m on the idle list until startm hands it a P (true, P acquired) or
// something pokes it, or timeout_ns passes (false, no P).
bool stopm(Sched* s, M* m, int64_t timeout_ns) {
  {
    std::lock_guard lk(s->lock);
    m->nextp = nullptr;
    m->park.store(0);
    mput(s, m);
    checkdead(s);
  }
  if (!notesleep(&m->park, timeout_ns)) {
    {
      std::lock_guard lk(s->lock);
      if (mremove(s, m)) return false;  // timed out, nobody took us
    }
    notesleep(&m->park, -1);  // mget took us: its wakeup is on the way
  }
  M* self = getm();
  P* p = self->nextp;
  self->nextp = nullptr;
  if (p == nullptr) return false;
  acquirep(self, p);
  return true;
}

// Wakes one idle M without a P so that it re-examines the world (timers,
// shutdown). Takes sched.lock.
void mpoke(Sched* s) {
  M* m;
  {
    std::lock_guard lk(s->lock);
    m = mget(s);
  }
  if (m != nullptr) notewakeup(&m->park);
}

}  // namespace

// One more P is _Pgcstop (sched.lock held); the last one records when the
// world stood still and wakes the stopper.
void p_stopped(Sched* s) {
  if (--s->stopwait != 0) return;
  s->stopped_ns = nanotime();
  notewakeup(&s->stopnote);
}

namespace {

// The gcwaiting handshake (Go's gcstopm): give the P to the stopper.
void gcstopm(Sched* s, M* m) {
  if (m->spinning) {
    m->spinning = false;
    s->nmspinning.fetch_sub(1);
  }
  P* p = releasep(m);
  std::lock_guard lk(s->lock);
  casp(p, _Pidle, _Pgcstop);
  p_stopped(s);
}

// Parks an M that has no P until it gets one. False when stopping.
bool stop_until_p(Sched* s) {
  for (;;) {
    if (s->stopping.load()) return false;
    M* m = getm();
    if (stopm(s, m, s->gcwaiting.load() ? -1 : timer_timeout(s, nanotime()))) return true;
    if (s->stopping.load()) return false;
    if (s->gcwaiting.load()) continue;
    P* p;
    {
      std::lock_guard lk(s->lock);
      p = pidleget(s);
    }
    if (p != nullptr) {
      acquirep(getm(), p);
      return true;
    }
  }
}

void resetspinning(Sched* s, M* m) {
  m->spinning = false;
  if (s->nmspinning.fetch_sub(1) == 1 && s->npidle.load() > 0) wakep(s);
}

// ---- finding work ----

G* steal_work(Sched* s, M* m) {
  P* p = m->p;
  int n = s->nprocs;
  for (int round = 0; round < 4; round++) {
    int start = int(fastrand() % uint32_t(n));
    for (int k = 0; k < n; k++) {
      P* victim = s->allp[size_t((start + k) % n)];
      if (victim == p) continue;
      if (G* g = runqsteal(p, victim, round == 3)) return g;
    }
  }
  return nullptr;
}

// Go's findrunnable: local queue, global queue, stealing; then the P goes
// idle and the M parks (until the next timer at most). Returns with a P
// held, or nullptr when the scheduler is stopping.
G* findrunnable(Sched* s, bool* inherit) {
  *inherit = false;
  for (;;) {
    M* m = getm();
    if (m->p == nullptr && !stop_until_p(s)) return nullptr;
    m = getm();
    P* p = m->p;
    if (s->stopping.load()) return nullptr;
    if (s->gcwaiting.load()) {
      gcstopm(s, m);
      continue;
    }
    if (s->next_timer.load(std::memory_order_relaxed) <= nanotime()) run_timers(s, nanotime());
    // Fairness: now and then look at the global queue first; at once when a
    // G readied from outside waits at its head (ready_from_outside).
    if ((p->schedtick.load(std::memory_order_relaxed) % 61 == 0 || s->runq_urgent.exchange(false)) &&
        s->runqsize.load() > 0) {
      std::lock_guard lk(s->lock);
      if (G* g = globrunqget(s, p, 1)) return g;
    }
    if (G* g = runqget(p, inherit)) return g;
    if (s->runqsize.load() > 0) {
      std::lock_guard lk(s->lock);
      if (G* g = globrunqget(s, p, 0)) return g;
    }
    if (m->spinning || 2 * s->nmspinning.load() < s->nprocs - s->npidle.load()) {
      if (!m->spinning) {
        m->spinning = true;
        s->nmspinning.fetch_add(1);
      }
      if (G* g = steal_work(s, m)) return g;
    }
    {
      std::unique_lock lk(s->lock);
      if (s->gcwaiting.load() || s->stopping.load()) continue;
      if (s->runqsize.load() > 0) {
        if (G* g = globrunqget(s, p, 0)) return g;
      }
      pidleput(s, releasep(m));
    }
    if (m->spinning) {
      m->spinning = false;
      s->nmspinning.fetch_sub(1);
      // Work may have arrived after we looked: re-check before sleeping,
      // the global queue too (a waker that saw us spinning did not wake
      // anyone: with the global queue unchecked, a goroutine readied from
      // a host thread waited forever, 1 in ~30 runs of the embed tests).
      bool work = s->runqsize.load() > 0;
      for (P* pp : s->allp) work = work || !runqempty(pp);
      if (work) {
        std::lock_guard lk(s->lock);
        if (P* p2 = pidleget(s)) {
          acquirep(m, p2);
          m->spinning = true;
          s->nmspinning.fetch_add(1);
        }
      }
    }
  }
}

}  // namespace

// ---- running a G (g0) ----

void dropg(M* m, G* g) {
  m->curg.store(nullptr, std::memory_order_release);
  g->m.store(nullptr, std::memory_order_release);
}

// The G is off its stack: a stackless park gives the native stack back.
void release_stack(M* m, G* g) {
  if (g->parked_stackful) {
    g->ctx = &g->stack->ctx;
    return;
  }
  m->stacks->put(g->stack);
  g->stack = nullptr;
  g->ctx = nullptr;
}

void park_m(Sched* s, M* m, G* g) {
  bool (*unlockf)(G*, void*) = m->park_unlockf;
  void* arg = m->park_arg;
  m->park_unlockf = nullptr;
  m->park_arg = nullptr;
  release_stack(m, g);
  dropg(m, g);
  casgstatus(g, _Grunning, _Gwaiting);
  if (unlockf != nullptr && !unlockf(g, arg)) {  // the park is off: run it again soon
    casgstatus(g, _Gwaiting, _Grunnable);
    runqput(s, m->p, g, true);
  }
}

// g (now off its native stack, or keeping it if parked stackfully) goes
// to the global queue as runnable; this M keeps its P.
void gosched_m(Sched* s, M* m, G* g) {
  release_stack(m, g);
  dropg(m, g);
  casgstatus(g, _Grunning, _Grunnable);
  std::lock_guard lk(s->lock);
  globrunqput(s, g);
}

void preemptpark_m(M* m, G* g) {
  release_stack(m, g);
  dropg(m, g);
  casgstatus(g, _Grunning, _Gpreempted);  // suspendG now owns it
}

// exitsyscall found no P (a stop of the world was in progress, or every P
// was busy). Look again under sched.lock, as Go's exitsyscall0 does: a stop
// may have ended since, and its restart counted the global queue before g
// was on it, so nothing would start an M for g while this M parks (the
// whole program asleep with a runnable G: 1 run in ~1,200 of an import
// under ASan). Under the lock, either an idle P is ours or the G is queued
// where restart or a running M will see it. g keeps its stack: it is
// inside a native.
void exitsyscall0(Sched* s, M* m, G* g) {
  release_stack(m, g);
  dropg(m, g);
  casgstatus(g, _Gsyscall, _Grunnable);
  P* p = nullptr;
  {
    std::lock_guard lk(s->lock);
    if (!s->gcwaiting.load()) p = pidleget(s);
    if (p == nullptr) globrunqput(s, g);
  }
  if (p != nullptr) {
    acquirep(m, p);
    runqput(s, p, g, true);  // findrunnable takes it next
  }
}

M* switch_to_g(M* m, G* g) {
  m->action = M::Action::None;
  if (g->parked_stackful) {  // it yielded inside a native or asynchronously: resume it there
    g->parked_stackful = false;
    g->ctx = nullptr;
  } else {
    g->stack = m->stacks->get();
    arch::make_context(&g->stack->ctx, g->stack->lo, g->stack->size, g_entry, nullptr);
  }
  arch::FiberSwitch fs;
  fs.start(g->stack->lo, g->stack->size, false);
  weft_switch(&m->g0ctx, &g->stack->ctx);
  fs.finish();
  return getm();  // g0 never migrates, but say so
}

namespace {

// Go's execute: runs g on this M (which holds a P) until g switches back,
// then performs what g asked.
void execute(Sched* s, M* m, G* g, bool inherit) {
  casgstatus(g, _Grunnable, _Grunning);
  // Release, paired with the acquire loads of preemptone, the stress
  // thread and suspendG (p->m, then m->curg, then the G's fields): on arm64
  // a reader must not see the G here before its fields are initialised.
  g->m.store(m, std::memory_order_release);
  m->curg.store(g, std::memory_order_release);
  P* p = m->p;
  if (!inherit) {  // a new time slice (runqget's inherit: the readier's slice goes on)
    p->schedtick.fetch_add(1, std::memory_order_relaxed);
    p->schedwhen_ns.store(nanotime(), std::memory_order_relaxed);
  }
  if (!g->preemptStop.load() && !s->stopping.load()) {
    g->preempt.store(false);
    set_guard(g->vm, g);
  }
  m = switch_to_g(m, g);
  switch (m->action) {
    case M::Action::Park: park_m(s, m, g); break;
    case M::Action::Gosched: gosched_m(s, m, g); break;
    case M::Action::PreemptPark: preemptpark_m(m, g); break;
    case M::Action::Exit: goexit0(s, m, g); break;
    case M::Action::ExitSyscall: exitsyscall0(s, m, g); break;
    case M::Action::None: fatal("sched: goroutine switched to g0 without an action");
  }
}

void schedule_loop(Sched* s) {
  for (;;) {
    bool inherit;
    G* g = findrunnable(s, &inherit);
    if (g == nullptr) return;
    M* m = getm();
    if (m->spinning) resetspinning(s, m);
    execute(s, m, g, inherit);
  }
}

void mstart(Sched* s, M* m) {
  weft_tls_m = m;
  preempt_minit(m);
  m->g0 = &m->g0ctx;
  arch::thread_stack_bounds(&m->g0_lo, &m->g0_size);
  P* p = m->nextp;
  m->nextp = nullptr;
  if (p != nullptr) acquirep(m, p);
  schedule_loop(s);
  m = getm();
  if (m->p != nullptr) {
    std::lock_guard lk(s->lock);
    pidleput(s, releasep(m));
  }
  delete m->stacks;
  m->stacks = nullptr;
  preempt_mexit(m);
  weft_tls_m = nullptr;
  {
    std::lock_guard lk(s->lock);
    s->mcount--;
    m->exited = true;
  }
  { std::lock_guard lk(s->done_mu); }  // no lost wakeup for sched_stop
  s->done_cv.notify_all();
}

}  // namespace

// ---- the G side ----

// Returns when the G is scheduled again (stackful), on any M.
void switch_to_g0(G* g, bool dying) {
  M* m = getm();
  arch::FiberSwitch fs;
  fs.start(m->g0_lo, m->g0_size, dying);
  weft_switch(&g->stack->ctx, &m->g0ctx);
  fs.finish();
}

namespace {

void ready_from_outside(Sched* s, G* g) {
  {
    std::lock_guard lk(s->lock);
    globrunqputhead(s, g);
    s->runq_urgent.store(true);
  }
  if (s->npidle.load() > 0) return;  // wakep finds an idle P for it
  for (int32_t k = 0; k < s->nprocs; k++) {
    P* p = s->allp[size_t(s->ready_rr.fetch_add(1) % uint32_t(s->nprocs))];
    if (p->status.load(std::memory_order_acquire) == _Prunning) {
      preemptone(p, g);
      return;
    }
  }
}

Parked park_common(M::Action action) {
  M* m = getm();
  G* g = m->curg.load(std::memory_order_relaxed);
  m->action = action;
  if (g->vm->depth <= 1) {
    g->parked_stackful = false;
    // The interpreter unwinds to g_entry, which switches. The unwinding
    // runs async-safe code, but the park is half done (m->action is set,
    // a channel's lock may be held until unlockf runs on g0): an async
    // preemption now would overwrite the action, or move the G to another M.
    m->preemptoff = "unwinding to park";
    return Parked::Unwound;
  }
  park_stackful(action);
  G* resumed = getm()->curg.load(std::memory_order_relaxed);
  resumed->resume = Resume::Reexecute;  // consumed inline by the caller
  return Parked::Resumed;
}

}  // namespace

void park_stackful(M::Action action) {
  M* m = getm();
  G* g = m->curg.load(std::memory_order_relaxed);
  m->action = action;
  g->parked_stackful = true;
  switch_to_g0(g, false);
}


// ---- exported ----

void report_done(Sched* s, Sched::Exit kind, std::string message, std::string traceback, int exit_code) {
  {
    std::lock_guard lk(s->done_mu);
    if (s->done) return;
    s->done = true;
    s->exit_kind = kind;
    s->message = std::move(message);
    s->traceback = std::move(traceback);
    s->exit_code = exit_code;
  }
  s->done_cv.notify_all();
  // Other goroutines stop at their next safe-point (Go: the program exits).
  s->stopping.store(true);
  preemptall(s);
}

P* pidleget(Sched* s) {
  P* p = s->pidle;
  if (p != nullptr) {
    s->pidle = p->link;
    p->link = nullptr;
    s->npidle.fetch_sub(1);
  }
  return p;
}

void pidleput(Sched* s, P* p) {
  if (p->status.load() != _Pidle) fatal("sched: pidleput of a P that is not idle");
  if (s->gcwaiting.load()) {  // a P given up during a stop goes to the stopper (an M exiting at shutdown)
    casp(p, _Pidle, _Pgcstop);
    p_stopped(s);
    return;
  }
  p->link = s->pidle;
  s->pidle = p;
  s->npidle.fetch_add(1);
}

void startm(Sched* s, P* p, bool spinning) {
  M* m;
  {
    std::lock_guard lk(s->lock);
    if (p == nullptr) p = pidleget(s);
    if (p == nullptr) {
      if (spinning) s->nmspinning.fetch_sub(1);
      return;
    }
    m = mget(s);
    if (m != nullptr) {
      m->spinning = spinning;
      m->nextp = p;
    }
  }
  if (m == nullptr) {
    newm(s, p, spinning);
    return;
  }
  notewakeup(&m->park);
}

void wakep(Sched* s) {
  if (s->npidle.load() == 0 || s->stopping.load()) return;
  int32_t zero = 0;
  if (s->nmspinning.load() != 0 || !s->nmspinning.compare_exchange_strong(zero, 1)) return;
  startm(s, nullptr, true);
}

void handoffp(Sched* s, P* p) {
  if (!runqempty(p) || s->runqsize.load() > 0) {
    startm(s, p, false);
    return;
  }
  if (s->nmspinning.load() + s->npidle.load() == 0) {
    int32_t zero = 0;
    if (s->nmspinning.compare_exchange_strong(zero, 1)) {
      startm(s, p, true);
      return;
    }
  }
  std::lock_guard lk(s->lock);
  pidleput(s, p);  // to the stopper instead, when a stop is in progress
}

void preemptall(Sched* s) {
  for (P* p : s->allp) {
    if (p->status.load() == _Prunning) preemptone(p);
  }
}

// ---- the G-side API ----

const char* wait_reason_text(WaitReason r) {
  static const char* const kText[] = {
#define WEFT_WAIT_TEXT(name, text) text,
      WEFT_WAIT_REASONS(WEFT_WAIT_TEXT)
#undef WEFT_WAIT_TEXT
  };
  return kText[size_t(r)];
}

Parked gopark(bool (*unlockf)(G*, void*), void* arg, WaitReason reason) {
  M* m = getm();
  G* g = m->curg.load(std::memory_order_relaxed);
  if (g == nullptr || m->p == nullptr) fatal("sched: gopark outside a running goroutine");
  g->waitreason = reason;
  m->park_unlockf = unlockf;
  m->park_arg = arg;
  return park_common(M::Action::Park);
}

void goready(G* g) {
  OutsideReady outside;  // before the check of stopping
  Sched* s = g->owner;
  if (s->stopping.load()) return;  // the program is over: it stays parked
  casgstatus(g, _Gwaiting, _Grunnable);
  M* m = getm();
  if (m != nullptr && m->p != nullptr) {
    runqput(s, m->p, g, true);
  } else {
    ready_from_outside(s, g);
  }
  wakep(s);
}

Parked gosched() { return park_common(M::Action::Gosched); }

Parked preemptPark() { return park_common(M::Action::PreemptPark); }

void entersyscall() {
  M* m = getm();
  m->syscall.store(M::kInSyscall);
  G* g = m->curg.load(std::memory_order_relaxed);
  P* p = m->p;
  Sched* s = g->owner;
  p->syscalltick.fetch_add(1, std::memory_order_relaxed);
  p->syscallwhen_ns.store(nanotime(), std::memory_order_relaxed);
  casgstatus(g, _Grunning, _Gsyscall);
  m->oldp = p;
  m->p = nullptr;
  p->m.store(nullptr, std::memory_order_release);
  casp(p, _Prunning, _Psyscall);
  if (s->gcwaiting.load()) {  // a stop is in progress: give the P up now
    if (trycasp(p, _Psyscall, _Pgcstop)) {
      std::lock_guard lk(s->lock);
      p_stopped(s);
    }
  }
}

void exitsyscall() {
  M* m = getm();
  uint32_t was = M::kInSyscall;
  if (!m->syscall.compare_exchange_strong(was, M::kNotInSyscall)) {
    for (;;) pause();  // its scheduler was shut down without it (sched_stop): never return
  }
  G* g = m->curg.load(std::memory_order_relaxed);
  Sched* s = g->owner;
  P* oldp = m->oldp;
  m->oldp = nullptr;
  if (oldp != nullptr && trycasp(oldp, _Psyscall, _Prunning)) {
    m->p = oldp;
    oldp->m.store(m, std::memory_order_release);
    casgstatus(g, _Gsyscall, _Grunning);
    return;
  }
  P* p = nullptr;
  if (!s->gcwaiting.load()) {
    std::lock_guard lk(s->lock);
    p = pidleget(s);
  }
  if (p != nullptr) {
    acquirep(m, p);
    casgstatus(g, _Gsyscall, _Grunning);
    return;
  }
  // A test hook (tests/faults): widens the window between the look at the
  // idle Ps above and exitsyscall0's, in which a stop of the world can end.
  static const long delay_us = [] {
    const char* v = std::getenv("WEFT_TEST_EXITSYSCALL_DELAY_US");
    return v != nullptr ? std::atol(v) : 0L;
  }();
  if (delay_us > 0) std::this_thread::sleep_for(std::chrono::microseconds(delay_us));
  m->action = M::Action::ExitSyscall;
  g->parked_stackful = true;
  switch_to_g0(g, false);  // resumes _Grunning on some M with a P
}

// ---- the host's side ----

bool sched_start(Sched* s, const Hooks& hooks, const Options& opts) {
  static std::atomic<uint64_t> ids{0};
  if (s->id != 0) return false;
  s->id = ids.fetch_add(1) + 1;
  s->hooks = hooks;
  s->opts = opts;
  preempt_init(opts.async_preempt);
  fault_init();
  s->nprocs = opts.procs < 1 ? 1 : opts.procs;
  for (int i = 0; i < s->nprocs; i++) {
    P* p = new P();
    p->id = i;
    s->allp.push_back(p);
  }
  {
    std::lock_guard lk(s->lock);
    for (int i = s->nprocs; i-- > 0;) pidleput(s, s->allp[size_t(i)]);
  }
  sched_register(s);  // before any M runs: a stop-the-world from now on stops s too
  s->sysmon = std::thread(sysmon_main, s, opts.trace);
  if (opts.preempt_stress) preempt_stress_start(s);
  return true;
}

bool sched_stop(Sched* s) {
  {
    std::lock_guard lk(s->lock);  // orders against stop_the_world's check
    s->stopping.store(true);
  }
  preempt_stress_stop(s);
  // Readies from outside finish first (g_outside_readies): they read Ms and
  // Ps, and the Ms they start must be in allm before the exits are counted.
  while (g_outside_readies.load() != 0) std::this_thread::yield();
  preemptall(s);
  // Wake every idle M (each wake takes one off the list) until all exited.
  // After the grace period only Ms that may never stop are given up on
  // (may_never_stop); one that is merely slow, descheduled on a loaded
  // machine, is waited for: detached, it would run on while the caller
  // destroys its Runtime.
  auto start = std::chrono::steady_clock::now();
  for (;;) {
    mpoke(s);
    preemptall(s);
    bool all_exited, give_up;
    auto waited = std::chrono::steady_clock::now() - start;
    {
      std::lock_guard lk(s->lock);
      all_exited = s->mcount == 0 && s->nhostm.load() == 0;  // host calls hand their Gs over
      give_up = waited >= kStopGrace;
      for (M* m : s->allm) give_up = give_up && (m->exited || may_never_stop(m) || waited >= kStopLimit);
    }
    if (all_exited) break;
    if (give_up) {
      s->given_up.store(true);  // a stop-the-world stops waiting for s (vm/sched/stw.cpp)
      break;
    }
    std::unique_lock lk(s->done_mu);
    s->done_cv.wait_for(lk, std::chrono::milliseconds(1));
  }
  // A collection in progress reads the Gs and the Ps: let it finish (it
  // cannot start anew now that stopping is set; an unfinished stop gives up).
  while (s->gc_active.load()) std::this_thread::sleep_for(std::chrono::microseconds(50));
  notewakeup(&s->sysmon_note);
  if (s->sysmon.joinable()) s->sysmon.join();
  bool clean = true;
  for (M* m : s->allm) {
    bool exited;
    {
      std::lock_guard lk(s->lock);
      exited = m->exited;
    }
    if (exited) {
      m->thread.join();
      delete m;
    } else {
      m->thread.detach();  // stuck in a call-free loop or a blocking native: leaked
      clean = false;
    }
  }
  s->allm.clear();
  {
    std::lock_guard lk(s->lock);
    if (s->nhostm.load() != 0) {
      clean = false;  // a host thread is still inside a call: leak s
    } else {
      // No host call will run on s again (stopping): their stacks go to the
      // global pool now, which the caller may release.
      for (M* m : s->hostms) {
        delete m->stacks;
        m->stacks = nullptr;
      }
    }
  }
  sched_unregister(s);  // waits out a collection that started before and still reads these Gs and Ps
  return clean;
}

Sched::~Sched() {
  free_gs(this);
  for (P* p : allp) delete p;
  for (M* m : allm) delete m;
  for (M* m : hostms) {
    delete m->stacks;
    delete m;
  }
}

}  // namespace weft::sched
