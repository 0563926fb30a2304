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
// An index slot also holds the bits of the key's hash above those that
// choose its position (the entry number needs fewer bits than the position:
// capacity <= index_size / 2), so a probe passes over a slot of another key
// without loading its entry or its key's bytes: a lookup of a string built
// at run time (bench/compare/wordfreq.wf: 3 cache misses a hit, one more
// entry and string per collision before) pays for the collisions no more.
// Rejected: 64-bit slots with the whole hash (a third more map memory for
// bits that filter nothing more at these load factors) and interning every
// short string (a global table every string allocation would probe, and
// that the collector would have to sweep).
// The index is never edited in place except to add a slot: when the entries
// fill up, a new MapData is built from the live entries (compacting
// tombstones) and published with one pointer store, which keeps a racing
// reader on a consistent, if stale, snapshot. Rejected: Lua-style chained
// nodes (no insertion order) and Python's split index/entries allocations
// (two objects per map for no gain at these sizes).
//
// Races (goroutines share maps): writers (map_set, map_delete) hold the
// map's lock, a spinlock word in the Map. The holder is runtime code that
// never reaches a safe-point (allocation never collects or parks) and
// refuses asynchronous preemption (MapLock below), so it is never
// preempted while holding it and the critical sections are short.
// Readers take no lock: every store a reader depends on is a release (the
// entry before its index slot, the index slot, `used`, the new MapData), so
// a reader sees a consistent MapData, perhaps a stale one. Rejected: a lock
// for readers too (an uncontended atomic on every field read) and a
// reader-writer lock (the same cost).
#include <atomic>
#include <bit>
#include <cmath>
#include <cstdio>
#include <thread>
#include <cstdlib>
#include <cstring>

