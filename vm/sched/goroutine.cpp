// The goroutine lifecycle: newproc makes (or reuses) a G, g_entry runs its
// code on a native stack, goexit0 retires it to the free list, free_gs
// frees them all when the Sched goes. What a goroutine's code is, the
// scheduler does not know: it calls the VM's hooks (sched::Hooks, sched.h;
// vm/interp/goroutine.cpp fills them in). The M/P loop that runs Gs is in
// proc.cpp.
#include "vm/arch/stack.h"
#include "vm/core/fatal.h"
#include "vm/sched/chan.h"
#include "vm/sched/sched.h"
#include "vm/sched/sched_internal.h"

namespace weft::sched {

namespace {

void gfput(Sched* s, G* g) {
  s->hooks.reset(g);
  g->vm->depth = 0;
  g->resume_value = Value::nil();
  g->waiting = nullptr;
  g->is_main = false;
  g->host = nullptr;
  std::lock_guard lk(s->allglock);
  g->schedlink = s->gfree;
  s->gfree = g;
}

}  // namespace

// Go's goexit0 (the VM took the result or error in g_entry).
void goexit0(Sched* s, M* m, G* g) {
  if (g->is_main) report_done(s, Sched::Exit::Ok, "", "");
  g->parked_stackful = false;
  release_stack(m, g);
  dropg(m, g);
  g->preempt.store(false);
  g->preemptStop.store(false);
  casgstatus(g, _Grunning, _Gdead);
  s->ngoroutines.fetch_sub(1);
  gfput(s, g);
}

// A G's first activation on a fresh native stack: (re-)enter its code,
// then hand the G to g0 as parked or exited. Never returns.
void g_entry(void*) {
  arch::FiberSwitch().finish();  // the switch that started this stack ends here
  G* g = getm()->curg.load(std::memory_order_relaxed);
  const Hooks& hooks = g->owner->hooks;
  Value r = hooks.run(g);
  M* m = getm();  // a stackful park inside may have moved us
  g = m->curg.load(std::memory_order_relaxed);
  m->preemptoff = nullptr;  // park_common's, if the interpreter unwound to park
  if (r != kParked) {
    m->action = M::Action::Exit;
    if (g->hostcall.load(std::memory_order_relaxed)) g->resume_value = r;  // the host thread's g0 takes it (host_run)
    else hooks.exited(hooks.vm, g, r);
  }
  switch_to_g0(g, true);
  fatal("sched: a dead goroutine was resumed");
}

void free_gs(Sched* s) {
  for (G* g : s->allgs) {
    if (g->stack != nullptr) {
      // A G parked stackfully or cut off mid-run: its native stack holds no
      // state anyone will need again.
      arch::forget_frames(g->stack);
      arch::StackPool pool;
      pool.put(g->stack);
    }
    chan_free_waiting(g);  // a G still blocked on a channel owns its sudogs
    s->hooks.destroy(g);
    delete g;
  }
  s->allgs.clear();
  s->gfree = nullptr;
}

G* newproc1(Sched* s, Value fn, const Value* args, int nargs, void* host, bool is_main, G* reuse) {
  G* g = reuse;
  if (g == nullptr) {
    std::lock_guard lk(s->allglock);
    g = s->gfree;
    if (g != nullptr) s->gfree = g->schedlink;
  }
  if (g == nullptr) {
    g = new G();
    g->owner = s;
    casgstatus(g, _Gidle, _Gdead);
    std::lock_guard lk(s->allglock);
    s->allgs.push_back(g);
  }
  g->schedlink = nullptr;
  s->hooks.prepare(s->hooks.vm, g, fn, args, nargs);
  g->resume = Resume::Reexecute;
  g->host = host;
  g->is_main = is_main;
  g->goid = s->goidgen.fetch_add(1) + 1;
  s->ngoroutines.fetch_add(1);
  casgstatus(g, _Gdead, _Grunnable);
  return g;
}

G* newproc(Value fn, const Value* args, int nargs) {
  Sched* s = current_sched();  // the running goroutine's: a new one joins its VM
  G* g = newproc1(s, fn, args, nargs, nullptr, false);
  M* m = getm();
  if (m != nullptr && m->p != nullptr) {
    runqput(s, m->p, g, true);
    wakep(s);
  } else {
    std::lock_guard lk(s->lock);
    globrunqput(s, g);
  }
  return g;
}

G* host_newproc(Sched* s, Value fn, const Value* args, int nargs, void* host, bool is_main) {
  G* g = newproc1(s, fn, args, nargs, host, is_main);
  {
    std::lock_guard lk(s->lock);
    globrunqput(s, g);
  }
  wakep(s);
  return g;
}

}  // namespace weft::sched
