// The floor for BM_LiveHeap: bdwgc's own collection time for the heap that
// bench/gc/live_heap.wf builds, made directly on bdwgc without the Runtime.
// Same shape (a list of MIB binary trees of depth 14; a node is a weft::Array
// with 2 inline values, 32 bytes, with the VM's layout from vm/core/object.h) and the
// same bdwgc set-up as vm/gc/heap.cpp where it matters to marking: no
// interior pointers, no data segments, collections only when asked, and
// GC_allow_register_threads() (which also starts bdwgc's parallel markers,
// as in the VM: without it the floor marks on one thread, about 2x slower
// on 2 cores; WEFT_GC_MARKERS sets the count, as for the VM). The root is
// one static word. Prints the median and max of ROUNDS GC_gcollect() wall
// times, and the median mark phase, in µs.
//
// usage: bdwgc_floor MIB ROUNDS
#define GC_THREADS 1
#include <gc/gc.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "vm/core/object.h"

namespace {

using Clock = std::chrono::steady_clock;

Clock::time_point g_mark_start, g_mark_end;  // written by the event hook (collecting thread)

void on_event(GC_EventType e) {
  if (e == GC_EVENT_MARK_START) g_mark_start = Clock::now();
  if (e == GC_EVENT_MARK_END) g_mark_end = Clock::now();
}

// A node as the VM lays out [l, r]: an Array with 2 inline values.
weft::Array* node(weft::Array* l, weft::Array* r) {
  auto* a = static_cast<weft::Array*>(GC_MALLOC(sizeof(weft::Array) + 2 * sizeof(weft::Value)));
  a->init(weft::ObjType::Array);
  a->aux = 2;
  a->inline_items[0] = l ? weft::Value::object(l) : weft::Value::nil();
  a->inline_items[1] = r ? weft::Value::object(r) : weft::Value::nil();
  a->len = 2;
  return a;
}

weft::Array* tree(int d) { return d == 0 ? node(nullptr, nullptr) : node(tree(d - 1), tree(d - 1)); }

weft::Array** g_forest;  // the only root

double us(Clock::duration d) { return std::chrono::duration<double, std::micro>(d).count(); }

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: bdwgc_floor MIB ROUNDS\n");
    return 1;
  }
  int mib = std::atoi(argv[1]), rounds = std::max(1, std::atoi(argv[2]));
  // The VM's marker count (vm/gc/heap.cpp default_markers): WEFT_GC_MARKERS,
  // else bdwgc's default, the number of CPUs.
  if (const char* n = std::getenv("WEFT_GC_MARKERS"); n != nullptr && std::atoi(n) > 0)
    GC_set_markers_count(unsigned(std::atoi(n)));
  GC_set_no_dls(1);
  GC_set_all_interior_pointers(0);
  GC_INIT();
  GC_allow_register_threads();
  GC_clear_roots();
  GC_add_roots(&g_forest, &g_forest + 1);
  GC_set_on_collection_event(on_event);
  GC_disable();
  g_forest = static_cast<weft::Array**>(GC_MALLOC(sizeof(weft::Array*) * size_t(std::max(mib, 1))));
  for (int i = 0; i < mib; i++) g_forest[i] = tree(14);
  GC_enable();
  std::vector<double> pause, mark;
  for (int r = 0; r < rounds; r++) {
    auto t0 = Clock::now();
    GC_gcollect();
    pause.push_back(us(Clock::now() - t0));
    mark.push_back(us(g_mark_end - g_mark_start));
  }
  std::printf("pause_p50_us %.1f\npause_min_us %.1f\npause_max_us %.1f\nmark_p50_us %.1f\nheap_MiB %.1f\n",
              median(pause), *std::min_element(pause.begin(), pause.end()),
              *std::max_element(pause.begin(), pause.end()), median(mark),
              double(GC_get_heap_size()) / (1024.0 * 1024.0));
  return 0;
}