#include "vm/core/fatal.h"
#include "vm/core/objops.h"
#include "vm/gc/barrier.h"
#include "vm/sched/sched.h"

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
// len <= capacity, and len <= the source's capacity: the caller bounds it
// by the items it read (Race safety, object.h).
namespace {

Store* copy_store(gc::Heap& heap, const Value* items, uint32_t len, uint32_t capacity, bool numeric) {
  if (len > capacity) fatal("copy_store: more items than the store holds");
  Store* s = new_store(heap, capacity, numeric);
  if (len > 0) std::memcpy(s->items, items, len * sizeof(Value));
  if (numeric && std::any_of(s->items, s->items + len, [](Value v) { return v.is_obj(); })) {
    Store* scanned = new_store(heap, capacity, false);
    std::memcpy(scanned->items, s->items, len * sizeof(Value));
    s = scanned;
  }
  return s;
}

uint32_t mix64(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  return uint32_t(x);
}

// Loads without a call to memcpy (the size is constant).
uint64_t load64(const char* p) {
  uint64_t w;
  std::memcpy(&w, p, 8);
  return w;
}
uint32_t load32(const char* p) {
  uint32_t w;
  std::memcpy(&w, p, 4);
  return w;
}

// The last 1 to 8 bytes of a string as one word, reading only them (the
// bytes after a String are another object's): overlapping loads when
// there are 4 or more, three byte loads when fewer.
uint64_t tail_word(const char* p, size_t n) {
  if (n >= 4) return (uint64_t(load32(p)) << 32) | load32(p + n - 4);
  return (uint64_t(uint8_t(p[0])) << 16) | (uint64_t(uint8_t(p[n / 2])) << 8) | uint8_t(p[n - 1]);
}

// A string's bytes, 8 at a time: each word is folded in by a multiply and a
// rotate, the last 1 to 8 bytes as one more word, and the result mixed so
// that every input bit reaches the low bits that pick an index slot. The
// length is folded in first, so tails that read alike differ. Replaces
// FNV-1a, which spent a multiply per byte. Not keyed: maps make no promise
// against chosen collisions (docs/language.md).
uint32_t hash_bytes(const char* p, size_t n) {
  constexpr uint64_t kMul = 0x9e3779b97f4a7c15ull;  // 2^64 / golden ratio: odd, bits well spread
  uint64_t h = (uint64_t(n) + 1) * kMul;
  if (n == 0) return mix64(h);
  size_t i = 0;
  for (; n - i > 8; i += 8) h = std::rotl((h ^ load64(p + i)) * kMul, 29);
  h = std::rotl((h ^ tail_word(p + i, n - i)) * kMul, 29);
  return mix64(h);
}

// Two strings' bytes. Keys are mostly short: a loop beats a call to memcmp.
bool same_string(const String* a, const String* b) {
  if (a->len != b->len) return false;
  uint32_t ha = std::atomic_ref<const uint32_t>(a->hash).load(std::memory_order_relaxed);  // see String::hash
  uint32_t hb = std::atomic_ref<const uint32_t>(b->hash).load(std::memory_order_relaxed);
  if (ha != 0 && hb != 0 && ha != hb) return false;
  const char* x = a->chars();
  const char* y = b->chars();
  if (a->len > 16) return std::memcmp(x, y, a->len) == 0;
  for (uint32_t i = 0; i < a->len; i++) {
    if (x[i] != y[i]) return false;
  }
  return true;
}

// MapEntry::short_key: short_string_word (vm/core/objops.h) inverted,
// so that its top byte is 0xf7 or more: the word is never 0 and never
// looks like a pointer to the collector, which scans map entries
// conservatively. 0 for any other key: no short string's word matches it.
uint64_t short_key_of(Value k) {
  if (!k.is_obj() || k.as_obj()->type != ObjType::String) return 0;
  const String* s = as_string(k);
  return s->len <= kShortString ? ~short_string_word(s->chars(), s->len) : 0;
}

bool keys_equal(Value a, Value b) {
  if (a == b) return true;
  if (!a.is_obj() || !b.is_obj() || a.as_obj()->type != b.as_obj()->type) return false;
  if (a.as_obj()->type == ObjType::String) return same_string(as_string(a), as_string(b));
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
  size_t bytes = sizeof(MapData) + size_t(capacity) * sizeof(MapEntry) + size_t(isize) * sizeof(uint32_t);
  MapData* d = new_object<MapData>(heap, ObjType::MapData, bytes, false);
  d->capacity = capacity;
  d->used = 0;
  d->index_size = isize;
  std::memset(d->index(), 0xff, size_t(isize) * sizeof(uint32_t));  // kMapSlotFree
  return d;
}

namespace {

template <typename T>
T load_acquire(T& field) {
  return std::atomic_ref<T>(field).load(std::memory_order_acquire);
}

// The index slot of entry number `entry`, whose key hashes to h: the entry
// number in the bits below index_size, h's bits above them. Never
// kMapSlotFree: entry < capacity <= index_size / 2 leaves its top bit 0.
uint32_t slot_for(const MapData* d, uint32_t h, uint32_t entry) {
  return entry | (h & ~(d->index_size - 1));
}

// The entry number of `key`, or -1. A short string compares its
// short_key_of with the entries' (no load of their keys); any other key
// compares keys.
int32_t find_entry(MapData* d, Value key, uint32_t h) {
  uint32_t mask = d->index_size - 1;
  uint32_t tag = h & ~mask;
  uint32_t* index = d->index();
  MapEntry* entries = d->entries();
  uint64_t short_key = short_key_of(key);
  for (uint32_t i = h & mask;; i = (i + 1) & mask) {
    uint32_t slot = load_acquire(index[i]);
    if (slot == kMapSlotFree) return -1;
    if ((slot & ~mask) != tag) continue;  // another hash: no need to look at its key
    uint32_t e = slot & mask;
    if (short_key != 0 ? entries[e].short_key == short_key : keys_equal(entries[e].key, key)) return int32_t(e);
  }
}

void index_add(MapData* d, uint32_t h, int32_t entry) {
  uint32_t mask = d->index_size - 1;
  uint32_t* index = d->index();
  uint32_t i = h & mask;
  while (index[i] != kMapSlotFree) i = (i + 1) & mask;
  std::atomic_ref<uint32_t>(index[i]).store(slot_for(d, h, uint32_t(entry)), std::memory_order_release);  // after the entry
}

// The per-map writer lock. Not preemptible (see above), so spinning is
// bounded by a short critical section; yield after a while in case the
// holder's thread was descheduled by the OS. The holder counts itself in
// m->locks, as a channel lock does: the allocation fast path it calls
// (rebuild) is a restartable range that asynchronous preemption may
// otherwise stop in, whoever the caller, and a holder parked there would
// leave a writer on another P spinning where no stop can reach it.
class MapLock {
 public:
  explicit MapLock(Map* m) : word_(m->lock), m_(sched::getm()) {
    if (m_ != nullptr) m_->locks.fetch_add(1, std::memory_order_relaxed);
    for (int spins = 0; word_.exchange(1, std::memory_order_acquire) != 0;) {
      while (word_.load(std::memory_order_relaxed) != 0) {
        if (++spins > 100) std::this_thread::yield();
      }
    }
  }
  ~MapLock() {
    word_.store(0, std::memory_order_release);
    if (m_ != nullptr) m_->locks.fetch_sub(1, std::memory_order_relaxed);
  }
  MapLock(const MapLock&) = delete;
  MapLock& operator=(const MapLock&) = delete;

