// Issue 19's first question for generational collections, asked of
// Debian's bdwgc 8.2.2 alone (no Runtime): what manual dirty bits
// (GC_set_manual_vdb_allowed + GC_enable_incremental) cost the per-P
// refill, and what a minor collection of an old heap costs next to a full
// one. Same bdwgc set-up as vm/gc/heap.cpp where it matters (no interior
// pointers, no data segments, collections only when asked); in manual mode
// also GC_TIME_UNLIMITED (a minor is one stop-the-world mark, never
// bdwgc's time-sliced incremental mode) and a full_freq bdwgc never reaches
// (full collections are GC_gcollect's alone).
//
// Prints: GC_generic_malloc_many's cost per 32-byte object and objects per
// call on a warm heap (mallocx.c: one object per call under manual VDB), and
// the p50/max of ROUNDS minors (GC_start_incremental_collection) after
// 20,000 short-lived objects and one old-to-young store each, next to the
// p50 of full collections, with MIB MiB of old trees live; and how many
// young objects stored into old ones were lost, with and without the
// barrier (GC_end_stubborn_change).
//
// usage: bdwgc_vdb_probe plain|manual MIB ROUNDS
#define GC_THREADS 1
#include <gc/gc.h>
#include <gc/gc_inline.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Node {
  Node *l, *r;
};

Node* tree(int d) {
  auto* n = static_cast<Node*>(GC_MALLOC(sizeof(Node)));
  if (d > 0) {
    n->l = tree(d - 1);
    n->r = tree(d - 1);
    GC_end_stubborn_change(n);  // the barrier (a no-op without manual VDB)
  }
  return n;
}

Node** g_forest;  // the only root
int g_starts = 0;  // GC_EVENT_START seen

void on_event(GC_EventType e) {
  if (e == GC_EVENT_START) g_starts++;
}

double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

// Takes `objects` 32-byte objects through GC_generic_malloc_many; returns the calls made.
long refill(long objects) {
  long calls = 0;
  for (long n = 0; n < objects; calls++) {
    void* list = nullptr;
    GC_generic_malloc_many(32, GC_I_NORMAL, &list);
    for (void* p = list; p != nullptr; p = *static_cast<void**>(p)) n++;
  }
  return calls;
}

// Leaves a young tree in old->l with or without the barrier, and no copy
// of it on this thread's stack (bdwgc scans the registered main thread).
__attribute__((noinline)) void store_young(Node* old, bool barrier, void** link) {
  Node* young = tree(6);
  old->l = young;
  if (barrier) GC_end_stubborn_change(old);
  *link = young;
  GC_general_register_disappearing_link(link, young);
}

__attribute__((noinline)) void scrub_stack() {
  volatile char pad[64 << 10];
  for (char& c : const_cast<char(&)[64 << 10]>(pad)) c = 0;
}

double pct(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  return v[size_t(q * double(v.size() - 1))];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4 || (std::strcmp(argv[1], "plain") != 0 && std::strcmp(argv[1], "manual") != 0)) {
    std::fprintf(stderr, "usage: bdwgc_vdb_probe plain|manual MIB ROUNDS\n");
    return 1;
  }
  bool manual = std::strcmp(argv[1], "manual") == 0;
  int mib = std::max(1, std::atoi(argv[2])), rounds = std::max(1, std::atoi(argv[3]));
  GC_set_no_dls(1);
  GC_set_all_interior_pointers(0);
  if (manual) GC_set_manual_vdb_allowed(1);
  GC_INIT();
  GC_allow_register_threads();
  GC_clear_roots();
  GC_add_roots(&g_forest, &g_forest + 1);
  GC_set_on_collection_event(on_event);
  if (manual) {
    GC_enable_incremental();
    GC_set_time_limit(GC_TIME_UNLIMITED);
    GC_set_full_freq(1 << 30);
  }
  // The refill, on a warm heap (the first rounds map and sweep the blocks).
  constexpr long kObjects = 2'000'000;
  GC_disable();
  for (int warm = 0; warm < 2; warm++) {
    refill(kObjects);
    GC_enable();
    GC_gcollect();
    GC_disable();
  }
  auto t = Clock::now();
  long calls = refill(kObjects);
  double refill_ms = ms_since(t);
  GC_enable();
  GC_gcollect();
  // MIB MiB of old trees: 16-byte nodes, 2^15 - 1 per tree (0.5 MiB).
  g_forest = static_cast<Node**>(GC_MALLOC(sizeof(Node*) * size_t(2 * mib)));
  for (int i = 0; i < 2 * mib; i++) {
    g_forest[i] = tree(14);
    GC_end_stubborn_change(g_forest);
  }
  GC_gcollect();
  std::vector<double> minor, full;
  int starts = g_starts, lost = 0, lost_unbarriered = 0;
  for (int r = 0; r < rounds; r++) {
    for (int k = 0; k < 20000; k++) (void)GC_MALLOC(32);  // short-lived
    // Two old-to-young stores, into two old trees: one with the barrier,
    // one without (it should be lost: what --gc-verify must catch). Weak
    // links tell whether each young object survived the minor.
    static void* links[2];
    store_young(g_forest[r % (2 * mib)], true, &links[0]);
    store_young(g_forest[(r + mib) % (2 * mib)]->r->r, false, &links[1]);  // deep in an old, clean page
    scrub_stack();
    t = Clock::now();
    if (manual) GC_start_incremental_collection();
    else GC_gcollect();
    minor.push_back(ms_since(t));
    lost += links[0] == nullptr;
    lost_unbarriered += links[1] == nullptr;
    for (void*& l : links) GC_unregister_disappearing_link(&l);
  }
  int minor_starts = g_starts - starts;
  for (int r = 0; r < 5; r++) {
    t = Clock::now();
    GC_gcollect();
    full.push_back(ms_since(t));
  }
  std::printf("mode %s, parallel marking %d, heap %.0f MiB\n", argv[1], GC_get_parallel(),
              double(GC_get_heap_size()) / 1048576.0);
  std::printf("malloc_many: %.1f ns/object, %.1f objects/call\n", refill_ms * 1e6 / double(kObjects),
              double(kObjects) / double(calls));
  std::printf("%s: p50 %.2f ms, max %.2f ms, GC_EVENT_START fired %d times; full: p50 %.2f ms\n",
              manual ? "minor" : "collection", pct(minor, 0.5), pct(minor, 1.0), minor_starts, pct(full, 0.5));
  std::printf("young objects lost of %d: stored with the barrier %d, without %d\n", rounds, lost, lost_unbarriered);
  return 0;
}
