// --gc-verify: after a collection has marked, walk the heap again from the
// roots with the VM's own knowledge of object layouts, and fail loudly on
// any reachable object bdwgc did not mark (it would be freed while in use).
//
// Model. The roots are the ones the marker got: its sinks record the
// precise Value slots and conservative ranges as they push them
// (Heap::push_roots_of, vm/gc/heap.cpp), and this walk reads those ranges.
// (Gathering them again here read goroutines at a later moment: one in a
// blocking native during the mark, whose native stack was rightly no root
// then, could have parked stackfully since, and its stale stack words
// were then taken for roots the mark had missed.) Every word of either
// that is the start of a heap object is reachable; from each reachable
// object, its fields are followed by type (vm/core/object.h,
// vm/sched/chan.h). What this catches that bdwgc's own marking cannot
// see: a root range whose push did not mark what it holds (a conservative
// range's words are mapped to object starts before the push,
// RootSink::conservative; this walk maps them itself), an object
// reachable only through memory bdwgc does not scan (an object allocated
// pointer-free by mistake, a pointer kept in malloc'd memory), and a Value
// that points inside an object instead of at its start (interior pointers
// are off: such an object is not retained).
//
// After a minor collection (generational collections, vm/gc/barrier.h) the
// same walk checks the write barrier: bdwgc marked what the roots and the
// old objects on dirty pages reach, so an object reachable from the roots
// but unmarked is most likely young and stored into an old object without
// a barrier; the message says so and names the holder's kind.
//
// When: bdwgc's GC_EVENT_RECLAIM_START (vm/gc/heap.cpp), on the collector
// thread with the world stopped and bdwgc's lock held: the mark bits are
// final and nothing is freed yet. (After GC_gcollect returns, blocks whose
// objects all died are already free, and GC_base no longer knows their
// objects: a verifier running then misses exactly the objects it is for.)
#define GC_THREADS 1
#define GC_NO_THREAD_REDIRECTS 1
#include <gc/gc.h>
#include <gc/gc_inline.h>  // GC_I_PTRFREE
#include <gc/gc_mark.h>

#include <cinttypes>
#include <cstdio>
#include <unordered_set>
#include <vector>

#include "vm/core/fatal.h"
#include "vm/gc/heap.h"
#include "vm/core/object.h"
#include "vm/sched/chan.h"

namespace weft::gc {

namespace {

const char* kind_name(ObjType t) {
  switch (t) {
    case ObjType::String: return "string";
    case ObjType::BigInt: return "bigint";
    case ObjType::Array: return "array";
    case ObjType::Store: return "array store";
    case ObjType::Map: return "map";
    case ObjType::MapData: return "map data";
    case ObjType::Closure: return "closure";
    case ObjType::Cell: return "cell";
    case ObjType::Native: return "native";
    case ObjType::WeakRef: return "weakref";
    case ObjType::Channel: return "channel";
    case ObjType::StrBuf: return "string buffer";
    case ObjType::Host: return "host object";
  }
  return "?";
}

class Walker {
 public:
  explicit Walker(bool minor) : minor_(minor) {}

  // A word that may reference an object; `from` names where it was found.
  void word(uintptr_t w, const char* from, bool precise) {
    if (w == 0) return;
    void* base = GC_base(reinterpret_cast<void*>(w));
    if (base == nullptr) {
      // Not the heap: fine for conservative words and inline Values, but a
      // Value that is an object pointer must point at a live object.
      if (precise && strict_ && Value::from_bits(w).is_obj()) {
        std::fprintf(stderr, "gc-verify: a Value %#" PRIxPTR " in %s points to no live heap object\n", w, from);
        fatal("gc: --gc-verify found a dangling Value");
      }
      return;
    }
    if (uintptr_t(base) != w) {
      // A Value may not point inside an object; a conservative word may
      // (RootSink::conservative retains its object, and so does this walk).
      if (precise) {
        if (strict_) fail(static_cast<const Obj*>(base), from, "a Value points inside the object");
        return;  // bdwgc does not follow it either
      }
      w = uintptr_t(base);
    }
    const Obj* o = static_cast<const Obj*>(base);
    if (!seen_.insert(o).second) return;
    if (!GC_is_marked(base)) fail(o, from, "reachable but not marked");
    work_.push_back(o);
  }
  void value(Value v, const char* from) { word(uintptr_t(v.bits()), from, true); }
  // Conservative ranges include native stacks, whose ASan redzones are
  // poisoned: read them as bdwgc's (uninstrumented) marker does.
  __attribute__((no_sanitize("address"))) void range(const char* lo, const char* hi, const char* from,
                                                     bool precise) {
    for (const char* p = lo; p + sizeof(uintptr_t) <= hi; p += sizeof(uintptr_t))
      word(*reinterpret_cast<const uintptr_t*>(p), from, precise);
  }

