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
//
// Pacer (Go's GOGC): the next collection is triggered when the bytes
// allocated since the last one bring the heap to
// max(kMinTrigger, live * (1 + gc_percent / 100)).
//
// Rejected: bdwgc's incremental mode (its mprotect barrier breaks read(2)
// into the heap; no soft-dirty bit on this kernel), and a custom mark
// procedure (10% slower than conservative scanning, which is exact here).
#pragma once

#include <cstddef>
#include <cstdint>

namespace weft {
class Runtime;
}

namespace weft::gc {

constexpr size_t kMinTrigger = 4u << 20;  // 4 MiB floor: tiny heaps do not collect constantly

// Where roots go. Precise roots are single Values; ranges are scanned
// conservatively (used later for async-preempted frames).
class RootSink {
 public:
  void value(const void* slot);                 // one word known to hold a Value
  void values(const void* lo, const void* hi);  // words known to hold Values
  void conservative(const void* lo, const void* hi);
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

  void set_gc_percent(int p) { gc_percent_ = p; }
  const Stats& stats() const { return stats_; }

 private:
  void refill(size_t granules, bool atomic);
  void flush_caches();
  void update_trigger();

  Runtime* rt_;
  int gc_percent_;
  bool requested_ = false;
  uint64_t trigger_ = kMinTrigger;
  Stats stats_;
  static constexpr int kClasses = 32;     // 16-byte granules: objects up to 512 bytes
  void* free_[2][kClasses + 1] = {};      // [atomic][granules] free lists
};

}  // namespace weft::gc
