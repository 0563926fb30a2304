// The collector's scan of one goroutine (vm/gc/scan.cpp). Collector
// thread, world stopped, inside bdwgc's push-other-roots callback.
#pragma once

#include "vm/gc/heap.h"

namespace weft {
struct Thread;
}

namespace weft::gc {

// The roots of a Thread at a synchronous safe-point: its frames by their
// stack maps, its pins and its pending error.
void scan_thread(RootSink& sink, Thread* t);
// Suspends g (sched::suspendG), pushes its roots (precise, or conservative
// where it stopped asynchronously) and resumes it. False for a dead G.
bool scan_goroutine(RootSink& sink, sched::G* g);

}  // namespace weft::gc
