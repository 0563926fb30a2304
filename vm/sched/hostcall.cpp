// Host threads running calls themselves (docs/design.md#host-calls), after
// Go's cgo callbacks (needm / cgocallbackg / dropm): the calling thread
// borrows an M of its own and an idle P, runs the call's G on a pooled
// native stack as any M's execute() would, and gives the P back. The API
// is in vm/sched/sched.h (host_acquire .. host_release); vm/api/host.cpp
// drives it.
//
// While it holds the P the host thread is an M like the others: its G is
// preempted synchronously (the guard) and asynchronously (SIGURG to the
// host thread, which has its own signal stack), suspended and scanned
// exactly as a goroutine on a scheduler thread, because it is one. The
// only difference is what its g0 does when the G switches back:
//  - the G returned (M::Action::Exit, G::hostcall set): g_entry left the
//    result in g->resume_value; the G is dead and stays cached on the M
//    (host_finish), so the next call reuses it, its VM stack and its
//    frame vector without allocating;
//  - the G parked (a channel, a preemption, a stop-the-world, a blocking
//    native that came back to no P): the host hands it over (host_detach:
//    the park is performed as schedule() would, and from then on it is an
//    ordinary goroutine that any M resumes) and waits for its result like a
//    spawned call.
// Goroutines the call starts go on the host's P's run queue (newproc), and
// wakep starts a scheduler M that steals them; when the host gives the P
// back with work on it, an M gets the P (host_release).
//
// The M is per thread and per Sched: cached in a thread-local keyed by the
// Sched's id (Sched::id; a new Sched after a stopped one makes a new M),
// owned by the Sched (Sched::hostms, freed by ~Sched). A thread that calls
// into several VMs in turn finds its M of each in that VM's hostms (by
// thread id) when the one-entry cache misses, so their number stays at
// one per thread and Sched. It is current on its
// thread (weft_tls_m) only during a call, so that between calls the thread
// is a host thread again (the API's waiting methods refuse to run on an M).
//
// Rejected: locking the G to its host M (Go's lockOSThread, startlockedm)
// so that a parked call resumes on the host thread: a parked call costs a
// hand-off either way, and an unlocked G needs no new scheduler states.
#include "vm/arch/stack.h"
#include "vm/core/fatal.h"
#include "vm/sched/preempt.h"
#include "vm/sched/sched.h"
#include "vm/sched/sched_internal.h"

