// The goroutine lifecycle: newproc makes (or reuses) a G, g_entry runs its
// VM code on a native stack, goexit0 retires it to the free list, free_gs
// frees them all when the Sched goes. The M/P loop that runs Gs is in
// proc.cpp.
#include <cstdlib>

#include "vm/arch/stack.h"
#include "vm/core/fatal.h"
#include "vm/interp/interp.h"
#include "vm/interp/runtime.h"
#include "vm/sched/chan.h"
#include "vm/sched/sched.h"
#include "vm/sched/sched_internal.h"

namespace weft::sched {

void gfput(Sched* s, G* g) {
  Thread* t = g->vm;
  t->frames.clear();
  t->frames.shrink_to_fit();
  t->pins.clear();
  t->error = Value::nil();
  t->traceback.clear();
  t->depth = 0;
  g->resume_value = Value::nil();
  g->waiting = nullptr;
  g->is_main = false;
  g->host = nullptr;
  if (t->stack_size > 4 * kGoroutineStack) {  // keep small stacks only
    std::free(t->stack);
    t->stack = nullptr;
    t->stack_size = 0;
  }
  std::lock_guard<std::mutex> lk(s->allglock);
  g->schedlink = s->gfree;
  s->gfree = g;
}

void report_error(Sched* s, G* g) {
  Thread* t = g->vm;
  std::string msg = is_type(t->error, ObjType::String) ? std::string(as_string(t->error)->view()) : "error";
  report_done(s, Sched::Exit::Error, std::move(msg), std::move(t->traceback));
}

// Go's goexit0 (an error, if any, was reported by g_entry).
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

// A G's first activation on a fresh native stack: (re-)enter the
// interpreter, then hand the G to g0 as parked or exited. Never returns.
void g_entry(void*) {
  arch::FiberSwitch().finish();  // the switch that started this stack ends here
  G* g = getm()->curg;
  Value r = execute_goroutine(g->vm);
  M* m = getm();  // a stackful park inside may have moved us
  g = m->curg;
  m->preemptoff = nullptr;  // park_common's, if the interpreter unwound to park
  if (r != kParked) {
    m->action = M::Action::Exit;
    if (g->host != nullptr) g->vm->rt->host_goexit(g, r);  // the host takes the result or error
    else if (r.is_empty()) report_error(current_sched(), g);
  }
  switch_to_g0(g, true);
  fatal("sched: a dead goroutine was resumed");
}

// goready from a thread without a P (sysmon's timers, a host thread): the
// G goes to the head of the global queue and is marked urgent, so the next
// P to schedule takes it before its own local queue; with no P idle, one
// running G is preempted so that happens now. (Behind the local queue, two
// call-free spinners on one P made a goroutine sleeping 1 ms wake 27-39 ms
// late. Putting it in a busy P's runnext from outside lost a wake-up when
// that P went idle at the same moment.) A P may have taken the G already:
// preempting it then would send it to the global queue's tail, behind

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
    std::free(g->vm->stack);
    delete g->vm;
    delete g;
  }
  s->allgs.clear();
  s->gfree = nullptr;
}

namespace {

// newproc's common part: a G (reused or new) ready to run fn(args...), not
// yet on any queue.
G* newproc1(Sched* s, Runtime* rt, Value fn, const Value* args, int nargs, void* host, bool is_main) {
  Closure* c = as_closure(fn);
  Proto* p = c->proto;
  G* g;
  {
    std::lock_guard<std::mutex> lk(s->allglock);
    g = s->gfree;
    if (g != nullptr) s->gfree = g->schedlink;
  }
  if (g == nullptr) {
    g = new G();
    g->vm = new Thread();
    g->vm->g = g;
    g->owner = s;
    casgstatus(g, _Gidle, _Gdead);
    std::lock_guard<std::mutex> lk(s->allglock);
    s->allgs.push_back(g);
  }
  g->schedlink = nullptr;
  Thread* t = g->vm;
  t->rt = rt;
  if (t->stack == nullptr) {
    t->stack = static_cast<Value*>(std::malloc(kGoroutineStack * sizeof(Value)));
    if (t->stack == nullptr) fatal("sched: out of memory for a goroutine stack");
    t->stack_size = kGoroutineStack;
  }
  size_t need = 1 + size_t(p->nregs);
  if (!t->ensure_stack(need)) fatal("sched: goroutine frame larger than the VM stack limit");
  for (size_t i = 0; i < need; i++) t->stack[i] = Value::nil();
  t->stack[0] = fn;
  for (int j = 0; j < nargs; j++) t->stack[1 + size_t(j)] = args[j];
  t->frames.push_back(Frame{c, p->code.data(), p->k.data(), 1, kFrameReentry});
  t->set_guard();
  g->resume = Resume::Reexecute;
  g->host = host;
  g->is_main = is_main;
  g->goid = s->goidgen.fetch_add(1) + 1;
  s->ngoroutines.fetch_add(1);
  casgstatus(g, _Gdead, _Grunnable);
  return g;
}

}  // namespace

G* newproc(Runtime* rt, Value fn, const Value* args, int nargs) {
  Sched* s = current_sched();
  G* g = newproc1(s, rt, fn, args, nargs, nullptr, false);
  M* m = getm();
  if (m != nullptr && m->p != nullptr) {
    runqput(s, m->p, g, true);
    wakep(s);
  } else {
    std::lock_guard<std::mutex> lk(s->lock);
    globrunqput(s, g);
  }
  return g;
}

G* host_newproc(Sched* s, Runtime* rt, Value fn, const Value* args, int nargs, void* host, bool is_main) {
  G* g = newproc1(s, rt, fn, args, nargs, host, is_main);
  {
    std::lock_guard<std::mutex> lk(s->lock);
    globrunqput(s, g);
  }
  wakep(s);
  return g;
}

}  // namespace weft::sched
