// The operations of vm/core/objops.h: maps, arrays, equality.
//
// Allocation never collects (vm/gc/heap.h). When an allocation leaves the
// heap wanting a collection, the heap posts a request to the collector
// thread, which stops the world at the goroutines' next safe-points; so no
// code here needs to root anything.
//
// Maps are insertion-ordered: MapData holds the entries in insertion order
// (a deleted entry keeps its place with key == empty, a tombstone) and an
// open-addressed, linearly probed index of entry numbers at load <= 1/2.
// The index is never edited in place except to add a slot: when the entries
// fill up, a new MapData is built from the live entries (compacting
// tombstones) and published with one pointer store, which keeps a racing
// reader on a consistent, if stale, snapshot. Rejected: Lua-style chained
// nodes (no insertion order) and Python's split index/entries allocations
// (two objects per map for no gain at these sizes).
//
// Races (goroutines share maps): writers (map_set, map_delete) hold the
// map's lock, a spinlock word in the Map. The holder is runtime code that
// never reaches a safe-point (allocation never collects or parks), so it
// is never preempted while holding it and the critical sections are short.
// Readers take no lock: every store a reader depends on is a release (the
// entry before its index slot, the index slot, `used`, the new MapData), so
// a reader sees a consistent MapData, perhaps a stale one. Rejected: a lock
// for readers too (an uncontended atomic on every field read) and a
// reader-writer lock (the same cost).
#include <atomic>
#include <cmath>
#include <cstdio>
#include <thread>
#include <cstdlib>
#include <cstring>

#include "vm/core/objops.h"

namespace weft {

// Scanned stores come zeroed; a numeric one is pointer-free memory, which
// bdwgc leaves uninitialized: it is filled with nil, as a racing reader may
// read past len.
Store* new_store(gc::Heap& heap, uint32_t capacity, bool numeric) {
  Store* s = new_object<Store>(heap, ObjType::Store, sizeof(Store) + size_t(capacity) * sizeof(Value), numeric);
  s->capacity = capacity;
  if (numeric) {
    s->flags = kStoreNumeric;
    std::fill(s->items, s->items + capacity, Value::nil());
  }
  return s;
}

// A store of `capacity` holding a copy of items[0, len): numeric if asked
// and no copied value refers to an object. Decided on the copy, which no
// other goroutine can write (the source may be written while we copy).
namespace {

Store* copy_store(gc::Heap& heap, const Value* items, uint32_t len, uint32_t capacity, bool numeric) {
  Store* s = new_store(heap, capacity, numeric);
  if (len > 0) std::memcpy(s->items, items, len * sizeof(Value));
  if (numeric && std::any_of(s->items, s->items + len, [](Value v) { return v.is_obj(); })) {
    Store* scanned = new_store(heap, capacity, false);
    std::memcpy(scanned->items, s->items, len * sizeof(Value));
    s = scanned;
  }
  return s;
}

uint32_t fnv1a(const char* p, size_t n) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < n; i++) h = (h ^ uint8_t(p[i])) * 16777619u;
  return h;
}

uint32_t mix64(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  return uint32_t(x);
}

bool keys_equal(Value a, Value b) {
  if (a == b) return true;
  if (!a.is_obj() || !b.is_obj() || a.as_obj()->type != b.as_obj()->type) return false;
  if (a.as_obj()->type == ObjType::String) return as_string(a)->view() == as_string(b)->view();
  if (a.as_obj()->type == ObjType::BigInt) return int_of(a) == int_of(b);
  return false;
}

uint32_t index_size_for(uint32_t capacity) {
  uint32_t n = 4;
  while (n < 2 * capacity) n <<= 1;
  return n;
}

}  // namespace

MapData* new_map_data(gc::Heap& heap, uint32_t capacity) {
  uint32_t isize = index_size_for(capacity);
  size_t bytes = sizeof(MapData) + size_t(capacity) * sizeof(MapEntry) + size_t(isize) * sizeof(int32_t);
  MapData* d = new_object<MapData>(heap, ObjType::MapData, bytes, false);
  d->capacity = capacity;
  d->used = 0;
  d->index_size = isize;
  std::memset(d->index(), 0xff, size_t(isize) * sizeof(int32_t));
  return d;
}

