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
//  - Allocation never collects and never waits. Crossing the pacer's
//    trigger posts a request to the collector thread (Heap::request)
//    and goes on; the collector stops the world and collects (vm/sched/stw.cpp).
//  - Small objects come from per-P caches (Cache: one free list per size
//    class and kind, refilled with GC_generic_malloc_many), so the fast path
//    takes no lock: only the M holding a P allocates from its cache. Threads
//    without a P (the host thread compiling) use one shared cache under a
//    mutex. Every cache is flushed while the world is stopped, because
//    objects sitting on a list are reachable from no root (pushing the list
//    head would not protect pointer-free objects).
//  - Live bytes are measured exactly after each collection by enumerating
//    the marked objects (bdwgc's block-level figures overstate them 4-11x),
//    once the world has restarted (Heap::run_cycle).
//  - Only pointers to an object's first byte retain it (bdwgc's interior
//    pointer recognition is off): values, stores and cells always point at
//    object starts, and a collection only happens at a safe-point, where no
//    derived pointer is live.
//
// Pacer (Go's GOGC): the next collection is triggered when the bytes
// allocated since the last one bring the heap to
// max(kMinHeap * gc_percent / 100, live * (1 + gc_percent / 100)): the floor
// scales with gc_percent as Go's heapminimum does, but is 16 MiB where Go's
// is 4 MB (binary-trees, live 4-7 MiB, collected 126 times with a 4 MiB
// floor and 60 with 16, 9% faster; a small program's heap may reach 16 MiB
// before its first collection). gc_percent < 0 turns the pacer off (Go's
// GOGC=off); gc_stress requests a collection at every allocation.
//
// Rejected: bdwgc's incremental mode (its mprotect barrier breaks read(2)
// into the heap; no soft-dirty bit on this kernel), and a custom mark
// procedure (10% slower than conservative scanning, which is exact here).
//
// Threads: bdwgc's state is process-wide, so every live Heap (one per VM) is
// registered in one process-wide list and a collection pushes the roots of
// every Runtime: it stops every VM's goroutines (sched::stop_the_world stops
// every running Sched) and counts as a cycle of every Heap. Requests from
// several heaps are served by one collection. Live bytes are the
// process's (bdwgc marks them together), except for a heap with a limit
// while other heaps exist: its own are counted by a walk from its roots
// alone (vm/gc/account.cpp), so one VM's data never counts against
// another's limit (docs/embedding.md#many-vms).
// Allocation: any M holding a P (its cache), or any thread without one (the
// shared cache). A thread without a P must not allocate while its Runtime's
// goroutines run (its new object would be rooted by nothing during a
// collection): in practice only the host thread, before Runtime::run.
// Collections run only on the collector thread (heap.cpp).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "vm/arch/async.h"
#include "vm/gc/barrier.h"
#include "vm/sched/lock.h"
#include "vm/sched/sched.h"

namespace weft::gc {

constexpr size_t kMinHeap = 16u << 20;  // the pacer's floor at gc_percent 100: small heaps do not collect constantly
constexpr size_t kGranule = 16;           // bdwgc's granule on 64-bit targets

// Where roots go. Precise roots are single Values; ranges are scanned
// conservatively (the top VM frame of an asynchronously preempted G, native
// stacks, docs/design.md#roots). A sink exists only
// inside a collection (bdwgc's push-other-roots callback) on the collecting
// thread. Adjacent value() slots are batched into one range push.
class RootSink {
 public:
  // Where a recording sink puts the ranges it is given (--gc-verify, the
  // per-VM accounting).
  struct Record {
    std::vector<std::pair<const char*, const char*>> precise, conservative;
  };
  // Pushes to bdwgc's mark stack.
  RootSink() : record_(nullptr), mark_(true) {}
  // Records the ranges; with `mark`, pushes them too (the mark's own sink
  // under --gc-verify: the verifier must check the roots the mark got, as
  // they were then, vm/gc/verify.cpp).
  explicit RootSink(Record* record, bool mark = false) : record_(record), mark_(mark) {}
  ~RootSink() { flush(); }
  RootSink(const RootSink&) = delete;
  RootSink& operator=(const RootSink&) = delete;

  void value(const void* slot);                 // one word known to hold a Value
  void values(const void* lo, const void* hi);  // words known to hold Values
  void conservative(const void* lo, const void* hi);
  void flush();                                 // pushes the pending run

