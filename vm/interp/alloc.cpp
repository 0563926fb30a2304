// The Runtime's allocation functions (vm/interp/runtime.h): every heap
// object is made here or by the object operations of vm/core/objops.h.
// Allocation never collects (vm/gc/heap.h): when it leaves the heap
// wanting a collection, the heap posts a request to the collector thread,
// which stops the world at the goroutines' next safe-points; so no code
// here needs to root anything.
#include <algorithm>
#include <cstring>

#include "vm/core/objops.h"
#include "vm/interp/runtime.h"
#include "vm/sched/chan.h"

namespace weft {

String* Runtime::new_string_uninit(size_t len) {
  // Builtins check with string_room first (runtime.h); a longer string
  // would silently wrap String::len.
  if (len > kMaxStringLen) fatal("interp: a string longer than String::len can hold");
  String* s = new_object<String>(*heap_, ObjType::String, sizeof(String) + len + 1, true);
  s->len = uint32_t(len);
  s->data[len] = '\0';
  return s;
}

String* Runtime::new_string(std::string_view v) {
  String* s = new_string_uninit(v.size());
  if (!v.empty()) std::memcpy(s->data, v.data(), v.size());
  return s;
}

Value Runtime::make_int(int64_t i) {
  if (Value::fits_inline(i)) return Value::inline_int(i);
  BigInt* b = new_object<BigInt>(*heap_, ObjType::BigInt, sizeof(BigInt), true);
  b->value = i;
  return Value::object(b);
}

Array* Runtime::new_array(uint32_t len, uint32_t capacity, bool numeric) {
  if (capacity < len) capacity = len;
  bool inline_items = capacity <= Array::kMaxInline;
  size_t bytes = sizeof(Array) + (inline_items ? size_t(capacity) * sizeof(Value) : 0);
  Array* a = new_object<Array>(*heap_, ObjType::Array, bytes, false);  // zeroed: store == nullptr
  if (inline_items) a->aux = uint16_t(capacity);
  else a->store = new_store(*heap_, capacity, numeric);
  Value* items = a->items().items;
  for (uint32_t i = 0; i < len; i++) items[i] = Value::nil();
  a->len = len;
  return a;
}

Map* Runtime::new_map(uint32_t capacity) {
  Map* m = new_object<Map>(*heap_, ObjType::Map, sizeof(Map), false);
  m->count = 0;
  m->lock = 0;
  m->data = capacity > 0 ? new_map_data(*heap_, capacity) : nullptr;
  return m;
}

Closure* Runtime::new_closure(Proto* p) {
  uint32_t n = uint32_t(p->captures.size());
  Closure* c = new_object<Closure>(*heap_, ObjType::Closure, sizeof(Closure) + n * sizeof(Cell*), false);
  c->proto = p;
  c->nupvals = n;
  return c;
}

Cell* Runtime::new_cell(Value v) {
  Cell* c = new_object<Cell>(*heap_, ObjType::Cell, sizeof(Cell), false);
  c->value = v;
  return c;
}

Native* Runtime::new_native(const char* name, NativeFn fn, int min_args, int max_args) {
  Native* n = new_object<Native>(*heap_, ObjType::Native, sizeof(Native), false);
  n->fn = fn;
  n->name = name;
  n->min_args = int16_t(min_args);
  n->max_args = int16_t(max_args);
  n->data = Value::nil();
  return n;
}

sched::Channel* Runtime::new_channel(uint32_t cap) {
  auto* c = static_cast<sched::Channel*>(alloc_or_die(*heap_, sched::chan_bytes(cap), false));
  sched::chan_init(c, cap);
  return c;
}

WeakRef* Runtime::new_weakref(Value target) {
  WeakRef* w = new_object<WeakRef>(*heap_, ObjType::WeakRef, sizeof(WeakRef), false);
  if (target.is_obj()) {
    w->value = Value::empty();
    w->hidden = ~reinterpret_cast<uintptr_t>(target.as_obj());
    heap().register_weak(&w->hidden, target.as_obj());
  } else {
    w->hidden = 0;
    w->value = target;
  }
  return w;
}

// ---- the size of a builtin's result (runtime.h) ----

// The live figure is the last collection's, possibly stale: a program that
// caught `out of memory` has usually dropped what it held, but the figure
// still says over the limit until the next collection. So a figure over
// the limit counts as 0 (the heap's own check at safe-points catches a
// heap that really is over, after its next collection); an overshoot is
// then bounded by one limit's worth.
uint64_t heap_headroom(Runtime& rt) {
  gc::Heap& heap = rt.heap();
  uint64_t limit = heap.limit(), live = heap.last_live();
  if (limit == 0) return UINT64_MAX;
  return live < limit ? limit - live : limit;
}

// Results this small are left to the heap's own check: they cannot take
// the heap far past the limit before the next safe-point.
constexpr uint64_t kSmallResult = 64 * 1024;

bool heap_room(Thread* t, uint64_t bytes) {
  if (bytes <= kSmallResult || bytes <= heap_headroom(*t->rt)) return true;
  t->raise("out of memory");
  return false;
}

bool string_room(Thread* t, uint64_t len) {
  if (len > kMaxStringLen) {
    t->raise("string too long (more than %llu bytes)", (unsigned long long)kMaxStringLen);
    return false;
  }
  return heap_room(t, sizeof(String) + len + 1);
}

uint64_t string_budget(Runtime& rt) {
  uint64_t room = std::max(heap_headroom(rt), kSmallResult);
  uint64_t fits = room > sizeof(String) + 1 ? room - sizeof(String) - 1 : 0;
  return std::min(fits, kMaxStringLen);
}

}  // namespace weft
