// Scanning goroutines: the collector's view of a G's roots (vm/gc).
//
// A G held still by suspendG is at one of three kinds of stop (DESIGN.md):
// blocked or synchronous (every live value is in a VM register its frame's
// stack map names: precise), or asynchronous (stopped at any instruction
// of safe code by vm/sched/preempt: its machine registers, the native
// frames below, and the topmost VM frame are scanned conservatively).
// Collector thread, world stopped.
#include "vm/gc/scan.h"

#define GC_THREADS 1
#define GC_NO_THREAD_REDIRECTS 1
#include <gc/gc.h>

#include "vm/arch/async.h"
#include "vm/arch/stack.h"
#include "vm/core/fatal.h"
#include "vm/interp/runtime.h"
#include "vm/sched/sched.h"

namespace weft::gc {

namespace {

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
  if (c == nullptr || GC_base(const_cast<Closure*>(c)) != c || c->type != ObjType::Closure) return false;
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

// The native stack of a G parked stackfully: from its saved context up to
// the top. For an async-preempted G that is weft_async_preempt2's frames,
// the trampoline's spill area and XSAVE image, and the interrupted native
// frames; for a G parked in a native that called back into Weft, that
// native's frames. Conservative: these frames have no stack maps.
void scan_native_stack(RootSink& sink, sched::G* g) {
  const char* lo = static_cast<const char*>(g->ctx->sp);
  const char* hi = static_cast<const char*>(g->stack->lo) + g->stack->size;
  if (g->asyncSafePoint.load()) {
    const char* spill = reinterpret_cast<const char*>(g->async_spill);
    const char* xsave = static_cast<const char*>(g->async_xsave);
    if (spill < lo || spill + arch::kSpillBytes > hi || xsave < lo || xsave + arch::xsave_bytes() > spill)
      fatal("gc: an async-preempted goroutine's spill area is not on its stack");
  }
  sink.conservative(lo, hi);
}

}  // namespace

void scan_thread(RootSink& sink, Thread* t) {
  for (Frame& f : t->frames) scan_frame(sink, t, f);
  if (!t->pins.empty()) sink.values(t->pins.data(), t->pins.data() + t->pins.size());
  sink.value(&t->error);
}

// One goroutine, held still by suspendG (world stopped: it is at a blocked,
// synchronous or asynchronous safe-point, or in a blocking native that
// touches no Weft state). A G that suspendG stopped from running is
// readied by resumeG.
bool scan_goroutine(RootSink& sink, sched::G* g) {
  sched::SuspendGState st = sched::suspendG(g);
  if (st.dead) return false;
  Thread* t = g->vm;
  if (t != nullptr) {
    if (g->asyncSafePoint.load()) {
      scan_async_frames(sink, t);
      if (!t->pins.empty()) sink.values(t->pins.data(), t->pins.data() + t->pins.size());
      sink.value(&t->error);
    } else {
      scan_thread(sink, t);
    }
  }
  if (g->parked_stackful && g->ctx != nullptr && g->stack != nullptr) scan_native_stack(sink, g);
  sink.value(&g->resume_value);
  sched::resumeG(st);
  return true;
}

}  // namespace weft::gc
