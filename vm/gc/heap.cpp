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
//    (docs/design.md#bdwgc: bdwgc was seen not to sweep blocks of a kind
//    served only through GC_generic_malloc_many). NOT reproduced here: with 80 MB of 32-byte
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
//  - Generational collections (set_generational): GC_set_manual_vdb_allowed
//    before GC_INIT and GC_enable_incremental after GC_disable (so bdwgc
//    runs no collection of its own then), GC_TIME_UNLIMITED (a minor is one
//    stop-the-world mark: bdwgc's time-sliced mode would restart the world
//    itself) and a full_freq bdwgc never reaches. A minor is
//    GC_start_incremental_collection under the same GC_enable bracket as
//    GC_gcollect; it fires no GC_EVENT_START. bdwgc may still make it a full
//    one (GC_need_full_gc: its used blocks grew past min_bytes_allocd since
//    the last full): the start callback (GC_notify_full_gc) tells, and the
//    cycle counts as full. Needs tools/bdwgc.sh's bdwgc: Debian's
//    GC_generic_malloc_many hands out one object per locked call with manual
//    dirty bits (tools/bdwgc/malloc_many_manual_vdb.patch says why the
//    patch is sound here). bench/bdwgc_vdb_probe: 12.9 ns per 32-byte object
//    at 128 per call with the patch, 90-235 ns at 1 per call without.
//    Two more patches and a larger dirty-page table make a minor's pause
//    independent of the heap's size (tools/bdwgc/push_dirty_pages.patch,
//    reclaim_touched_blocks.patch: stock 8.2.2 looks up every block's header
//    twice per minor; tools/bdwgc.sh: LOG_PHT_ENTRIES=20, since 2^18 entries
//    alias past 1 GiB; vm/gc/README.md has the profile).
#define GC_THREADS 1
#define GC_NO_THREAD_REDIRECTS 1  // we create no threads through bdwgc
#include "vm/gc/heap.h"

#include <gc/gc.h>
#include <gc/gc_inline.h>
#include <gc/gc_mark.h>

#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "vm/core/fatal.h"
#include "vm/gc/finalize.h"
// The field offsets the allocation fast path in vm/arch/<cpu>/async.S reads
// (sched::M::p, sched::P::mcache, Cache's fields), checked here, where the
// types are visible (the table: vm/arch/<cpu>/layout.cmake).
#include "arch_field_checks.h"

namespace weft::gc {

namespace {

// Process-wide state, because bdwgc's is.
std::once_flag g_init_once;
Mutex g_heaps_mu{LockRank::Heaps};     // guards g_heaps; taken before bdwgc's lock
std::vector<Heap*> g_heaps;            // every live Heap: all their roots are pushed
std::atomic<bool> g_collecting{false}; // set only while Heap::collect runs GC_gcollect
bool g_full_ran = false;  // bdwgc's start callback: this cycle was a full one (collector thread)
// A test hook (WEFT_GC_TEST_VERIFY_DELAY_US, tests/scripts/modules/verify_syscall.wf):
// widens the window between the mark and --gc-verify's walk, in which a
// goroutine in a blocking native may leave it (read once, by init_bdwgc).
long g_verify_delay_us = 0;
bool g_drop_barriers = false;  // the test hook (WEFT_GC_TEST_DROP_BARRIERS=1): every barrier is dropped
std::atomic<uint64_t> g_mark_start{0}, g_mark_end{0};  // written by the event hook
std::vector<Roots*> g_verify;  // --gc-verify: the VMs to check this cycle (collector thread)
std::vector<RootSink::Record> g_verify_roots;  // the roots the mark got from each of g_verify (collector thread)
bool g_minor = false;  // the cycle in progress is a minor one (collector thread)
constexpr uint64_t kStressFullEvery = 256;  // --gc-stress's minor variant: one full collection in this many
// Heaps with a limit while others exist: their own live bytes are counted
// at reclaim start (reachable_bytes), into g_account_live (collector thread).
std::vector<Roots*> g_account;
std::vector<uint64_t> g_account_live;
size_t g_goroutines = 0;  // goroutines scanned by the last push_all_roots (collector thread)

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
    case GC_EVENT_RECLAIM_START:
      if (!g_verify.empty() && g_verify_delay_us > 0) usleep(useconds_t(g_verify_delay_us));
      if (!g_verify.empty()) verify_heap(g_verify_roots, g_minor && !g_full_ran);
      for (size_t i = 0; i < g_account.size(); i++) g_account_live[i] = reachable_bytes(g_account[i]);
      break;
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
// (docs/design.md#bdwgc), so the thread that ran GC_INIT unregisters.
//
// Protocol: Heap::request() sets the heap's requested_ flag and pokes the
// thread (never waits: allocation posts requests from anywhere). The thread
// wakes, runs one collection for every heap that asked, and notifies
// done_, on which Heap::collect() callers wait for the cycle count to pass
// their mark; goroutines in gc() are readied instead (Heap::gc_wait).
class CollectorThread {
 public:
  CollectorThread() : thread_([this] { loop(); }) { thread_.detach(); }

