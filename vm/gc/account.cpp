// One VM's live bytes when several VMs share bdwgc's heap: the heap limit
// (Config::heap_limit) is per VM, but one collection marks every VM's
// objects together, and bdwgc's count of marked objects
// (measure_live_bytes, vm/gc/heap.cpp) is the whole process's.
//
// Model. VMs share no object (docs/embedding.md#many-vms: no value of one is
// reachable from another's roots), so a VM's live data is exactly what is
// reachable from its roots alone. This walk recomputes that: the roots as
// Roots::push_roots gives them (into a recording RootSink, as --gc-verify
// gathers them), then every marked object reached from them, scanned
// word by word as bdwgc scans it (pointer-free objects are leaves; every
// other word that holds the start of a marked object is an edge; a
// conservative root range may also point inside an object, as
// RootSink::conservative allows). Sizes are GC_size's, as bdwgc's own
// count. Unmarked objects are skipped: dead (a stale word in a
// conservative range), and only live objects are counted.
//
// When: bdwgc's GC_EVENT_RECLAIM_START (vm/gc/heap.cpp), on the collector
// thread with the world stopped and bdwgc's lock held: mark bits are final
// and nothing is freed yet. Only for heaps with a limit while other heaps
// exist (a VM alone has the process's figure), so it costs nothing to a
// program run by the `vm` binary. It costs about one more mark of that VM's
// data in the pause.
//
// Rejected: a VM tag in every object header (no spare bits: String keeps
// its hash there, and pointer-free payloads have no header), and heap
// blocks owned per VM (bdwgc hands out free lists of any block).
#define GC_THREADS 1
#define GC_NO_THREAD_REDIRECTS 1
#include <gc/gc.h>
#include <gc/gc_inline.h>
#include <gc/gc_mark.h>

#include <unordered_set>
#include <vector>

#include "vm/gc/heap.h"

namespace weft::gc {

namespace {

class Counter {
 public:
  // A word that may reference an object: an edge when it is the start of
  // a marked object (or, inside, when `interior` allows).
  void word(uintptr_t w, bool interior) {
    if (w == 0) return;
    void* base = GC_base(reinterpret_cast<void*>(w));
    if (base == nullptr || (uintptr_t(base) != w && !interior) || !GC_is_marked(base)) return;
    if (!seen_.insert(base).second) return;
    size_t size = 0;
    int kind = GC_get_kind_and_size(base, &size);
    bytes_ += size;
    if (kind != GC_I_PTRFREE) work_.push_back({static_cast<const char*>(base), size});
  }
  // Root ranges include native stacks, whose ASan redzones are poisoned:
  // read them as bdwgc's (uninstrumented) marker does.
  __attribute__((no_sanitize("address"))) void range(const char* lo, const char* hi, bool interior) {
    for (const char* p = lo; p + sizeof(uintptr_t) <= hi; p += sizeof(uintptr_t))
      word(*reinterpret_cast<const uintptr_t*>(p), interior);
  }
  void drain() {
    while (!work_.empty()) {
      auto [lo, size] = work_.back();
      work_.pop_back();
      range(lo, lo + size, false);
    }
  }
  uint64_t bytes() const { return bytes_; }

 private:
  std::unordered_set<const void*> seen_;
  std::vector<std::pair<const char*, size_t>> work_;
  uint64_t bytes_ = 0;
};

}  // namespace

uint64_t reachable_bytes(Roots* vm) {
  RootSink::Record record;
  {
    RootSink sink(&record);
    vm->push_roots(sink);
  }
  Counter c;
  for (auto& [lo, hi] : record.precise) c.range(lo, hi, false);
  for (auto& [lo, hi] : record.conservative) c.range(lo, hi, true);
  c.drain();
  return c.bytes();
}

}  // namespace weft::gc