  void drain() {
    while (!work_.empty()) {
      const Obj* o = work_.back();
      work_.pop_back();
      fields(o);
    }
  }
  size_t objects() const { return seen_.size(); }
  // After the precise roots: what only conservative roots reach may be a
  // dead object a stale word retains (conservative collectors do), from a
  // block bdwgc has not swept yet, whose fields point into memory freed
  // since. Its fields are followed as bdwgc follows them, without the
  // checks that hold for live Values.
  void lenient() { strict_ = false; }

 private:
  void fields(const Obj* o) {
    // bdwgc never scans a pointer-free object. Past the precise roots
    // neither does this walk: a stale conservative word may point at a dead
    // flat string or string buffer (pointer-free memory is not cleared when
    // freed), whose old bytes, or a free-list link over its header, can
    // read as a slice String with a StrBuf* to a freed object (seen in the
    // racy-script stress: "? object ..., found in string"). From precise
    // roots it does: a pointer-free object with pointers is the bug that
    // GcVerifyDeathTest plants.
    if (!strict_ && GC_get_kind_and_size(o, nullptr) == GC_I_PTRFREE) return;
    const char* from = kind_name(o->type);
    switch (o->type) {
      case ObjType::String: {
        const String* s = static_cast<const String*>(o);
        if (s->is_slice()) word(uintptr_t(s->slice_buf()), from, true);
        break;
      }
      case ObjType::BigInt: case ObjType::StrBuf: break;
      case ObjType::Native: value(static_cast<const Native*>(o)->data, from); break;
      case ObjType::Array: {
        const Array* a = static_cast<const Array*>(o);
        word(uintptr_t(a->store), from, true);
        for (uint32_t i = 0; i < a->aux; i++) value(a->inline_items[i], from);  // stale ones too: bdwgc scans them
        break;
      }
      case ObjType::Store: {
        const Store* s = static_cast<const Store*>(o);
        for (uint32_t i = 0; i < s->capacity; i++) value(s->items[i], from);
        break;
      }
      case ObjType::Map: word(uintptr_t(static_cast<const Map*>(o)->data), from, true); break;
      case ObjType::MapData: {
        MapData* d = const_cast<MapData*>(static_cast<const MapData*>(o));
        for (uint32_t i = 0; i < d->used; i++) {
          value(d->entries()[i].key, from);
          value(d->entries()[i].value, from);
        }
        break;
      }
      case ObjType::Closure: {
        const Closure* c = static_cast<const Closure*>(o);
        for (uint32_t i = 0; i < c->nupvals; i++) word(uintptr_t(c->upvals[i]), from, true);
        break;
      }
      case ObjType::Cell: value(static_cast<const Cell*>(o)->value, from); break;
      case ObjType::WeakRef: value(static_cast<const WeakRef*>(o)->value, from); break;  // the target is weak
      case ObjType::Host: {  // cls and data point outside the heap
        const HostObject* h = static_cast<const HostObject*>(o);
        for (uint32_t i = 0; i < h->nslots; i++) value(h->slots[i], from);
        break;
      }
      case ObjType::Channel: {
        const sched::Channel* c = static_cast<const sched::Channel*>(o);
        for (uint32_t i = 0; i < c->cap; i++) value(c->buf[i], from);
        break;
      }
    }
  }

  [[noreturn]] void fail(const Obj* o, const char* from, const char* what) {
    std::fprintf(stderr, "gc-verify: %s object %p (%s), found in %s%s\n", kind_name(o->type),
                 static_cast<const void*>(o), what, from,
                 minor_ ? ", after a minor collection: a store without gc::write_barrier?" : "");
    fatal("gc: --gc-verify found a reachable object the collector did not mark");
  }

  bool minor_;
  bool strict_ = true;
  std::unordered_set<const Obj*> seen_;
  std::vector<const Obj*> work_;
};

}  // namespace

size_t verify_heap(const std::vector<RootSink::Record>& recs, bool minor) {
  Walker w(minor);
  for (auto& rec : recs) {
    for (auto& [lo, hi] : rec.precise) w.range(lo, hi, "a precise root", true);
  }
  w.drain();
  w.lenient();
  for (auto& rec : recs) {
    for (auto& [lo, hi] : rec.conservative) w.range(lo, hi, "a conservative root", false);
  }
  w.drain();
  return w.objects();
}

}  // namespace weft::gc
