// The heap on bdwgc: process-wide setup, allocation caches, collection,
// pacing and weak links. The model and invariants are in heap.h; this
// comment records how bdwgc 8.2.2 (Debian's libgc1) is bent to them, each
// point checked by experiment with that library:
//
//  - Roots switched off: GC_set_no_dls(1) before GC_INIT (no dynamic-library
//    or main-program data segments are registered, then or at each
//    collection), GC_clear_roots() after it, and GC_set_push_other_roots()
//    replaced WITHOUT chaining the default (GC_push_all_stacks), so thread
//    stacks are not scanned. Verified: an object held only by a C++ static
//    or only by a local on the C stack is collected (its disappearing link
//    is cleared) while one pushed by our callback survives. bdwgc still
//    scans its own few internal structures (finalizer and thread tables).
//  - Interior pointers off (GC_set_all_interior_pointers(0) before GC_INIT):
//    verified that a pointer 8 bytes into an object does not retain it. It
//    also drops the extra byte bdwgc otherwise adds to every GC_malloc.
//  - GC_allow_register_threads() right after GC_INIT (without it bdwgc takes
//    no lock and concurrent allocation corrupts its free lists).
//  - GC_disable() for the process's life: GC_gcollect() is a no-op while
//    disabled, so collect() brackets it with GC_enable()/GC_disable().
//    Verified: allocating 20 MB through GC_malloc while disabled starts no
//    collection; a GC_gcollect() the VM did not start fires the collection
//    event hook (fatal here).
//  - GC_set_finalize_on_demand(1): bdwgc never runs finalizers by itself.
//  - Only registered threads may collect, and bdwgc always scans the
//    collecting thread's registers and hot stack: collections run on a
//    collector thread of our own (CollectorThread below), the only thread
//    registered; GC_INIT's thread unregisters right after setup. Allocation
//    from unregistered threads is fine once GC_allow_register_threads()
//    has made bdwgc take its lock.
//  - Allocate one object of each kind with GC_generic_malloc at start
//    (DESIGN.md: bdwgc never sweeps blocks of a kind served only through
//    GC_generic_malloc_many). NOT reproduced here: with 80 MB of 32-byte
//    atomic lists per round and a collection after each, the heap stayed at
//    82 MB with or without the priming objects. Kept: it costs two objects.
//  - Cost of a collection on a tiny heap (a few objects live, ~11 MB of
//    heap full of garbage): ≈0.045 ms per collect() (mark ≈0.01 ms) on the
//    thread that ran GC_INIT; ≈0.09 ms from another thread. With 10 MB live
//    in 300,000 small objects: ≈4.3 ms (mark 2.8 ms, live count 1.5 ms).
//    Allocation through the size-class lists: ≈5.5 ns per 32-byte object.
//  - Live bytes: GC_enumerate_reachable_objects_inner under the allocation
//    lock, right after the collection (mark bits are still valid): ≈5 ns
//    per live object. It also counts bdwgc's own few reachable records
//    (weak-link entries, 24 bytes each; about 2 KB of tables): filtering
//    them by kind (GC_get_kind_and_size) cost a third more time per object.
//  - heap_bytes is GC_get_heap_size(): the mapped heap. bdwgc unmaps blocks
//    that stay free over several collections, so it also shrinks.
#define GC_THREADS 1
#define GC_NO_THREAD_REDIRECTS 1  // we create no threads through bdwgc
#include "vm/gc/heap.h"

#include <gc/gc.h>
#include <gc/gc_inline.h>
#include <gc/gc_mark.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <mutex>
#include <thread>
#include <vector>

#include "vm/fatal.h"
#include "vm/runtime.h"

namespace weft::gc {

namespace {

// Process-wide state, because bdwgc's is.
std::once_flag g_init_once;
std::mutex g_heaps_mu;                 // guards g_heaps; taken before bdwgc's lock
std::vector<Heap*> g_heaps;            // every live Heap: all their roots are pushed
std::atomic<bool> g_collecting{false}; // set only while Heap::collect runs GC_gcollect
std::atomic<uint64_t> g_mark_start{0}, g_mark_end{0};  // written by the event hook

uint64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1000000000u + uint64_t(ts.tv_nsec);
}

// Runs inside bdwgc with its lock held and the world stopped: no allocation.
void on_collection_event(GC_EventType e) {
  switch (e) {
    case GC_EVENT_START:
      if (!g_collecting.load(std::memory_order_relaxed)) fatal("gc: a collection the VM did not start");
      break;
    case GC_EVENT_MARK_START: g_mark_start.store(now_ns(), std::memory_order_relaxed); break;
    case GC_EVENT_MARK_END: g_mark_end.store(now_ns(), std::memory_order_relaxed); break;
    default: break;
  }
}

// The collector thread: the one thread registered with bdwgc, and the only
// one that ever runs GC_gcollect. Why a thread of its own: bdwgc always
// scans the collecting thread's callee-saved registers and the stack
// between its entry and the marker. On a VM thread those hold stale Values
// (measured: an ASan build kept a dead map alive through a register), so
// roots would not be exactly the VM's. Here they hold nothing of the VM.
// Also, every other registered thread costs >= 3.8 ms per collection
// (DESIGN.md), so the thread that ran GC_INIT unregisters.
//
// Protocol: a mutator posts a job under mu_ and waits for done_; the
// collector runs it and signals. Jobs are serialized by g_heaps_mu in
// Heap::collect, so one slot suffices.
class CollectorThread {
 public:
  CollectorThread() : thread_([this] { loop(); }) { thread_.detach(); }

