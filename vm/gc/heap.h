// The heap: bdwgc, set up so that collections happen only when the VM says.
//
// Model. bdwgc provides allocation, marking and sweeping; the VM provides
// the decision to collect (its own pacer) and the roots (exactly the VM's:
// frames by stack maps, globals, constants, runtime tables). bdwgc's own
// root sources are switched off: no data/bss segments, no dynamic library
// data, and its thread-stack scan is not chained in, so a stale pointer on a
// C++ stack or in a static never retains anything.
//
// Invariants.
//  - bdwgc is GC_disable()d for the VM's life; only Heap::collect() runs a
//    collection (GC_set_on_collection_event catches any other: fatal).
//  - Allocation never collects. Crossing the pacer's trigger posts a request
//    (the runtime poisons the guards); the next VM safe-point collects.
//  - Small objects come from size-class free lists refilled with
//    GC_generic_malloc_many (one list per size class and kind); the lists are
//    flushed before each collection, because objects sitting on them are not
//    reachable from any root.
//  - Live bytes are measured exactly after each collection by enumerating
//    the marked objects (bdwgc's block-level figures overstate them 4-11x).
//  - Only pointers to an object's first byte retain it (bdwgc's interior
//    pointer recognition is off): values, stores and cells always point at
//    object starts, and a collection only happens at a safe-point, where no
//    derived pointer is live.
//
// Pacer (Go's GOGC): the next collection is triggered when the bytes
// allocated since the last one bring the heap to
// max(kMinTrigger, live * (1 + gc_percent / 100)). gc_percent < 0 turns the
// pacer off (Go's GOGC=off); gc_stress requests a collection at every
// allocation.
//
// Rejected: bdwgc's incremental mode (its mprotect barrier breaks read(2)
// into the heap; no soft-dirty bit on this kernel), and a custom mark
// procedure (10% slower than conservative scanning, which is exact here).
//
// Threads: bdwgc's state is process-wide, so every live Heap is registered in
// one process-wide list and a collection pushes the roots of every Runtime.
// Until the scheduler lands, a Heap is used by one OS thread at a time, and
// two Runtimes must not run on two threads at once (a collection by one
// would flush the other's free lists under its feet).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>

namespace weft {
class Runtime;
}

namespace weft::gc {

constexpr size_t kMinTrigger = 4u << 20;  // 4 MiB floor: tiny heaps do not collect constantly
constexpr size_t kGranule = 16;           // bdwgc's granule on 64-bit targets

// Where roots go. Precise roots are single Values; ranges are scanned
// conservatively (used later for async-preempted frames). A sink exists only
// inside a collection (bdwgc's push-other-roots callback) on the collecting
// thread. Adjacent value() slots are batched into one range push.
class RootSink {
 public:
  RootSink() = default;
  ~RootSink() { flush(); }
  RootSink(const RootSink&) = delete;
  RootSink& operator=(const RootSink&) = delete;

  void value(const void* slot);                 // one word known to hold a Value
  void values(const void* lo, const void* hi);  // words known to hold Values
  void conservative(const void* lo, const void* hi);
  void flush();                                 // pushes the pending run

 private:
  const char* run_lo_ = nullptr;  // the pending run of adjacent value slots
  const char* run_hi_ = nullptr;
};

struct Stats {
  uint64_t collections = 0;
  uint64_t heap_bytes = 0;        // bdwgc's heap size
  uint64_t live_bytes = 0;        // exact, after the last collection
  uint64_t allocated_bytes = 0;   // since the last collection
  uint64_t total_allocated = 0;
  uint64_t last_pause_ns = 0, max_pause_ns = 0, total_pause_ns = 0;
  uint64_t stw_ns = 0;            // time to stop the world, last collection
  uint64_t mark_ns = 0;           // last collection
  uint64_t preemptions_async = 0, preemptions_sync = 0;
};

class Heap {
 public:
  // Sets bdwgc up on first use in the process (GC_INIT and the quirks in
  // heap.cpp). Any thread may create a Heap; it must be the one that runs
  // the VM until the scheduler lands.
  explicit Heap(Runtime* rt, int gc_percent);
  ~Heap();
  Heap(const Heap&) = delete;
  Heap& operator=(const Heap&) = delete;

  // Allocates `bytes`, zeroed when !atomic (atomic memory is uninitialized).
  // Never collects. Returns nullptr only on out-of-memory.
  void* alloc(size_t bytes, bool atomic);

  // True when the pacer wants a collection (checked in safe-point slow paths).
  bool wants_collection() const { return requested_; }
  void request() { requested_ = true; }

  // A full collection. Called only at a VM safe-point; pushes the runtime's
  // roots through Runtime::push_roots.
  void collect();

  // A weak link: *link holds the hidden target and is cleared when the
  // target dies.
  void register_weak(uintptr_t* link, const void* target);
  void* reveal_weak(const uintptr_t* link);  // nullptr once cleared

  void set_gc_percent(int p);
  void set_gc_stress(bool on);
  // One line per collection (like GODEBUG=gctrace=1) to `out`, or none.
  void set_trace(FILE* out) { trace_ = out; }
  const Stats& stats() const { return stats_; }
  Stats& mutable_stats() { return stats_; }  // for the scheduler's counters

 private:
  void* alloc_slow(size_t granules, bool atomic);
  void* refill(size_t granules, bool atomic);
  void post_request();
  void flush_caches();
  void update_trigger();
  void trace_line(uint64_t heap_before, uint64_t pause_ns) const;
  static void push_all_roots();  // bdwgc's push-other-roots callback

  Runtime* rt_;                  // owns this Heap; nullptr in unit tests of the heap alone
  int gc_percent_;
  bool gc_stress_ = false;
  bool requested_ = false;       // a collection is wanted; cleared by collect()
  FILE* trace_ = nullptr;        // not owned
  uint64_t trigger_ = kMinTrigger;  // live + allocated at which to request
  Stats stats_;
  static constexpr int kClasses = 32;     // 16-byte granules: objects up to 512 bytes
  // [atomic][granules] free lists, linked through each object's first word.
  // Not GC roots: flushed (dropped) before every collection.
  void* free_[2][kClasses + 1] = {};
};

// The fast path: pop a size-class list; everything else is out of line.
inline void* Heap::alloc(size_t bytes, bool atomic) {
  size_t granules = bytes == 0 ? 1 : (bytes + kGranule - 1) / kGranule;
  uint64_t rounded = granules * kGranule;
  stats_.allocated_bytes += rounded;
  stats_.total_allocated += rounded;
  if (stats_.live_bytes + stats_.allocated_bytes >= trigger_) post_request();
  if (granules <= kClasses) {
    void** head = &free_[atomic][granules];
    if (void* p = *head) {
      *head = *static_cast<void**>(p);
      *static_cast<void**>(p) = nullptr;  // the link word: the rest is zeroed by bdwgc
      return p;
    }
  }
  return alloc_slow(granules, atomic);
}

}  // namespace weft::gc