 private:
  std::atomic_ref<uint32_t> word_;
  sched::M* m_;
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
      uint32_t h = hash_bytes(s->chars(), s->len);
      if (h == 0) h = 1;
      if (!s->is_slice()) cached.store(h, std::memory_order_relaxed);  // see kStringSlice
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
      gc::write_barrier(&d->entries()[e], v);
      return;
    }
  }
  if (d == nullptr || d->used == d->capacity) {
    uint32_t cap = m->count < 2 ? 4 : m->count * 2;
    d = rebuild(heap, m, cap);  // fresh: its copied entries need no barrier
    std::atomic_ref<MapData*>(m->data).store(d, std::memory_order_release);
    gc::write_barrier(m);
  }
  MapEntry& en = d->entries()[d->used];
  en.value = v;
  en.key = key;
  en.short_key = short_key_of(key);
  if (v.is_obj() || key.is_obj()) gc::write_barrier(&en);
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
  if (map_set_hit(m, key, v, hint)) return;
  std::atomic_ref<uint32_t> h(*hint);
  if (MapData* d = load_acquire(m->data); d != nullptr) {
    if (int32_t f = find_entry(d, key, hash_key(key)); f >= 0) h.store(uint32_t(f), std::memory_order_relaxed);
  }
  map_set(heap, m, key, v);
}

bool map_set_at(Map* m, Value key, Value v, uint32_t e) {
  MapData* d = load_acquire(m->data);
  if (d == nullptr || e >= load_acquire(d->used)) return false;
  MapEntry& en = d->entries()[e];
  uint64_t short_key = short_key_of(key);
  if (short_key != 0 ? en.short_key != short_key : !keys_equal(en.key, key)) return false;
  en.value = v;
  gc::write_barrier(&en, v);
  return true;
}