  // Runs fn on the collector thread; returns when it has finished.
  void run(void (*fn)(void*), void* arg) {
    std::unique_lock<std::mutex> lock(mu_);
    fn_ = fn;
    arg_ = arg;
    posted_.notify_one();
    done_.wait(lock, [this] { return fn_ == nullptr; });
  }

 private:
  void loop() {
    GC_stack_base sb;
    if (GC_get_stack_base(&sb) != GC_SUCCESS || GC_register_my_thread(&sb) != GC_SUCCESS)
      fatal("gc: cannot register the collector thread");
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      posted_.wait(lock, [this] { return fn_ != nullptr; });
      scrub_stack();
      fn_(arg_);
      fn_ = nullptr;
      done_.notify_all();
    }
  }

  // bdwgc scans this thread's stack from its sp up to the frame that began
  // marking. Unwritten slots of those frames still hold what the previous
  // collection's root callback left there (seen: a dead array survived one
  // --gc-stress collection in 20). Zeroing the stack the collection will
  // use first makes the roots exactly the VM's again.
  __attribute__((noinline)) static void scrub_stack() {
    char pad[kScrubBytes];
    explicit_bzero(pad, sizeof pad);
    asm volatile("" : : "r"(pad) : "memory");
  }
  static constexpr size_t kScrubBytes = 64 << 10;  // > bdwgc's marking frames (a few KiB)

  std::mutex mu_;
  std::condition_variable posted_, done_;
  void (*fn_)(void*) = nullptr;  // the posted job; nullptr when idle
  void* arg_ = nullptr;
  std::thread thread_;  // detached: lives as long as the process, like bdwgc
};

CollectorThread* g_collector;  // set once by init_bdwgc

void init_bdwgc(GC_push_other_roots_proc push) {
  GC_set_no_dls(1);
  GC_set_all_interior_pointers(0);
  GC_INIT();
  GC_allow_register_threads();
  GC_clear_roots();
  GC_disable();
  GC_set_finalize_on_demand(1);
  GC_set_on_collection_event(on_collection_event);
  GC_set_push_other_roots(push);  // replaces GC_push_all_stacks: not chained
  // The sweeping quirk: one object of each kind through the ordinary path.
  (void)GC_generic_malloc(kGranule, GC_I_NORMAL);
  (void)GC_generic_malloc(kGranule, GC_I_PTRFREE);
  g_collector = new CollectorThread;  // never freed: bdwgc outlives every Heap
  GC_unregister_my_thread();          // allowed once for GC_INIT's thread
}

struct LiveCount {
  uint64_t bytes = 0;
};

void count_object(void*, size_t bytes, void* data) { static_cast<LiveCount*>(data)->bytes += bytes; }

void* enumerate_live(void* data) {
  GC_enumerate_reachable_objects_inner(count_object, data);
  return nullptr;
}

uint64_t measure_live_bytes() {
  LiveCount c;
  GC_call_with_alloc_lock(enumerate_live, &c);
  return c.bytes;
}

void* read_link(void* link) { return reinterpret_cast<void*>(*static_cast<const uintptr_t*>(link)); }

double mib(uint64_t b) { return double(b) / (1024.0 * 1024.0); }

}  // namespace

Heap::Heap(Runtime* rt, int gc_percent) : rt_(rt), gc_percent_(gc_percent) {
  std::call_once(g_init_once, init_bdwgc, &Heap::push_all_roots);
  update_trigger();
  std::lock_guard<std::mutex> lock(g_heaps_mu);
  g_heaps.push_back(this);
}

// bdwgc stays set up for the next Heap; our free lists simply become
// garbage for the next collection.
Heap::~Heap() {
  std::lock_guard<std::mutex> lock(g_heaps_mu);
  g_heaps.erase(std::remove(g_heaps.begin(), g_heaps.end(), this), g_heaps.end());
}