 private:
  void push(const char* lo, const char* hi, bool precise);
  Record* record_;                // nullptr: not recording
  bool mark_;                     // push to bdwgc's mark stack
  const char* run_lo_ = nullptr;  // the pending run of adjacent value slots
  const char* run_hi_ = nullptr;
};

// The heap's view of the VM instance that owns it (the Runtime implements
// it, vm/interp/runtime.h: push_roots in vm/api/runtime.cpp, scan_vm in
// vm/interp/scan.cpp): the collector reaches the VM's roots only through
// this, so vm/gc includes nothing of vm/interp.
class Roots {
 public:
  // Pushes every root of the VM: each goroutine through scan_goroutine
  // (vm/gc/scan.h), the globals, constants and host handles. Returns the
  // number of goroutines scanned. Collector thread, world stopped.
  virtual size_t push_roots(RootSink& sink) = 0;
  // Pushes the roots in one goroutine's VM state (its frames by their
  // stack maps, pins, pending error). async: stopped at an arbitrary
  // instruction, so the top frame is scanned conservatively.
  virtual void scan_vm(RootSink& sink, sched::GoroutineVM* vm, bool async) = 0;
  // The VM state of the thread that runs Weft code off the scheduler (the
  // host thread), whose guard a collection request poisons when no
  // goroutine is running.
  virtual sched::GoroutineVM* host_vm() = 0;

 protected:
  ~Roots() = default;
};

struct Stats {
  uint64_t collections = 0;       // minor and full
  uint64_t minor_collections = 0, full_collections = 0;
  uint64_t heap_bytes = 0;        // bdwgc's heap size
  uint64_t live_bytes = 0;        // exact, after the last full collection
  uint64_t allocated_bytes = 0;   // since the last collection
  uint64_t total_allocated = 0;
  uint64_t last_pause_ns = 0, max_pause_ns = 0, total_pause_ns = 0;
  uint64_t stw_ns = 0;            // time to stop the world, last collection
  uint64_t mark_ns = 0;           // last collection
};

// One collection's figures, handed to the cycle hook (Heap::set_cycle_hook).
struct Cycle {
  uint64_t seq = 0;               // 1 for the first collection
  bool minor = false;             // a minor (young-generation) collection
  uint64_t at_ns = 0;             // when it started, ns since the heap was made
  uint64_t stw_ns = 0;            // time to stop the world
  uint64_t mark_ns = 0;
  uint64_t pause_ns = 0;          // world stopped, start to end
  uint64_t heap_before = 0, heap_after = 0;  // bdwgc's heap size
  uint64_t live_after = 0;        // exact live bytes (after a minor: the last full's)
  size_t goroutines = 0;          // scanned
};

constexpr int kClasses = 32;  // 16-byte granules: objects up to 512 bytes in size classes

// One P's allocation caches (P::mcache). Owned by the Heap; used only by the
// M holding the P (or under Heap's shared mutex for the shared cache).
struct Cache {
  // [atomic][granules] free lists, linked through each object's first word.
  // Not GC roots: flushed (dropped) when the world stops.
  void* free[2][kClasses + 1] = {};
  uint64_t unreported = 0;   // bytes allocated here, not yet added to Heap's counters
  const void* owner = nullptr;  // the Heap: a P of another Runtime's heap is not ours
};

// bdwgc's parallel markers: the threads that mark a collection (the
// collector thread and markers - 1 helpers bdwgc starts). Process-wide and
// fixed when bdwgc is set up (the first Heap), so set_markers() works only
// before: false after, or for n outside 1..kMaxMarkers. Unset, the count is
// env WEFT_GC_MARKERS, else the number of CPUs (default_markers). bdwgc's
// own GC_MARKERS, when set, overrides both (bdwgc reads it at set-up).
// Any thread.
constexpr int kMaxMarkers = 16;  // bdwgc 8.2's MAX_MARKERS
bool set_markers(int n);
// The count in effect once bdwgc is set up (1 when bdwgc refused parallel
// marking), else the count it will get.
int markers();
// WEFT_GC_MARKERS if it holds a count in 1..kMaxMarkers, else the number of
// CPUs (at most kMaxMarkers). A malformed WEFT_GC_MARKERS is reported once
// on stderr and ignored.
int default_markers();

// Generational collections (minor ones between full ones; vm/gc/barrier.h,
// vm/gc/README.md): process-wide like the marker count, fixed when bdwgc
// is set up, so set_generational() works only before (false after, or when
// this build's bdwgc cannot: generational_available()). Unset: on where
// generational_available(), unless env WEFT_GC_GENERATIONAL=0. Any thread.
bool set_generational(bool on);
bool generational();             // in effect once bdwgc is set up, else what it will get
bool generational_available();   // linked against tools/bdwgc.sh's patched bdwgc

// --gc-verify's walk (vm/gc/verify.cpp): fatal if an object reachable from
// the roots the mark was given (recorded by its sinks, one Record per
// runtime) is not marked. Collector thread, world stopped, bdwgc's lock
// held, between its mark and reclaim phases. Returns the number of objects
// checked.
// minor: the collection was a minor one (a failure then names the likely
// cause, a missing write barrier).
size_t verify_heap(const std::vector<RootSink::Record>& roots, bool minor);

// The bytes of the marked objects reachable from one VM's roots (vm/gc/account.cpp):
// that VM's live data, as bdwgc would count it if its roots were the only
// ones. Collector thread, world stopped, bdwgc's lock held, between the
// mark and reclaim phases (as verify_heap).
uint64_t reachable_bytes(Roots* vm);

class Heap {
 public:
  // Sets bdwgc up on first use in the process (GC_INIT and the quirks in
  // heap.cpp, including the collector thread). Any thread that is not an M.
  explicit Heap(Roots* roots, int gc_percent);
  ~Heap();
  // Gives a Heap made without roots its VM. With the world stopped by the
  // caller: a Heap joins the collector's list when made (which takes the
  // list's lock, ranked below the stop-the-world's), so a VM makes its Heap
  // first and hands it the roots once no collection can run
  // (vm/api/runtime.cpp).
  void set_roots(Roots* roots) { roots_ = roots; }
  Heap(const Heap&) = delete;
  Heap& operator=(const Heap&) = delete;