namespace {

template <typename T>
T load_acquire(T& field) {
  return std::atomic_ref<T>(field).load(std::memory_order_acquire);
}

// The entry number of `key`, or -1.
int32_t find_entry(MapData* d, Value key, uint32_t h) {
  uint32_t mask = d->index_size - 1;
  int32_t* index = d->index();
  MapEntry* entries = d->entries();
  for (uint32_t i = h & mask;; i = (i + 1) & mask) {
    int32_t e = load_acquire(index[i]);
    if (e < 0) return -1;
    if (keys_equal(entries[e].key, key)) return e;
  }
}

void index_add(MapData* d, uint32_t h, int32_t entry) {
  uint32_t mask = d->index_size - 1;
  int32_t* index = d->index();
  uint32_t i = h & mask;
  while (index[i] >= 0) i = (i + 1) & mask;
  std::atomic_ref<int32_t>(index[i]).store(entry, std::memory_order_release);  // after the entry
}

// The per-map writer lock. Not preemptible (see above), so spinning is
// bounded by a short critical section; yield after a while in case the
// holder's thread was descheduled by the OS.
class MapLock {
 public:
  explicit MapLock(Map* m) : word_(m->lock) {
    for (int spins = 0; word_.exchange(1, std::memory_order_acquire) != 0;) {
      while (word_.load(std::memory_order_relaxed) != 0) {
        if (++spins > 100) std::this_thread::yield();
      }
    }
  }
  ~MapLock() { word_.store(0, std::memory_order_release); }
  MapLock(const MapLock&) = delete;
  MapLock& operator=(const MapLock&) = delete;

 private:
  std::atomic_ref<uint32_t> word_;
};

// A new MapData with the live entries of m and room for `capacity`.
MapData* rebuild(gc::Heap& heap, Map* m, uint32_t capacity) {
  MapData* nd = new_map_data(heap, capacity);
  MapData* od = m->data;
  if (od != nullptr) {
    MapEntry* src = od->entries();
    MapEntry* dst = nd->entries();
    for (uint32_t i = 0; i < od->used; i++) {
      if (src[i].key.is_empty()) continue;
      dst[nd->used] = src[i];
      index_add(nd, hash_key(src[i].key), int32_t(nd->used));
      nd->used++;
    }
  }
  return nd;
}

}  // namespace

void fatal_out_of_memory(size_t bytes) {
  std::fprintf(stderr, "runtime: allocating %zu bytes\n", bytes);
  fatal("out of memory");
}

// floor(d) is an int64 whenever -2^63 <= d < 2^63, so i compares with it
// as ints; equal, d's fraction decides.
int compare_int_float(int64_t i, double d) {
  if (d != d) return 2;
  if (d >= 0x1p63) return -1;
  if (d < -0x1p63) return 1;
  double f = std::floor(d);
  int64_t fi = int64_t(f);
  if (i != fi) return i < fi ? -1 : 1;
  return f == d ? 0 : -1;
}

bool values_equal_slow(Value a, Value b) {
  if (is_number(a) && is_number(b)) {
    if (is_int(a) && is_int(b)) return int_of(a) == int_of(b);
    if (is_int(a)) return compare_int_float(int_of(a), b.as_double()) == 0;
    if (is_int(b)) return compare_int_float(int_of(b), a.as_double()) == 0;
    return a.as_double() == b.as_double();
  }
  if (is_type(a, ObjType::String) && is_type(b, ObjType::String)) {
    return as_string(a)->view() == as_string(b)->view();
  }
  return false;
}

uint32_t hash_key(Value k) {
  if (k.is_inline_int()) return mix64(uint64_t(k.as_inline_int()));
  if (k.is_obj()) {
    Obj* o = k.as_obj();
    if (o->type == ObjType::String) {
      String* s = static_cast<String*>(o);
      std::atomic_ref<uint32_t> cached(s->hash);  // see String::hash
      if (uint32_t h = cached.load(std::memory_order_relaxed); h != 0) return h;
      uint32_t h = fnv1a(s->data, s->len);
      if (h == 0) h = 1;
      cached.store(h, std::memory_order_relaxed);
      return h;
    }
    return mix64(uint64_t(static_cast<BigInt*>(o)->value));
  }
  return mix64(k.bits());
}

// ---- maps ----

Value map_get(Map* m, Value key) {
  MapData* d = load_acquire(m->data);
  if (d == nullptr) return Value::empty();
  int32_t e = find_entry(d, key, hash_key(key));
  return e < 0 ? Value::empty() : d->entries()[e].value;
}

