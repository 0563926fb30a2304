// The VM frames of a goroutine, for the collector (gc::Roots::scan_vm; the
// goroutine itself is held still by vm/gc/scan.cpp).
//
// At a blocked or synchronous stop every live value is in a VM register
// that its frame's stack map names: precise. At an asynchronous stop (any
// instruction of async-safe code, vm/sched/preempt.h) the frames below the
// top were suspended in a CALL and are precise too, but the top one was
// running: its saved pc is stale and any register may be live, so it is
// scanned conservatively. Collector thread, world stopped.
#include "vm/gc/scan.h"
#include "vm/interp/runtime.h"

namespace weft {

namespace {

using gc::RootSink;

void scan_frame(RootSink& sink, Thread* t, Frame& f) {
  if (f.closure == nullptr) return;
  sink.value(&f.closure);
  const Proto* p = f.closure->proto;
  Value* regs = t->stack + f.base;
  const uint64_t* live = p->live_at(uint32_t(f.pc - p->code.data()));
  if (live == nullptr) {  // not stopped at a safe-point (cannot happen): keep all
    sink.values(regs, regs + p->nregs);
    return;
  }
  for (int r = 0; r < p->nregs; r++) {
    if (p->is_live(live, r)) sink.value(&regs[r]);
  }
}

// Whether f can be the topmost frame of a G stopped at an arbitrary
// instruction: the interpreter may have been stopped halfway through
// pushing it, so check that it names a closure and fits the stack.
bool plausible_frame(Thread* t, const Frame& f) {
  const Closure* c = f.closure;
  if (c == nullptr || gc::object_base(c) != c || c->type != ObjType::Closure) return false;
  return size_t(f.base) + size_t(c->proto->nregs) <= t->stack_size;
}

// A G stopped asynchronously: its frames below the top were suspended in
// a CALL (their saved pcs and stack maps are valid); the top one was
// running, its saved pc is stale and any register may be live, so all of
// it is scanned conservatively (Go does the same with the asyncPreempt
// frame's parent).
void scan_async_frames(RootSink& sink, Thread* t) {
  size_t n = t->frames.size();
  while (n > 0 && !plausible_frame(t, t->frames[n - 1])) n--;
  if (n == 0) return;
  for (size_t i = 0; i + 1 < n; i++) scan_frame(sink, t, t->frames[i]);
  Frame& top = t->frames[n - 1];
  sink.value(&top.closure);
  Value* regs = t->stack + top.base;
  sink.conservative(regs, regs + top.closure->proto->nregs);
}

}  // namespace

void Runtime::scan_vm(RootSink& sink, sched::GoroutineVM* vm, bool async) {
  Thread* t = static_cast<Thread*>(vm);
  if (async) {
    scan_async_frames(sink, t);
  } else {
    for (Frame& f : t->frames) scan_frame(sink, t, f);
  }
  if (!t->pins.empty()) sink.values(t->pins.data(), t->pins.data() + t->pins.size());
  sink.value(&t->error);
}

}  // namespace weft