  // Allocates `bytes`, zeroed when !atomic (atomic memory is uninitialized).
  // Never collects. Returns nullptr only on out-of-memory.
  void* alloc(size_t bytes, bool atomic);

  // True when a collection has been asked for and not yet run.
  bool wants_collection() const { return requested_.load(std::memory_order_relaxed); }
  // Asks the collector thread for a collection (does not wait). Any thread.
  void request();

  // A full collection (also under generational collections); returns when it is done. Any thread but a running
  // goroutine's (the world is stopped around it): the collector thread
  // stops the world, marks (pushing the runtime's roots through
  // Runtime::push_roots), sweeps and starts the world. A goroutine uses
  // gc_wait() instead.
  void collect();
  // The number of collections completed; gc() waits for it to pass a mark.
  uint64_t cycles() const { return cycles_.load(std::memory_order_acquire); }
  // Parks the current goroutine until a collection that starts after this
  // call has completed: a full one (gc()), or with full == false whichever
  // the pacer picks (--gc-stress's waits, so --gc-stress-minor's are
  // minors). Returns what sched::gopark returned.
  sched::Parked gc_wait(bool full = true);

  // A weak link: *link holds the hidden target and is cleared when the
  // target dies.
  void register_weak(uintptr_t* link, const void* target);
  void* reveal_weak(const uintptr_t* link);  // nullptr once cleared

  void set_gc_percent(int p);
  // The setters below write what every collection reads, whichever VM's
  // allocation started it (run_cycle, finish_cycle): each takes g_heaps_mu,
  // which waits out a collection in progress. Host threads only, never
  // under a stop of the world (rank Heaps < Stw, vm/core/lockrank.h) nor on
  // a goroutine (a collection holding the lock waits for it to stop).
  // minor: with generational collections, the stress collections are
  // minor ones (every few hundred a full one, so both kinds are stressed).
  void set_gc_stress(bool on, bool minor = false);
  bool gc_stress() const { return gc_stress_; }
  // --gc-verify: check every collection's marking (vm/gc/verify.cpp).
  void set_gc_verify(bool on);
  // The heap limit (bytes of live data; 0: none). The pacer collects
  // before the heap reaches it; when a collection finds more live data
  // than the limit, the next goroutine to allocate raises `out of memory`
  // at its next safe-point (take_out_of_memory, vm/interp/interp.cpp).
  void set_limit(uint64_t bytes);
  uint64_t limit() const { return limit_; }
  // The live bytes the last collection counted (0 before the first): what
  // a builtin's planned result is added to (heap_room, vm/interp/runtime.h).
  uint64_t last_live() const { return last_live_.load(std::memory_order_relaxed); }
  // True once per collection that went over the limit: the caller raises.
  bool take_out_of_memory();
  // An `out of memory` error was caught (pcall, a host call, a goroutine's
  // end): the verdicts of the collections started so far are withdrawn.
  // They may have counted the data of the frames it unwound, which is now
  // garbage; a later collection gives its own verdict.
  void withdraw_out_of_memory();
  // One line per collection (like GODEBUG=gctrace=1) to `out`, or none.
  void set_trace(FILE* out);
  // Called on the collector thread after each collection, world started
  // again; it must not allocate from this heap or block for long. Another
  // VM's collection calls it too: the setter takes g_heaps_mu (above);
  // nullptr removes it.
  void set_cycle_hook(std::function<void(const Cycle&)> hook);
  // A snapshot; the allocation counters are exact only while the world is
  // stopped (per-P counts are summed at each refill and collection).
  Stats stats() const;

  // The collector thread's work: one cycle for each heap that asked.
  // Collector thread only.
  static void collect_requested();

