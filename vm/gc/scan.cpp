// Scanning goroutines: the collector's view of a G's roots (vm/gc). The
// VM frames are the VM's to scan (Roots::scan_vm, vm/interp/scan.cpp);
// this is the rest: holding the G still, its native stack, its resume value.
//
// A G held still by suspendG is at one of three kinds of stop (docs/design.md#safe-points):
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
#include "vm/sched/sched.h"

namespace weft::gc {

namespace {

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

// One goroutine, held still by suspendG (world stopped: it is at a blocked,
// synchronous or asynchronous safe-point, or in a blocking native that
// touches no Weft state). A G that suspendG stopped from running is
// readied by resumeG.
bool scan_goroutine(RootSink& sink, sched::G* g, Roots& vm) {
  sched::SuspendGState st = sched::suspendG(g);
  if (st.dead) return false;
  if (g->vm != nullptr) vm.scan_vm(sink, g->vm, g->asyncSafePoint.load());
  // A G in a blocking native is skipped: exitsyscall writes parked_stackful
  // and ctx with the G still _Gsyscall (the scan bit holds its status, not
  // its M), and nothing on that stack is a root.
  if (!st.syscall && g->parked_stackful && g->ctx != nullptr && g->stack != nullptr) scan_native_stack(sink, g);
  sink.value(&g->resume_value);
  sched::resumeG(st);
  return true;
}

const void* object_base(const void* p) { return GC_base(const_cast<void*>(p)); }

}  // namespace weft::gc
