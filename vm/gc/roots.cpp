// RootSink: how the runtime hands its roots to bdwgc's marker.
//
// Every push is GC_push_all_eager: it marks the range at once instead of
// queueing it (GC_push_all aborts past about 4,000 ranges in one
// collection, and a goroutine-heavy program has more frames than that).
// Precise value slots are pushed the same way: the value encoding makes a
// conservative look at a Value exact (vm/value.h). Slots arrive in stack-map
// order, mostly ascending and often adjacent, so value() batches runs of
// adjacent slots into one push.
//
// Threads: a RootSink lives only on the collecting thread, inside bdwgc's
// push-other-roots callback (world stopped, bdwgc's lock held).
#define GC_THREADS 1
#define GC_NO_THREAD_REDIRECTS 1
#include <gc/gc.h>
#include <gc/gc_mark.h>

#include "vm/gc/heap.h"

namespace weft::gc {

namespace {
constexpr size_t kWord = sizeof(void*);
}  // namespace

void RootSink::push(const char* lo, const char* hi, bool precise) {
  if (lo >= hi) return;
  if (record_ != nullptr) (precise ? record_->precise : record_->conservative).emplace_back(lo, hi);
  else GC_push_all_eager(const_cast<char*>(lo), const_cast<char*>(hi));
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

void RootSink::conservative(const void* lo, const void* hi) {
  flush();
  push(static_cast<const char*>(lo), static_cast<const char*>(hi), false);
}

void RootSink::flush() {
  push(run_lo_, run_hi_, true);
  run_lo_ = run_hi_ = nullptr;
}

}  // namespace weft::gc
