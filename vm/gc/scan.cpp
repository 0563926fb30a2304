// Scanning goroutines: the collector's view of a G's roots (vm/gc).
//
// A G held still by suspendG is at one of three kinds of stop (DESIGN.md):
// blocked or synchronous (every live value is in a VM register its frame's
// stack map names: precise), or asynchronous (stopped at any instruction
// of safe code by vm/sched/preempt: its machine registers, the native
// frames below, and the topmost VM frame are scanned conservatively).
// Collector thread, world stopped.
#include "vm/gc/scan.h"

#include "vm/runtime.h"
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

}  // namespace

void scan_thread(RootSink& sink, Thread* t) {
  for (Frame& f : t->frames) scan_frame(sink, t, f);
  if (!t->pins.empty()) sink.values(t->pins.data(), t->pins.data() + t->pins.size());
  sink.value(&t->error);
}

// One goroutine, held still by suspendG (world stopped: it is at a blocked
// or synchronous safe-point, or in a blocking native that touches no Weft
// state). A G that suspendG stopped from running is readied by resumeG.
bool scan_goroutine(RootSink& sink, sched::G* g) {
  sched::SuspendGState st = sched::suspendG(g);
  if (st.dead) return false;
  if (g->vm != nullptr) scan_thread(sink, g->vm);
  sink.value(&g->resume_value);
  sched::resumeG(st);
  return true;
}

}  // namespace weft::gc