void* Heap::alloc_slow(size_t granules, bool atomic) {
  if (granules <= kClasses) return refill(granules, atomic);
  void* p = GC_generic_malloc(granules * kGranule, atomic ? GC_I_PTRFREE : GC_I_NORMAL);
  return p;  // normal-kind memory comes cleared from bdwgc
}

// Takes a fresh list from bdwgc (normal-kind objects arrive cleared except
// their link word) and returns its first object.
void* Heap::refill(size_t granules, bool atomic) {
  void* list = nullptr;
  GC_generic_malloc_many(granules * kGranule, atomic ? GC_I_PTRFREE : GC_I_NORMAL, &list);
  if (list == nullptr) return nullptr;
  free_[atomic][granules] = *static_cast<void**>(list);
  *static_cast<void**>(list) = nullptr;
  return list;
}

void Heap::post_request() {
  if (requested_) return;
  requested_ = true;
  if (rt_ != nullptr) rt_->request_stop();
}

void Heap::flush_caches() {
  for (auto& lists : free_) std::fill(std::begin(lists), std::end(lists), nullptr);
}

void Heap::update_trigger() {
  if (gc_stress_) {
    trigger_ = 0;
  } else if (gc_percent_ < 0) {
    trigger_ = UINT64_MAX;
  } else {
    uint64_t goal = stats_.live_bytes + stats_.live_bytes * uint64_t(gc_percent_) / 100;
    trigger_ = std::max<uint64_t>(kMinTrigger, goal);
  }
}

void Heap::set_gc_percent(int p) {
  gc_percent_ = p;
  update_trigger();
}

void Heap::set_gc_stress(bool on) {
  gc_stress_ = on;
  update_trigger();
}

// Runs inside GC_gcollect on the collecting thread, world stopped, bdwgc's
// lock held; collect() holds g_heaps_mu for it.
void Heap::push_all_roots() {
  for (Heap* h : g_heaps) {
    if (h->rt_ == nullptr) continue;
    RootSink sink;
    h->rt_->push_roots(sink);
  }
}

void Heap::collect() {
  uint64_t start = now_ns();
  uint64_t heap_before = GC_get_heap_size();
  {
    std::lock_guard<std::mutex> lock(g_heaps_mu);
    for (Heap* h : g_heaps) h->flush_caches();
    g_mark_start = g_mark_end = 0;
    g_collector->run([](void* live) {
      g_collecting = true;
      GC_enable();
      GC_gcollect();
      GC_disable();
      g_collecting = false;
      *static_cast<uint64_t*>(live) = measure_live_bytes();
    }, &stats_.live_bytes);
  }
  uint64_t pause = now_ns() - start;
  stats_.collections++;
  stats_.heap_bytes = GC_get_heap_size();
  stats_.allocated_bytes = 0;
  stats_.mark_ns = g_mark_end >= g_mark_start ? g_mark_end - g_mark_start : 0;
  stats_.last_pause_ns = pause;
  stats_.max_pause_ns = std::max(stats_.max_pause_ns, pause);
  stats_.total_pause_ns += pause;
  update_trigger();
  requested_ = false;
  if (trace_ != nullptr) trace_line(heap_before, pause);
}

// gc N: pause X ms, mark Y ms, heap A -> B MiB, live C MiB
// (heap is bdwgc's whole heap before and after; live is exact).
void Heap::trace_line(uint64_t heap_before, uint64_t pause_ns) const {
  std::fprintf(trace_, "gc %llu: pause %.3f ms, mark %.3f ms, heap %.2f -> %.2f MiB, live %.2f MiB\n",
               static_cast<unsigned long long>(stats_.collections), double(pause_ns) / 1e6,
               double(stats_.mark_ns) / 1e6, mib(heap_before), mib(stats_.heap_bytes),
               mib(stats_.live_bytes));
  std::fflush(trace_);
}

void Heap::register_weak(uintptr_t* link, const void* target) {
  *link = ~reinterpret_cast<uintptr_t>(target);  // hidden: not a pointer to the marker
  if (GC_general_register_disappearing_link(reinterpret_cast<void**>(link), target) == GC_NO_MEMORY)
    fatal("gc: out of memory registering a weak link");
}

// Under the allocation lock, so a collection clearing the link cannot race.
void* Heap::reveal_weak(const uintptr_t* link) {
  uintptr_t hidden = reinterpret_cast<uintptr_t>(
      GC_call_with_alloc_lock(read_link, const_cast<uintptr_t*>(link)));
  return hidden == 0 ? nullptr : reinterpret_cast<void*>(~hidden);
}

}  // namespace weft::gc