bool map_delete(Map* m, Value key) {
  MapLock lock(m);
  MapData* d = m->data;
  if (d == nullptr) return false;
  int32_t e = find_entry(d, key, hash_key(key));
  if (e < 0) return false;
  d->entries()[e].short_key = 0;  // first: a racing reader then compares the key, which is going
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

// ---- strings ----
//
// Concatenation. Scripts cannot tell strings apart but by their bytes, so a
// result may share bytes with its operands as long as no string's bytes
// ever change. A long result is a slice (object.h: kStringSlice) of a
// StrBuf twice its length; `a + b` with a slice `a` that ends the buffer's
// claimed bytes claims the next b->len bytes with a compare-and-swap and
// writes b there, so a loop of `s = s + x` copies each byte O(1) times.
// Appending to an older string of the buffer (`t = s + "x"; u = s + "y"`)
// loses the race for the tail and copies, as does any append on a full
// buffer (into a new one twice the size). Rejected: ropes (every reader of
// bytes would flatten, and flattening allocates, in places that must not:
// map lookups under the map's lock, natives running without a P) and
// reference counts (CPython's in-place append needs to know the left
// operand is unshared; nothing here counts references).

namespace {

// Results shorter than this are flat: copying so few bytes costs less than
// a slice's indirection and its buffer's slack.
constexpr uint32_t kSliceMin = 128;

String* new_flat_string(gc::Heap& heap, uint32_t len) {
  String* s = new_object<String>(heap, ObjType::String, sizeof(String) + size_t(len) + 1, true);
  s->hash = 0;
  s->len = len;
  s->data[len] = '\0';
  return s;
}

String* new_slice(gc::Heap& heap, StrBuf* buf, uint32_t len) {
  String* s = new_object<String>(heap, ObjType::String, kSliceStringBytes, false);  // zeroed: hash 0
  s->flags = kStringSlice;
  s->len = len;
  *reinterpret_cast<StrBuf**>(s->data + 4) = buf;  // String::slice_buf
  return s;
}

// A buffer for a string of `len` bytes that will likely grow: twice that,
// so that n appends copy O(n) bytes in all; a quarter more past 64 MiB, so
// that a huge string does not ask for twice its size at once.
StrBuf* new_strbuf(gc::Heap& heap, uint32_t len) {
  uint64_t cap = len < (64u << 20) ? uint64_t(len) * 2 : uint64_t(len) + len / 4;
  cap = std::min<uint64_t>(cap, UINT32_MAX);
  StrBuf* b = new_object<StrBuf>(heap, ObjType::StrBuf, sizeof(StrBuf) + cap, true);
  b->claimed = len;
  b->capacity = uint32_t(cap);
  return b;
}

}  // namespace

String* concat_strings(gc::Heap& heap, const String* a, const String* b) {
  uint32_t len = a->len + b->len;  // the caller checked that it fits
  if (len < kSliceMin) {
    String* s = new_flat_string(heap, len);
    std::memcpy(s->data, a->chars(), a->len);
    std::memcpy(s->data + a->len, b->chars(), b->len);
    return s;
  }
  if (a->is_slice()) {
    // In place when a ends where its buffer's claimed bytes end and the
    // buffer has room: the bytes written are past every existing string's
    // end, so no string can see them change. b may be a slice of the same
    // buffer: then b->len <= a->len, and b's bytes lie before the write.
    StrBuf* buf = a->slice_buf();
    uint32_t end = a->len;
    if (len <= buf->capacity &&
        std::atomic_ref<uint32_t>(buf->claimed).compare_exchange_strong(end, len, std::memory_order_relaxed)) {
      std::memcpy(buf->bytes + a->len, b->chars(), b->len);
      return new_slice(heap, buf, len);
    }
  }
  StrBuf* buf = new_strbuf(heap, len);
  std::memcpy(buf->bytes, a->chars(), a->len);
  std::memcpy(buf->bytes + a->len, b->chars(), b->len);
  return new_slice(heap, buf, len);
}

// ---- arrays ----

Array::Items scanned_items(gc::Heap& heap, Array* a) {
  Array::Items it;
  uint32_t len = a->live(&it);
  if (!it.numeric) return it;
  Store* ns = copy_store(heap, it.items, len, it.capacity, false);
  a->store = ns;
  gc::write_barrier(a);
  return {ns->items, ns->capacity, false};
}

bool array_set_slow(gc::Heap& heap, Array* a, int64_t i, Value v) {
  if (uint64_t(i) >= a->len) return false;
  Array::Items it = v.is_obj() ? scanned_items(heap, a) : a->items();
  if (uint64_t(i) >= it.capacity) return false;
  it.items[i] = v;
  gc::write_barrier(&it.items[i], v);
  return true;
}

// Growth makes the new store numeric when the old items were numeric or
// inline and neither they nor v refer to an object.
void array_push(gc::Heap& heap, Array* a, Value v) {
  Array::Items it;
  // Array::live (Race safety, object.h): a push racing since the load
  // of the store may have moved len past these items (it grew the array
  // into a store of its own). Appending after the items read loses that
  // push's elements, as any race may, where len itself would copy past the
  // old store's end and write past the new one's (racy-script stress: a
  // map's data and bdwgc's free lists overwritten, 3 runs in 1,500 with
  // --preempt-stress on a loaded machine).
  uint32_t len = a->live(&it);
  if (len >= it.capacity) {
    uint32_t cap = it.capacity < 4 ? 4 : it.capacity * 2;
    bool numeric = !v.is_obj() && (it.numeric || it.items == a->inline_items);
    Store* ns = copy_store(heap, it.items, len, cap, numeric);
    a->store = ns;
    gc::write_barrier(a);
    it = {ns->items, cap, (ns->flags & kStoreNumeric) != 0};
  } else if (it.numeric && v.is_obj()) {
    it = scanned_items(heap, a);
  }
  it.items[len] = v;
  gc::write_barrier(&it.items[len], v);
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

void host_slot_set(HostObject* o, uint32_t i, Value v) {
  std::atomic_ref<Value>(o->slots[i]).store(v, std::memory_order_relaxed);
  gc::write_barrier(&o->slots[i], v);
}

}  // namespace weft