namespace weft::sched {

namespace {

// This thread's M: valid iff sched_id is the id of the Sched it was made for.
struct HostThread {
  uint64_t sched_id = 0;
  M* m = nullptr;
};
thread_local HostThread t_host;

// Set between host_leave_m and host_return_m: the native stack of the
// goroutine this thread left, the g0 stack of host Ms it acquires meanwhile.
struct BorrowedStack {
  void* lo = nullptr;
  size_t size = 0;
};
thread_local BorrowedStack t_borrowed;

// m's g0 bounds (the sanitizers' fiber hooks) for this acquisition: the
// thread's own stack, or the borrowed goroutine stack it runs on.
void set_g0_bounds(M* m) {
  if (t_borrowed.lo != nullptr) {
    m->g0_lo = t_borrowed.lo;
    m->g0_size = t_borrowed.size;
    m->g0_borrowed = true;
  } else if (m->g0_borrowed) {
    arch::thread_stack_bounds(&m->g0_lo, &m->g0_size);
    m->g0_borrowed = false;
  }
}

M* new_host_m(Sched* s) {
  M* m = new M();
  m->host = true;
  m->host_thread = std::this_thread::get_id();
  m->stacks = new arch::StackPool();
  m->g0 = &m->g0ctx;
  arch::thread_stack_bounds(&m->g0_lo, &m->g0_size);
  {
    std::lock_guard lk(s->lock);
    m->id = s->mnext++;
    s->hostms.push_back(m);
  }
  m->fastrand_state = uint64_t(nanotime()) ^ (uint64_t(m->id) << 32);
  preempt_host_minit(m);
  t_host.sched_id = s->id;
  t_host.m = m;
  return m;
}

// This thread's idle M in s: the cached one, one made earlier (the thread
// called another VM since, or made calls nested in calls: a -> b -> a), or
// a new one. One busy lower on this thread's stack is in a system call
// (host_leave_m), its G waiting on it: reusing it lost that G (exitsyscall
// found no curg).
M* host_m(Sched* s) {
  if (t_host.sched_id == s->id && !t_host.m->host_busy) return t_host.m;
  M* found = nullptr;
  {
    std::lock_guard lk(s->lock);
    for (M* m : s->hostms) {
      if (m->host_thread == std::this_thread::get_id() && !m->host_busy) found = m;
    }
  }
  if (found == nullptr) return new_host_m(s);
  t_host.sched_id = s->id;
  t_host.m = found;
  return found;
}

}  // namespace

M* host_acquire(Sched* s) {
  if (s->npidle.load(std::memory_order_relaxed) == 0) return nullptr;
  M* m = host_m(s);
  P* p;
  {
    std::lock_guard lk(s->lock);
    p = s->stopping.load() || s->gcwaiting.load() ? nullptr : pidleget(s);
    if (p != nullptr) s->nhostm.fetch_add(1);
  }
  if (p == nullptr) return nullptr;
  m->host_busy = true;
  set_g0_bounds(m);
  weft_tls_m = m;
  // A signal of ours that landed between calls found no M here and was
  // passed on: nothing is in flight for this call yet.
  m->signalPending.store(false);
  acquirep(m, p);
  return m;
}

G* host_g(Sched* s, M* m, Value fn, const Value* args, int nargs) {
  G* g = newproc1(s, fn, args, nargs, nullptr, false, m->hostg);
  m->hostg = nullptr;
  g->hostcall.store(true, std::memory_order_relaxed);
  // execute()'s first half: g runs on m from here (it may allocate: its
  // caller converts the arguments into its registers).
  casgstatus(g, _Grunnable, _Grunning);
  g->m.store(m, std::memory_order_release);
  m->curg.store(g, std::memory_order_release);
  P* p = m->p;
  p->schedtick.fetch_add(1, std::memory_order_relaxed);
  p->schedwhen_ns.store(nanotime(), std::memory_order_relaxed);
  if (!s->stopping.load()) {
    g->preempt.store(false);
    set_guard(g->vm, g);
  }
  return g;
}

namespace {

// A yield (sysmon's time slice, --preempt-stress) with nothing else to run
// and no stop waiting: the host goes on running its G instead of handing
// it over (a long call would otherwise move to a scheduler thread after
// its first time slice).
bool may_go_on(Sched* s, M* m, G* g) {
  return !s->gcwaiting.load() && !s->stopping.load() && !g->preemptStop.load() && runqempty(m->p) &&
         s->runqsize.load() == 0;
}

}  // namespace

bool host_run(Sched* s, M* m, G* g, Value* result) {
  for (;;) {
    m = switch_to_g(m, g);
    switch (m->action) {
      case M::Action::None: fatal("sched: goroutine switched to g0 without an action");
      case M::Action::Exit: *result = g->resume_value; return true;
      case M::Action::Gosched:
        if (!may_go_on(s, m, g)) return false;
        release_stack(m, g);  // a stackless yield's stack goes back to the pool
        m->p->schedtick.fetch_add(1, std::memory_order_relaxed);
        m->p->schedwhen_ns.store(nanotime(), std::memory_order_relaxed);
        g->preempt.store(false);
        set_guard(g->vm, g);
        continue;
      default: return false;
    }
  }
}

void host_finish(Sched* s, M* m, G* g) {
  g->parked_stackful = false;
  release_stack(m, g);
  dropg(m, g);
  g->preempt.store(false);
  g->preemptStop.store(false);
  g->hostcall.store(false, std::memory_order_relaxed);
  g->resume_value = Value::nil();
  casgstatus(g, _Grunning, _Gdead);
  s->ngoroutines.fetch_sub(1);
  m->action = M::Action::None;
  m->hostg = g;
}

void host_detach(Sched* s, M* m, G* g) {
  g->hostcall.store(false, std::memory_order_relaxed);  // before anyone else can run it: its end goes to Hooks::exited
  M::Action action = m->action;
  m->action = M::Action::None;
  switch (action) {
    case M::Action::Park: park_m(s, m, g); break;
    case M::Action::Gosched: gosched_m(s, m, g); break;
    case M::Action::PreemptPark: preemptpark_m(m, g); break;
    case M::Action::ExitSyscall: exitsyscall0(s, m, g); break;
    default: fatal("sched: host_detach of a goroutine that did not park");
  }
}

// handoffp's decision for a P the host gives back, under sched.lock (a G
// queued from outside after an unlocked look would have called wakep while
// this P was not yet idle): the stopper when the world is stopping; an M
// when work waits on it or on the global queue; else the idle list (also
// when the scheduler is shutting down: no M may start then).
void host_release(Sched* s, M* m) {
  if (m->p != nullptr) {  // none when the G gave it up in a blocking native and the P was retaken
    P* p = releasep(m);
    bool work = false;
    {
      std::lock_guard lk(s->lock);
      if (s->gcwaiting.load()) {
        casp(p, _Pidle, _Pgcstop);
        p_stopped(s);
      } else if (s->stopping.load() || (runqempty(p) && s->runqsize.load() == 0)) {
        pidleput(s, p);
      } else {
        work = true;
      }
    }
    if (work) startm(s, p, false);
  }
  m->oldp = nullptr;
  weft_tls_m = nullptr;
  m->host_busy = false;
  s->nhostm.fetch_sub(1);
}

M* host_leave_m() {
  M* m = getm();
  G* g = m != nullptr ? m->curg.load(std::memory_order_relaxed) : nullptr;
  if (g != nullptr && g->stack != nullptr) t_borrowed = {g->stack->lo, g->stack->size};
  weft_tls_m = nullptr;
  return m;
}

// The borrowed stack of the level below comes back with its M: a host M
// acquired on a goroutine's stack (a -> b -> a: the b call's M) has it as
// its g0 bounds; a scheduler thread's M borrowed none.
void host_return_m(M* m) {
  t_borrowed = m->host && m->g0_borrowed ? BorrowedStack{m->g0_lo, m->g0_size} : BorrowedStack{};
  weft_tls_m = m;
}

}  // namespace weft::sched
