// The collector's scan of one goroutine (vm/gc/scan.cpp). Collector
// thread, world stopped, inside bdwgc's push-other-roots callback.
#pragma once

#include "vm/gc/heap.h"

namespace weft::gc {

// Suspends g (sched::suspendG), pushes its roots (its VM state through
// vm.scan_vm, precise, or conservative where it stopped asynchronously;
// its native stack when it is parked with one) and resumes it. False for
// a dead G.
bool scan_goroutine(RootSink& sink, sched::G* g, Roots& vm);

// The start of the heap object containing p, or nullptr when p is not in
// the heap (bdwgc's GC_base).
const void* object_base(const void* p);

}  // namespace weft::gc