void map_set(gc::Heap& heap, Map* m, Value key, Value v) {
  uint32_t h = hash_key(key);
  MapLock lock(m);
  MapData* d = m->data;
  if (d != nullptr) {
    int32_t e = find_entry(d, key, h);
    if (e >= 0) {
      d->entries()[e].value = v;
      return;
    }
  }
  if (d == nullptr || d->used == d->capacity) {
    uint32_t cap = m->count < 2 ? 4 : m->count * 2;
    d = rebuild(heap, m, cap);
    std::atomic_ref<MapData*>(m->data).store(d, std::memory_order_release);
  }
  MapEntry& en = d->entries()[d->used];
  en.value = v;
  en.key = key;
  index_add(d, h, int32_t(d->used));
  std::atomic_ref<uint32_t>(d->used).store(d->used + 1, std::memory_order_release);
  m->count++;
}

Value map_get_miss(Map* m, Value key, uint32_t* hint) {
  MapData* d = load_acquire(m->data);
  if (d == nullptr) return Value::empty();
  int32_t e = find_entry(d, key, hash_key(key));
  if (e < 0) return Value::empty();
  std::atomic_ref<uint32_t>(*hint).store(uint32_t(e), std::memory_order_relaxed);
  return d->entries()[e].value;
}

void map_set_hinted(gc::Heap& heap, Map* m, Value key, Value v, uint32_t* hint) {
  std::atomic_ref<uint32_t> h(*hint);
  MapData* d = load_acquire(m->data);
  if (d != nullptr) {
    uint32_t e = h.load(std::memory_order_relaxed);
    if (e < load_acquire(d->used) && d->entries()[e].key == key) {
      d->entries()[e].value = v;
      return;
    }
    if (int32_t f = find_entry(d, key, hash_key(key)); f >= 0) h.store(uint32_t(f), std::memory_order_relaxed);
  }
  map_set(heap, m, key, v);
}

bool map_delete(Map* m, Value key) {
  MapLock lock(m);
  MapData* d = m->data;
  if (d == nullptr) return false;
  int32_t e = find_entry(d, key, hash_key(key));
  if (e < 0) return false;
  d->entries()[e].key = Value::empty();
  d->entries()[e].value = Value::nil();
  m->count--;
  return true;
}

int64_t map_next(Map* m, int64_t i, MapEntry* out) {
  MapData* d = load_acquire(m->data);
  if (d == nullptr) return -1;
  MapEntry* entries = d->entries();
  for (int64_t used = load_acquire(d->used); i < used; i++) {
    MapEntry en = entries[i];
    if (en.key.is_empty()) continue;
    if (out != nullptr) *out = en;
    return i;
  }
  return -1;
}

// ---- arrays ----

Array::Items scanned_items(gc::Heap& heap, Array* a) {
  Array::Items it = a->items();
  if (!it.numeric) return it;
  Store* ns = copy_store(heap, it.items, std::min(a->len, it.capacity), it.capacity, false);
  a->store = ns;
  return {ns->items, ns->capacity, false};
}

bool array_set_slow(gc::Heap& heap, Array* a, int64_t i, Value v) {
  if (uint64_t(i) >= a->len) return false;
  Array::Items it = v.is_obj() ? scanned_items(heap, a) : a->items();
  if (uint64_t(i) >= it.capacity) return false;
  it.items[i] = v;
  return true;
}

// Growth makes the new store numeric when the old items were numeric or
// inline and neither they nor v refer to an object.
void array_push(gc::Heap& heap, Array* a, Value v) {
  Array::Items it = a->items();
  uint32_t len = a->len;
  if (len >= it.capacity) {
    uint32_t cap = it.capacity < 4 ? 4 : it.capacity * 2;
    bool numeric = !v.is_obj() && (it.numeric || it.items == a->inline_items);
    Store* ns = copy_store(heap, it.items, len, cap, numeric);
    a->store = ns;
    it = {ns->items, cap, (ns->flags & kStoreNumeric) != 0};
  } else if (it.numeric && v.is_obj()) {
    it = scanned_items(heap, a);
  }
  it.items[len] = v;
  a->len = len + 1;
}

// ---- host objects ----

HostObject* new_host_object(gc::Heap& heap, const HostClass* cls, void* data, uint32_t nslots) {
  size_t bytes = sizeof(HostObject) + size_t(nslots) * sizeof(Value);
  HostObject* o = new_object<HostObject>(heap, ObjType::Host, bytes, false);
  o->nslots = nslots;
  o->cls = cls;
  o->data = data;
  for (uint32_t i = 0; i < nslots; i++) o->slots[i] = Value::nil();  // zeroed memory is no Value
  return o;
}

void host_slot_set(gc::Heap& heap, HostObject* o, uint32_t i, Value v) {
  (void)heap;  // the write barrier's (a generational collector's remembered set)
  std::atomic_ref<Value>(o->slots[i]).store(v, std::memory_order_relaxed);
}

}  // namespace weft
