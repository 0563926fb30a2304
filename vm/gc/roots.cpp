// RootSink: how the runtime hands its roots to bdwgc's marker.
//
// Every push is GC_push_all_eager: it marks the range at once instead of
// queueing it (GC_push_all aborts past about 4,000 ranges in one
// collection, and a goroutine-heavy program has more frames than that).
// Precise value slots are pushed the same way: the value encoding makes a
// conservative look at a Value exact (vm/core/value.h). Slots arrive in stack-map
// order, mostly ascending and often adjacent, so value() batches runs of
// adjacent slots into one push.
//
// Threads: a RootSink lives only on the collecting thread, inside bdwgc's
// push-other-roots callback (world stopped, bdwgc's lock held).
#define GC_THREADS 1
#define GC_NO_THREAD_REDIRECTS 1
#include <gc/gc.h>
#include <gc/gc_mark.h>

#include <vector>

#include "vm/gc/heap.h"

namespace weft::gc {

namespace {
constexpr size_t kWord = sizeof(void*);

// The start of every object a word of [lo, hi) points into. The range may
// be a native stack with ASan redzones: read it as bdwgc's marker does.
__attribute__((no_sanitize("address"))) void object_starts(const char* lo, const char* hi,
                                                           std::vector<void*>* out) {
  for (const char* p = lo; p + kWord <= hi; p += kWord) {
    void* w = *reinterpret_cast<void* const*>(p);
    if (void* b = w != nullptr ? GC_base(w) : nullptr) out->push_back(b);
  }
}
}  // namespace

void RootSink::push(const char* lo, const char* hi, bool precise) {
  if (lo >= hi) return;
  if (record_ != nullptr) (precise ? record_->precise : record_->conservative).emplace_back(lo, hi);
  if (mark_) GC_push_all_eager(const_cast<char*>(lo), const_cast<char*>(hi));
}

void RootSink::value(const void* slot) {
  const char* p = static_cast<const char*>(slot);
  if (p == run_hi_) {
    run_hi_ = p + kWord;
    return;
  }
  flush();
  run_lo_ = p;
  run_hi_ = p + kWord;
}

void RootSink::values(const void* lo, const void* hi) {
  flush();
  push(static_cast<const char*>(lo), static_cast<const char*>(hi), true);
}

// Conservative ranges (an async-preempted goroutine's registers and
// frames, native frames) may hold derived pointers: the compiler is free to
// keep only &store->items[i] live in a register and recompute the store
// from it. Interior pointers are off for the heap as a whole (objects and
// Values always point at object starts), so here each word that points
// anywhere into an object is replaced by the object's start before it is
// pushed, as Go treats the conservatively scanned frames.
// A recording sink records the range itself (the verifier resolves
// interior words the same way).
void RootSink::conservative(const void* lo, const void* hi) {
  flush();
  if (lo >= hi) return;
  if (record_ != nullptr) record_->conservative.emplace_back(static_cast<const char*>(lo), static_cast<const char*>(hi));
  if (!mark_) return;
  std::vector<void*> bases;
  object_starts(static_cast<const char*>(lo), static_cast<const char*>(hi), &bases);
  if (!bases.empty()) {  // eager: the vector goes away after
    GC_push_all_eager(reinterpret_cast<char*>(bases.data()), reinterpret_cast<char*>(bases.data() + bases.size()));
  }
}

void RootSink::flush() {
  push(run_lo_, run_hi_, true);
  run_lo_ = run_hi_ = nullptr;
}

}  // namespace weft::gc