 private:
  void* alloc_refill(size_t granules, bool atomic);  // alloc() off its fast path
  Cache* current_cache();        // the running M's P's cache (made on first use); nullptr without a P
  Cache* adopt_cache(sched::P* p);  // gives p a cache of this heap
  void* alloc_slow(Cache* c, size_t granules, bool atomic);
  void* take(Cache* c, size_t granules, bool atomic);
  void* alloc_shared(size_t granules, bool atomic);
  void* refill(Cache* c, size_t granules, bool atomic);
  bool report(Cache* c);
  void stress_request();         // gc_stress: request and poison the running G's guard
  void poison_current();         // the running goroutine's guard (or the host thread's)
  void flush_caches();           // world stopped
  void update_trigger();
  // Collector thread, g_heaps_mu held: one collection of the whole
  // process's heap, which every live Heap counts as one of its cycles.
  static void run_cycle();
  bool choose_minor();           // collector thread: this cycle's kind, as this heap would have it
  void after_minor();            // collector thread, world started: pacing the next full
  void finish_cycle(uint64_t start, int64_t stw, uint64_t pause, uint64_t heap_before, uint64_t live,
                    bool minor);
  void ready_waiters();          // collector thread, after a cycle
  void trace_line(uint64_t heap_before, size_t goroutines, bool minor) const;
  static void push_all_roots();  // bdwgc's push-other-roots callback
  static size_t push_roots_of(Roots* roots);

  Roots* roots_;                 // the VM that owns this Heap; nullptr in unit tests of the heap alone
  int gc_percent_;
  bool gc_stress_ = false;
  bool stress_minor_ = false;    // gc_stress's collections are minor ones
  bool gc_verify_ = false;
  uint64_t limit_ = 0;           // see set_limit
  // The number of the latest full collection when it found live > limit_
  // (0: none, or taken by a raiser); a verdict of collection oom_withdrawn_
  // or earlier is not raised (withdraw_out_of_memory).
  std::atomic<uint64_t> oom_cycle_{0};
  std::atomic<uint64_t> oom_withdrawn_{0};
  std::atomic<uint64_t> last_live_{0};  // stats_.live_bytes, readable without stats_mu_ (collector writes)
  std::atomic<bool> requested_{false};  // a collection is wanted; cleared when one starts
  std::atomic<bool> full_requested_{false};  // ... and it must be a full one (gc(), collect())
  bool full_due_ = true;         // the old generation grew enough, or no full ran yet (collector thread)
  uint64_t used_after_full_ = 0;  // bdwgc's blocks in use after the last full (collector thread)
  std::atomic<uint64_t> started_{0};    // collections started (collector thread writes)
  std::atomic<uint64_t> cycles_{0};     // collections completed (collector thread writes)
  uint64_t born_ns_;             // when the heap was made (trace timestamps)
  FILE* trace_ = nullptr;        // not owned
  std::function<void(const Cycle&)> cycle_hook_;
  std::atomic<uint64_t> trigger_{kMinHeap};  // live + allocated at which to request
  std::atomic<uint64_t> allocated_{0};  // reported bytes since the last collection
  std::atomic<uint64_t> total_allocated_{0};
  mutable Mutex stats_mu_{LockRank::HeapStats};  // guards stats_ (written by the collector)
  Stats stats_;
  Mutex caches_mu_{LockRank::HeapCaches};  // guards caches_ and the shared cache's use
  std::vector<std::unique_ptr<Cache>> caches_;  // every P's cache and the shared one
  Cache* shared_;                // for threads without a P; under caches_mu_
  // Goroutines parked in gc(), each with the cycle count that satisfies it.
  // Not GC roots (a parked G's roots come from the scheduler's allgs).
  struct Waiter {
    sched::G* g;
    uint64_t target;
  };
  // Taken before the collector thread's lock. Locked by a goroutine in
  // gc_wait and released by its M's g0 once it parked (gopark's unlockf):
  // a HandoffLock, not a Mutex (vm/sched/lock.h).
  sched::HandoffLock waiters_mu_{LockRank::GcWaiters};
  std::vector<Waiter> waiters_;
};

// The fast path: pop a size-class list of the current P's cache, in
// vm/arch's restartable sequence (async preemption may stop a goroutine
// inside it and resume it on another M: the sequence then starts over with
// that M's P). Everything else, gc_stress included, is out of line.
inline void* Heap::alloc(size_t bytes, bool atomic) {
  size_t granules = bytes == 0 ? 1 : (bytes + kGranule - 1) / kGranule;
  if (__builtin_expect(granules <= size_t(kClasses) && !gc_stress_, 1)) {
    size_t list = offsetof(Cache, free) + ((atomic ? kClasses + 1 : 0) + granules) * sizeof(void*);
    if (void* p = weft_alloc_fast(list, this, granules * kGranule)) return p;
  }
  return alloc_refill(granules, atomic);
}

}  // namespace weft::gc