  void poke() {
    std::lock_guard lock(mu_);
    poked_ = true;
    posted_.notify_one();
  }

  // Waits until `done` holds; rechecked after every collection.
  template <typename Pred>
  void wait(Pred done) {
    std::unique_lock lock(mu_);
    done_.wait(lock, done);
  }

 private:
  void loop() {
    GC_stack_base sb;
    if (GC_get_stack_base(&sb) != GC_SUCCESS || GC_register_my_thread(&sb) != GC_SUCCESS)
      fatal("gc: cannot register the collector thread");
    for (;;) {
      {
        std::unique_lock lock(mu_);
        posted_.wait(lock, [this] { return poked_; });
        poked_ = false;
      }
      scrub_stack();
      Heap::collect_requested();
      std::lock_guard lock(mu_);
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

  Mutex mu_{LockRank::Collector};
  std::condition_variable_any posted_, done_;
  bool poked_ = false;  // a request arrived since the thread last looked
  std::thread thread_;  // detached: lives as long as the process, like bdwgc
};

CollectorThread* g_collector;  // set once by init_bdwgc

// The marker count (set_markers): chosen until bdwgc is set up, then fixed.
// A plain leaf lock: held for a few loads and stores, or for bdwgc's set-up.
std::mutex g_markers_mu;
int g_markers = 0;       // 0: default_markers(); under g_markers_mu
bool g_set_up = false;   // bdwgc is set up and g_markers is in effect; under g_markers_mu

// Parallel markers (GC_set_markers_count before GC_INIT; GC_INIT starts no
// thread, GC_allow_register_threads starts the helpers). Verified with
// Debian's 8.2.2: they only drain the mark stack our push callback fills on
// the collector thread (GC_push_roots runs on the collecting thread only,
// and push_all_roots replaced the stack scan), they block every signal but
// bdwgc's own (so never take our preemption signal), and they are not
// registered threads, so they cost a collection nothing when idle.
void set_up_markers() {
  std::lock_guard lock(g_markers_mu);
  if (g_markers == 0) g_markers = default_markers();
  GC_set_markers_count(unsigned(g_markers));
  g_set_up = true;
}

// The generational setting (set_generational), like the markers'.
int g_generational = -1;  // -1: the default (env WEFT_GC_GENERATIONAL); under g_markers_mu

bool env_flag(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr && std::strcmp(v, "1") == 0;
}

// On by default wherever the bdwgc can (the patched one of tools/bdwgc.sh):
// minors keep pauses short whatever the old data's size, and binary-trees
// and GCBench run faster with them (README, "Results"). Env
// WEFT_GC_GENERATIONAL=0 (or set_gc_generational(false), or
// --no-gc-generational) collects in full; =1 asks for them, and says so
// when this build cannot.
bool want_generational() {
  std::lock_guard lock(g_markers_mu);
  if (g_generational < 0) {
    const char* env = std::getenv("WEFT_GC_GENERATIONAL");
    bool asked = env != nullptr && std::strcmp(env, "1") == 0;
    g_generational = asked || env == nullptr || *env == '\0' ? 1 : 0;
    if (g_generational != 0 && !generational_available()) {
      if (asked)
        std::fprintf(stderr, "weft: generational collections need the patched bdwgc (tools/bdwgc.sh); "
                             "collecting in full\n");
      g_generational = 0;
    }
  }
  return g_generational != 0;
}

void note_full(void) { g_full_ran = true; }

// After GC_INIT and GC_disable (bdwgc runs no collection of its own here).
void set_up_generational() {
  GC_enable_incremental();
  if (!GC_is_incremental_mode()) {
    std::fprintf(stderr, "weft: bdwgc refused manual dirty bits; collecting in full\n");
    std::lock_guard lock(g_markers_mu);
    g_generational = 0;
    return;
  }
  GC_set_time_limit(GC_TIME_UNLIMITED);
  GC_set_full_freq(1 << 30);
  GC_set_start_callback(note_full);
  g_drop_barriers = env_flag("WEFT_GC_TEST_DROP_BARRIERS");
  detail::g_barrier_on = true;
}

void init_bdwgc(GC_push_other_roots_proc push) {
  if (const char* v = std::getenv("WEFT_GC_TEST_VERIFY_DELAY_US")) g_verify_delay_us = std::atol(v);
  set_up_markers();
  bool generational = want_generational();
  GC_set_no_dls(1);
  GC_set_all_interior_pointers(0);
  if (generational) GC_set_manual_vdb_allowed(1);
  GC_INIT();
  GC_allow_register_threads();
  GC_clear_roots();
  GC_disable();
  if (generational) set_up_generational();
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

namespace detail {
bool g_barrier_on = false;

void dirty(const void* where) {
  if (__builtin_expect(g_drop_barriers, false)) return;
  GC_end_stubborn_change(where);
}
}  // namespace detail

bool set_generational(bool on) {
  if (on && !generational_available()) return false;
  std::lock_guard lock(g_markers_mu);
  if (g_set_up) return false;
  g_generational = on ? 1 : 0;
  return true;
}

bool generational() {
  {
    std::lock_guard lock(g_markers_mu);
    if (g_set_up) return g_generational > 0;
  }
  return want_generational();
}

bool generational_available() {
#ifdef WEFT_BDWGC_PATCHED
  return true;
#else
  return false;
#endif
}

bool set_markers(int n) {
  if (n < 1 || n > kMaxMarkers) return false;
  std::lock_guard lock(g_markers_mu);
  if (g_set_up) return false;
  g_markers = n;
  return true;
}

int markers() {
  std::lock_guard lock(g_markers_mu);
  if (!g_set_up) return g_markers != 0 ? g_markers : default_markers();
  return GC_get_parallel() != 0 ? g_markers : 1;
}

int default_markers() {
  if (const char* env = std::getenv("WEFT_GC_MARKERS")) {
    char* end = nullptr;
    errno = 0;
    long n = std::strtol(env, &end, 10);
    if (*env != '\0' && *end == '\0' && errno == 0 && n >= 1 && n <= kMaxMarkers) return int(n);
    static std::once_flag warned;
    std::call_once(warned, [env] {
      std::fprintf(stderr, "weft: ignoring WEFT_GC_MARKERS='%s' (expected an integer from 1 to %d)\n", env,
                   kMaxMarkers);
    });
  }
  unsigned cpus = std::thread::hardware_concurrency();
  return cpus == 0 ? 1 : int(std::min<unsigned>(cpus, kMaxMarkers));
}

Heap::Heap(Roots* roots, int gc_percent) : roots_(roots), gc_percent_(gc_percent) {
  std::call_once(g_init_once, init_bdwgc, &Heap::push_all_roots);
  born_ns_ = now_ns();
  caches_.push_back(std::make_unique<Cache>());
  shared_ = caches_.back().get();
  shared_->owner = this;
  update_trigger();
  std::lock_guard lock(g_heaps_mu);
  g_heaps.push_back(this);
}

// bdwgc stays set up for the next Heap; our free lists simply become
// garbage for the next collection. Taking g_heaps_mu waits out a collection
// in progress.
Heap::~Heap() {
  std::lock_guard lock(g_heaps_mu);
  g_heaps.erase(std::remove(g_heaps.begin(), g_heaps.end(), this), g_heaps.end());
}

// ---- allocation ----

Cache* Heap::adopt_cache(sched::P* p) {
  std::lock_guard lock(caches_mu_);
  caches_.push_back(std::make_unique<Cache>());
  Cache* c = caches_.back().get();
  c->owner = this;
  p->mcache = c;
  return c;
}

// Threads without a P: the shared cache, under caches_mu_ (which a
// collection also holds while it flushes the caches).
namespace {
// The first object of c's list for this size class and kind, or nullptr
// (empty, or too large for a list). The C++ twin of weft_alloc_fast's pop.
void* pop_free(Cache* c, size_t granules, bool atomic) {
  if (granules > size_t(kClasses)) return nullptr;
  void** head = &c->free[atomic][granules];
  void* p = *head;
  if (p != nullptr) {
    *head = *static_cast<void**>(p);
    *static_cast<void**>(p) = nullptr;  // the link word: the rest is zeroed by bdwgc
  }
  return p;
}
}  // namespace

// alloc() when its fast path found no P, another heap's cache, an empty
// list, a large object or gc_stress. The M counts as allocating (not
// async-preemptible) meanwhile, though no safe code runs here anyway.
void* Heap::alloc_refill(size_t granules, bool atomic) {
  Cache* c = current_cache();
  if (c == nullptr) return alloc_shared(granules, atomic);
  sched::M* m = sched::getm();
  m->mallocing.fetch_add(1, std::memory_order_relaxed);
  c->unreported += granules * kGranule;
  if (gc_stress_) stress_request();
  void* p = pop_free(c, granules, atomic);
  if (p == nullptr) p = alloc_slow(c, granules, atomic);
  m->mallocing.fetch_sub(1, std::memory_order_relaxed);
  return p;
}

// The running M's P's cache, made on first use; nullptr without a P.
Cache* Heap::current_cache() {
  sched::M* m = sched::getm();
  if (m == nullptr || m->p == nullptr) return nullptr;
  Cache* c = m->p->mcache;
  if (c != nullptr && c->owner == this) return c;
  return adopt_cache(m->p);
}

// The collection request, if any, waits until caches_mu_ is released: the
// collector's mailbox ranks before the caches (vm/core/lockrank.h).
void* Heap::alloc_shared(size_t granules, bool atomic) {
  bool ask = gc_stress_;
  void* p;
  {
    std::lock_guard lock(caches_mu_);
    shared_->unreported += granules * kGranule;
    p = pop_free(shared_, granules, atomic);
    if (p == nullptr) {
      ask = report(shared_) || ask;
      p = take(shared_, granules, atomic);
    }
  }
  if (ask) request();
  return p;
}

// Reports the cache's count to the pacer, then refills or allocates large.
void* Heap::alloc_slow(Cache* c, size_t granules, bool atomic) {
  if (report(c)) request();
  return take(c, granules, atomic);
}

// A refill of c's list, or a large object (normal-kind memory comes
// cleared from bdwgc).
void* Heap::take(Cache* c, size_t granules, bool atomic) {
  if (granules <= size_t(kClasses)) return refill(c, granules, atomic);
  return GC_generic_malloc(granules * kGranule, atomic ? GC_I_PTRFREE : GC_I_NORMAL);
}

// Takes a fresh list from bdwgc (normal-kind objects arrive cleared except
// their link word) and returns its first object. Runs on the allocating
// thread's stack: bdwgc's slow path needs > 24 KiB of it (docs/design.md#stack-budgets).
void* Heap::refill(Cache* c, size_t granules, bool atomic) {
  void* list = nullptr;
  GC_generic_malloc_many(granules * kGranule, atomic ? GC_I_PTRFREE : GC_I_NORMAL, &list);
  if (list == nullptr) return nullptr;
  c->free[atomic][granules] = *static_cast<void**>(list);
  *static_cast<void**>(list) = nullptr;
  return list;
}

// Adds the cache's unreported bytes to the heap's counters; true when they
// cross the pacer's trigger, for the caller to request() a collection.
bool Heap::report(Cache* c) {
  uint64_t bytes = c->unreported;
  c->unreported = 0;
  total_allocated_.fetch_add(bytes, std::memory_order_relaxed);
  uint64_t allocated = allocated_.fetch_add(bytes, std::memory_order_relaxed) + bytes;
  uint64_t live;
  {
    std::lock_guard lock(stats_mu_);
    live = stats_.live_bytes;
  }
  if (oom_cycle_.load(std::memory_order_relaxed) != 0) poison_current();  // it raises at its next safe-point
  return live + allocated >= trigger_.load(std::memory_order_relaxed);
}

// With goroutines running, the collector is poked (again, while a request
// is pending: a cycle may be clearing the flag right now). Without a
// scheduler the flag is all: the host thread's next safe-point collects
// synchronously (honor_stop), since nothing would stop it for the collector.
void Heap::request() {
  // Release / the collector's acquire: it sees the allocation counts and
  // the trigger state that made us ask (relaxed counters, ordered by this).
  requested_.store(true, std::memory_order_release);
  if (sched::running_scheds() > 0) g_collector->poke();  // some VM's goroutines run: the collector stops them
}

// gc_stress: every allocation asks for a collection, and the allocating
// goroutine's next safe-point waits for it (vm/interp/interp.cpp honor_stop).
void Heap::stress_request() {
  request();
  poison_current();
}

// The running goroutine's (or the host thread's) next safe-point calls honor_stop.
void Heap::poison_current() {
  // The owner's own poison: relaxed (GoroutineVM::stackguard).
  if (sched::G* g = sched::getg(); g != nullptr && g->vm != nullptr)
    g->vm->stackguard.store(sched::kStackPoison, std::memory_order_relaxed);
  else if (roots_ != nullptr)
    roots_->host_vm()->stackguard.store(sched::kStackPoison, std::memory_order_relaxed);
}

bool Heap::take_out_of_memory() {
  uint64_t cycle = oom_cycle_.load(std::memory_order_relaxed);
  if (cycle == 0 || cycle <= oom_withdrawn_.load(std::memory_order_relaxed)) return false;
  return oom_cycle_.compare_exchange_strong(cycle, 0);  // one raiser per verdict
}

// Every collection started so far, not just finished ones: the one whose
// verdict is still on its way (finish_cycle runs with the world started)
// may have counted the unwound frames' data too. One started but not yet
// stopping the world loses a valid verdict; the next collection repeats it.
void Heap::withdraw_out_of_memory() {
  uint64_t started = started_.load(std::memory_order_acquire);
  uint64_t seen = oom_withdrawn_.load(std::memory_order_relaxed);
  while (seen < started && !oom_withdrawn_.compare_exchange_weak(seen, started)) {
  }
}

// World stopped (or the heap otherwise quiescent): drops every list and
// folds every count into the heap's.
void Heap::flush_caches() {
  std::lock_guard lock(caches_mu_);
  uint64_t bytes = 0;
  for (auto& c : caches_) {
    for (auto& lists : c->free) std::fill(std::begin(lists), std::end(lists), nullptr);
    bytes += c->unreported;
    c->unreported = 0;
  }
  allocated_.fetch_add(bytes, std::memory_order_relaxed);
  total_allocated_.fetch_add(bytes, std::memory_order_relaxed);
}

// ---- pacing and figures ----

void Heap::update_trigger() {
  uint64_t trigger;
  if (gc_stress_) {
    trigger = 0;
  } else if (gc_percent_ < 0) {
    trigger = UINT64_MAX;
  } else {
    uint64_t live;
    {
      std::lock_guard lock(stats_mu_);
      live = stats_.live_bytes;
    }
    uint64_t percent = uint64_t(gc_percent_);
    if (generational()) {
      trigger = live + kMinHeap * percent / 100;  // the nursery: minors; the old generation's growth asks for fulls
    } else {
      trigger = std::max<uint64_t>(kMinHeap * percent / 100, live + live * percent / 100);
    }
  }
  if (limit_ != 0) trigger = std::min(trigger, limit_);  // collect before going over
  trigger_.store(trigger, std::memory_order_relaxed);
}

void Heap::set_gc_percent(int p) {
  gc_percent_ = p;
  update_trigger();
}

void Heap::set_gc_stress(bool on, bool minor) {
  std::lock_guard lock(g_heaps_mu);
  gc_stress_ = on;
  stress_minor_ = on && minor;
  update_trigger();
}

void Heap::set_gc_verify(bool on) {
  std::lock_guard lock(g_heaps_mu);
  gc_verify_ = on;
}

void Heap::set_limit(uint64_t bytes) {
  std::lock_guard lock(g_heaps_mu);
  limit_ = bytes;
  update_trigger();
}

void Heap::set_trace(FILE* out) {
  std::lock_guard lock(g_heaps_mu);
  trace_ = out;
}

void Heap::set_cycle_hook(std::function<void(const Cycle&)> hook) {
  std::function<void(const Cycle&)> old;  // destroyed after the unlock: it may own anything
  std::lock_guard lock(g_heaps_mu);
  old = std::exchange(cycle_hook_, std::move(hook));
}

Stats Heap::stats() const {
  Stats s;
  {
    std::lock_guard lock(stats_mu_);
    s = stats_;
  }
  s.allocated_bytes = allocated_.load(std::memory_order_relaxed);
  s.total_allocated = total_allocated_.load(std::memory_order_relaxed);
  return s;
}

// ---- collection ----

// Runs inside GC_gcollect on the collector thread, world stopped, bdwgc's
// lock held; the collector holds g_heaps_mu for it.
void Heap::push_all_roots() {
  g_goroutines = 0;
  for (auto& r : g_verify_roots) r = {};  // a second push in one cycle supersedes the first
  for (Heap* h : g_heaps) {
    if (h->roots_ != nullptr) g_goroutines += push_roots_of(h->roots_);
  }
}

// One VM's roots to the mark; under --gc-verify also recorded for the
// verifier, which must check these very ranges: gathered again at reclaim
// start, a goroutine that was in a blocking native during the mark (its
// native stack no root: it holds no P and touches no Weft state) may have
// left the call since and parked stackfully, and its native stack's stale
// words, scanned then, name objects the mark rightly left unmarked (a
// false "reachable but not marked" about one --preempt-stress run in 50).
size_t Heap::push_roots_of(Roots* roots) {
  for (size_t i = 0; i < g_verify.size(); i++) {
    if (g_verify[i] != roots) continue;
    RootSink sink(&g_verify_roots[i], true);
    return roots->push_roots(sink);
  }
  RootSink sink;
  return roots->push_roots(sink);
}

// Collector thread: one collection when any heap asked (it collects them all).
void Heap::collect_requested() {
  std::lock_guard lock(g_heaps_mu);
  for (Heap* h : g_heaps) {
    if (h->requested_.load(std::memory_order_acquire)) {
      run_cycle();
      return;
    }
  }
}

// Collector thread, g_heaps_mu held. A cycle: stop the world (every VM's
// goroutines), flush every cache, mark (push_all_roots suspends each
// goroutine to scan it) and start the sweep, start the world, then count
// the live bytes, and for each heap publish the figures and ready the
// goroutines waiting in gc().
//
// The count runs with the world started: the mark bits stay valid until
// the next collection clears them (allocation and bdwgc's lazy sweep leave
// them alone), so it is exact all the same. It holds bdwgc's allocation
// lock, so a goroutine that needs a fresh free list meanwhile waits for it
// (about 0.1 ms per MiB of live data); in the pause it was a third of a
// 10 MiB heap's. Meanwhile the pacer's trigger is parked at the heap limit
// (or nowhere), so no collection is asked for on a stale figure. gc()
// callers are readied at the global queue's head (ready_from_outside), so
// they do not queue behind goroutines preempted for the stop.
void Heap::run_cycle() {
  // Clear the requests before counting the cycle as started: a gc_wait()
  // between the two would otherwise wait for the next cycle while its
  // request was wiped, and nothing would ever run it (a --gc-stress hang,
  // about one run in 150 under ASan). A heap that did not ask counts the
  // cycle too: its garbage is collected with the rest. The cycle is a minor
  // one when every heap would have it so (choose_minor, asked of each: it
  // consumes their requests for a full one).
  bool minor = true;
  for (Heap* h : g_heaps) {
    h->requested_.store(false, std::memory_order_release);
    minor = h->choose_minor() && minor;
    h->started_.fetch_add(1, std::memory_order_acq_rel);
  }
  uint64_t start = now_ns();
  int64_t stw = sched::stop_the_world("gc");
  uint64_t heap_before = GC_get_heap_size();
  for (Heap* h : g_heaps) h->flush_caches();
  g_mark_start = g_mark_end = 0;
  g_verify.clear();
  g_account.clear();
  std::vector<Heap*> accounted;
  for (Heap* h : g_heaps) {
    if (h->gc_verify_ && h->roots_ != nullptr) g_verify.push_back(h->roots_);
    if (h->limit_ != 0 && h->roots_ != nullptr && g_heaps.size() > 1) {
      g_account.push_back(h->roots_);
      accounted.push_back(h);
    }
  }
  g_verify_roots.assign(g_verify.size(), {});
  g_account_live.assign(g_account.size(), 0);
  {
    std::lock_guard gate(finalizer_gate());  // bdwgc's finalization queue is still (vm/gc/finalize.h)
    g_minor = minor;
    g_collecting = true;
    g_full_ran = false;
    GC_enable();
    if (minor) GC_start_incremental_collection();
    else GC_gcollect();
    GC_disable();
    g_collecting = false;
  }
  minor = minor && !g_full_ran;  // bdwgc made it a full one (GC_need_full_gc)
  uint64_t pause = now_ns() - start;
  for (Heap* h : g_heaps) {
    h->allocated_.store(0, std::memory_order_relaxed);
    if (!h->gc_stress_ && !minor) h->trigger_.store(h->limit_ != 0 ? h->limit_ : UINT64_MAX, std::memory_order_relaxed);
  }
  sched::start_the_world();
  // The exact count walks every marked object: after a full only (a
  // minor's would cost as much as a full's mark, 0.1 ms per MiB live).
  uint64_t total = minor ? 0 : measure_live_bytes();
  for (Heap* h : g_heaps) {
    uint64_t live = minor ? h->last_live_.load(std::memory_order_relaxed) : total;
    for (size_t i = 0; i < accounted.size(); i++) {
      if (accounted[i] == h) live = g_account_live[i];
    }
    if (minor) h->after_minor();
    else if (generational()) h->used_after_full_ = GC_get_heap_size() - GC_get_free_bytes(), h->full_due_ = false;
    h->finish_cycle(start, stw, pause, heap_before, live, minor);
  }
  wake_finalizers();  // the objects this cycle found unreachable, whichever VM's (vm/gc/finalize.h)
}

// After a cycle, for this heap: its figures, the pacer, gc() waiters, the
// trace line and the cycle hook.
void Heap::finish_cycle(uint64_t start, int64_t stw, uint64_t pause, uint64_t heap_before, uint64_t live,
                        bool minor) {
  last_live_.store(live, std::memory_order_relaxed);
  // The latest full collection's verdict, either way: one that finds the
  // data under the limit again withdraws an earlier one's that nobody took.
  // A minor counts nothing (live is the last full's figure; a heap with a
  // limit has minors only when another VM's heap asks for them). This is
  // collection number cycles_ + 1 (counted below).
  if (!minor) oom_cycle_.store(limit_ != 0 && live > limit_ ? cycles_.load(std::memory_order_relaxed) + 1 : 0);
  {
    std::lock_guard lock(stats_mu_);
    stats_.collections++;
    (minor ? stats_.minor_collections : stats_.full_collections)++;
    stats_.live_bytes = live;
    stats_.heap_bytes = GC_get_heap_size();
    stats_.stw_ns = uint64_t(stw);
    stats_.mark_ns = g_mark_end >= g_mark_start ? g_mark_end - g_mark_start : 0;
    stats_.last_pause_ns = pause;
    stats_.max_pause_ns = std::max(stats_.max_pause_ns, pause);
    stats_.total_pause_ns += pause;
  }
  update_trigger();
  // Release (in acq_rel) / the waiters' acquire loads of cycles_: a thread
  // that sees the cycle counted sees its results (stats_, the new trigger,
  // finalized weak references) on arm64 too.
  cycles_.fetch_add(1, std::memory_order_acq_rel);
  ready_waiters();
  if (trace_ != nullptr) trace_line(heap_before, g_goroutines, minor);
  if (cycle_hook_) {
    Stats st = stats();
    Cycle c;
    c.seq = st.collections;
    c.minor = minor;
    c.at_ns = start - born_ns_;
    c.stw_ns = st.stw_ns;
    c.mark_ns = st.mark_ns;
    c.pause_ns = st.last_pause_ns;
    c.heap_before = heap_before;
    c.heap_after = st.heap_bytes;
    c.live_after = st.live_bytes;
    c.goroutines = g_goroutines;
    cycle_hook_(c);
  }
}

// Collector thread, before the world stops: a minor one when generational
// collections are on and nothing asks for a full one (gc(), collect(), the
// heap limit, whose check needs the exact count, the old generation's
// growth, or gc_stress without its minor variant, which still runs a full
// one every kStressFullEvery cycles).
bool Heap::choose_minor() {
  bool full_asked = full_requested_.exchange(false, std::memory_order_acq_rel);
  if (!generational() || full_asked || full_due_ || limit_ != 0) return false;
  if (gc_stress_) return stress_minor_ && started_.load(std::memory_order_relaxed) % kStressFullEvery != 0;
  return true;
}

// Collector thread, after a minor, world started: a full collection is due
// once bdwgc's blocks in use have grown by gc_percent since the last full
// one (block-level figures on both sides, so their overstatement cancels;
// at least the nursery's size).
void Heap::after_minor() {
  uint64_t used = GC_get_heap_size() - GC_get_free_bytes();
  uint64_t percent = gc_percent_ < 0 ? 0 : uint64_t(gc_percent_);
  uint64_t growth = std::max<uint64_t>(kMinHeap * percent / 100, used_after_full_ * percent / 100);
  if (gc_percent_ >= 0 && used > used_after_full_ + growth) full_due_ = true;
}

// Any thread that is not running a goroutine (the host thread, tests):
// waits for a (full) collection that starts after this call.
void Heap::collect() {
  if (sched::getg() != nullptr) fatal("gc: Heap::collect on a goroutine (use gc_wait)");
  uint64_t target = started_.load(std::memory_order_acquire) + 1;
  full_requested_.store(true, std::memory_order_release);
  requested_.store(true, std::memory_order_release);
  g_collector->poke();
  g_collector->wait([&] { return cycles_.load(std::memory_order_acquire) >= target; });
}

namespace {
// gc_wait's unlockf, on g0 after the G parked. The collector thread was
// just poked, but the goroutines that keep this M's P busy would hold the
// CPU until the kernel preempts them (milliseconds with more runnable
// threads than CPUs): yield it once, so the collector starts stopping the
// world at once (gc() with 2 spinners on 2 CPUs, bench/preempt/run.sh:
// p50 1.9 ms before, 0.2-0.6 ms after).
bool unlock_waiters(sched::G*, void* mu) {
  static_cast<sched::HandoffLock*>(mu)->unlock();
  sched_yield();
  return true;
}
}  // namespace

// The running goroutine parks (a blocked safe-point: gopark) until a
// collection that starts after this call has completed; the collector
// readies it (ready_waiters). The caller has set g->resume and
// g->resume_value for a stackless park.
sched::Parked Heap::gc_wait(bool full) {
  sched::G* g = sched::getg();
  if (g == nullptr) fatal("gc: gc_wait off a goroutine");
  g->owner->external_work.fetch_add(1);  // not a deadlock
  waiters_mu_.lock();
  waiters_.push_back({g, started_.load(std::memory_order_acquire) + 1});
  if (full) full_requested_.store(true, std::memory_order_release);  // gc() is a full collection
  request();
  return sched::gopark(unlock_waiters, &waiters_mu_, sched::WaitReason::GC);  // unlock_waiters releases waiters_mu_
}

// Collector thread, after a cycle: readies the goroutines it satisfied
// (all parked: gc_wait releases waiters_mu_ only once its G has parked).
void Heap::ready_waiters() {
  uint64_t done = cycles_.load(std::memory_order_acquire);
  std::vector<sched::G*> ready;
  {
    std::lock_guard lock(waiters_mu_);
    auto keep = std::partition(waiters_.begin(), waiters_.end(),
                               [done](const Waiter& w) { return w.target > done; });
    for (auto it = keep; it != waiters_.end(); ++it) ready.push_back(it->g);
    waiters_.erase(keep, waiters_.end());
  }
  for (sched::G* g : ready) {
    sched::goready(g);
    g->owner->external_work.fetch_sub(1);
  }
}

// gc N @T s: [minor, ]stw X ms, mark Y ms, pause Z ms, heap A -> B MiB, live C MiB, G goroutines
// (like GODEBUG=gctrace=1: T is seconds since the heap was made; heap is
// bdwgc's whole heap before and after; live is exact; the pause includes
// the stop).
void Heap::trace_line(uint64_t heap_before, size_t goroutines, bool minor) const {
  Stats s = stats();
  double since = double(now_ns() - born_ns_) / 1e9;
  std::fprintf(trace_,
               "gc %llu @%.3fs: %sstw %.3f ms, mark %.3f ms, pause %.3f ms, heap %.2f -> %.2f MiB, "
               "live %.2f MiB, %zu goroutines\n",
               static_cast<unsigned long long>(s.collections), since, minor ? "minor, " : "", double(s.stw_ns) / 1e6,
               double(s.mark_ns) / 1e6, double(s.last_pause_ns) / 1e6, mib(heap_before),
               mib(s.heap_bytes), mib(s.live_bytes), goroutines);
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
