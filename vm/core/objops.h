// Operations on heap objects shared by the interpreter and the builtins:
// equality, map keys and lookup, array growth, and making objects. They
// allocate from a gc::Heap and never collect (vm/gc/heap.h).
#pragma once

#include <atomic>
#include <bit>
#include <cstdint>
#include <cstring>

#include "vm/core/fatal.h"
#include "vm/core/object.h"
#include "vm/gc/heap.h"

namespace weft {

[[noreturn]] void fatal_out_of_memory(size_t bytes);

// `bytes` from heap (zeroed unless atomic: pointer-free memory is not);
// running out is fatal. Heap::alloc posts a collection request (poisoning
// the running goroutine's guard) when one is due.
inline void* alloc_or_die(gc::Heap& heap, size_t bytes, bool atomic) {
  void* p = heap.alloc(bytes, atomic);
  if (p == nullptr) fatal_out_of_memory(bytes);
  return p;
}

// A new object of type T, its header set.
template <typename T>
T* new_object(gc::Heap& heap, ObjType type, size_t bytes, bool atomic) {
  T* o = static_cast<T*>(alloc_or_die(heap, bytes, atomic));
  o->init(type);
  return o;
}

// An array's store of `capacity` items (nil), pointer-free when numeric;
// a map's entries and index for `capacity` entries.
Store* new_store(gc::Heap& heap, uint32_t capacity, bool numeric);
MapData* new_map_data(gc::Heap& heap, uint32_t capacity);

constexpr uint64_t kNanBits = 0x7FF8000000000000ull + Value::kDoubleOffset;  // Value::number(NaN)

// An int against a float, exactly (README.md#the-language-in-brief, as Lua 5.4's
// LTnum): -1 if i < d, 0 if equal, 1 if i > d, 2 if d is NaN (unordered).
// Converting i to a double instead would round 2^53 + 1 to 2^53.
int compare_int_float(int64_t i, double d);

// The language's `==` (README.md#the-language-in-brief): numbers by value
// (1 == 1.0, exactly: 2^53 + 1 != 2^53 + 0.0; NaN != NaN), strings by
// content, everything else by identity.
bool values_equal_slow(Value a, Value b);
inline bool values_equal(Value a, Value b) {
  if (a == b) return a.bits() != kNanBits;
  if (a.is_inline_int() && b.is_inline_int()) return false;
  if (a.is_immediate() || b.is_immediate()) return false;  // `t[0] == nil` and the like
  return values_equal_slow(a, b);
}

// Map keys: strings, ints and bools.
inline bool is_valid_key(Value k) {
  if (k.is_obj()) return k.as_obj()->type == ObjType::String || k.as_obj()->type == ObjType::BigInt;
  return k.is_inline_int() || k.is_bool();
}
uint32_t hash_key(Value k);  // caches a string's hash in String::hash

// A string of at most kShortString bytes as one word: byte i at bits 8i
// to 8i+7, len + 1 in the top byte (so "a" and "a\0" differ), never 0.
// Reads only its bytes (those after a String are another object's), with
// loads: copying them into a word on the stack and loading that (a memcpy
// of n bytes) made the load wait for the byte stores, a failed
// store-to-load forward that was 70% of the time of the map lookups' use
// of it (bench/compare/wordfreq.wf). MapEntry::short_key is its
// complement (vm/core/object.cpp).
constexpr size_t kShortString = 7;
inline uint64_t short_string_word(const char* p, size_t n) {  // n <= kShortString
  static_assert(std::endian::native == std::endian::little);   // byte i at bits 8i
  auto byte = [p](size_t i) { return uint64_t(uint8_t(p[i])) << (8 * i); };
  auto word32 = [p](size_t i) {
    uint32_t w;
    std::memcpy(&w, p + i, 4);  // one load: the size is constant
    return uint64_t(w) << (8 * i);
  };
  uint64_t w = n >= 4 ? word32(0) | word32(n - 4)  // the overlap's bytes agree
                      : n == 0 ? 0 : byte(0) | byte(n / 2) | byte(n - 1);
  return w | (uint64_t(n) + 1) << 56;
}

// Lookup: the value, or Value::empty() when absent. `key` must be valid.
Value map_get(Map* m, Value key);
// Insert or update; may allocate a larger MapData. `key` must be valid.
// Every store here that may write an object into an existing object calls
// gc::write_barrier (vm/gc/barrier.h); callers writing items directly
// (Array::items()) call it themselves.
void map_set(gc::Heap& heap, Map* m, Value key, Value v);

// Inline caches of GETFIELD and SETFIELD (Proto::field_hints): *hint is
// the entry number where the instruction last found its key. Maps built
// alike (one literal, one constructor) keep a key at the same entry, so
// one compare of the entry's key with the constant (one String per text:
// Runtime::string_constant) finds it; any other map, a deleted key or a
// rebuilt MapData fails the compare and takes the hashed lookup, which
// updates the hint. Racing goroutines may overwrite each other's hints:
// a hint is only ever checked, never trusted.
Value map_get_miss(Map* m, Value key, uint32_t* hint);
inline Value map_get_hinted(Map* m, Value key, uint32_t* hint) {
  MapData* d = std::atomic_ref<MapData*>(m->data).load(std::memory_order_acquire);
  if (d != nullptr) {
    uint32_t e = std::atomic_ref<uint32_t>(*hint).load(std::memory_order_relaxed);
    if (e < std::atomic_ref<uint32_t>(d->used).load(std::memory_order_acquire) && d->entries()[e].key == key)
      return d->entries()[e].value;
  }
  return map_get_miss(m, key, hint);
}
// map_set by a hint: an existing entry at the hinted number is updated in
// place without the writer lock (a write racing a rebuild may be lost, as
// any racing write may: docs/language.md#goroutines-and-channels);
// anything else is map_set's.
void map_set_hinted(gc::Heap& heap, Map* m, Value key, Value v, uint32_t* hint);
// map_set_hinted's hit, inline for SETFIELD: true when the hinted entry
// held `key` and now holds v; false (nothing done) otherwise. Allocates
// nothing.
inline bool map_set_hit(Map* m, Value key, Value v, uint32_t* hint) {
  MapData* d = std::atomic_ref<MapData*>(m->data).load(std::memory_order_acquire);
  if (d == nullptr) return false;
  uint32_t e = std::atomic_ref<uint32_t>(*hint).load(std::memory_order_relaxed);
  if (e >= std::atomic_ref<uint32_t>(d->used).load(std::memory_order_acquire) || d->entries()[e].key != key)
    return false;
  d->entries()[e].value = v;
  gc::write_barrier(&d->entries()[e], v);
  return true;
}
// The same for any key (SETINDEX): true when entry e holds a key equal
// to `key` and now holds v. The interpreter passes the entry where its
// thread's last map read found its key (Thread::map_hint), so that
// m[k] = m[k] + 1 looks k up once.
bool map_set_at(Map* m, Value key, Value v, uint32_t e);
bool map_delete(Map* m, Value key);
// The first live entry at or after position i, or -1; copies it to *out
// (read from the same MapData, so it is safe under a racing writer).
int64_t map_next(Map* m, int64_t i, MapEntry* out = nullptr);

// a + b for strings, the caller having checked that the length fits a
// String. Repeated appends (`s = s + x` in a loop) take amortized time in
// the appended bytes: a result of 128 bytes or more is a slice of a StrBuf
// with room to grow (object.h: kStringSlice), and appending to the slice
// that ends the buffer's claimed bytes writes in place. The design comment
// of object.cpp's strings part says why this and not ropes.
String* concat_strings(gc::Heap& heap, const String* a, const String* b);

// Appends, replacing the store (never resizing it) when full.
void array_push(gc::Heap& heap, Array* a, Value v);
// a[i] = v for any v: array_set, after moving a numeric store's items to a
// scanned one if v refers to an object. False if i is out of range.
bool array_set_slow(gc::Heap& heap, Array* a, int64_t i, Value v);
// The items of a, moved to a scanned store first if they are numeric: the
// caller is about to write values that may refer to objects.
Array::Items scanned_items(gc::Heap& heap, Array* a);
// Element i, i < a->len checked against the items actually read.
inline bool array_get(Array* a, int64_t i, Value* out) {
  if (uint64_t(i) >= a->len) return false;
  Array::Items it = a->items();
  if (uint64_t(i) >= it.capacity) return false;
  *out = it.items[i];
  return true;
}
// False also when v refers to an object and the store is numeric
// (array_set_slow then does the store).
inline bool array_set(Array* a, int64_t i, Value v) {
  if (uint64_t(i) >= a->len) return false;
  Array::Items it = a->items();
  if (uint64_t(i) >= it.capacity || (it.numeric && v.is_obj())) return false;
  it.items[i] = v;
  gc::write_barrier(&it.items[i], v);  // vm/gc/barrier.h
  return true;
}

// A host object of class cls (vm/core/object.h) with nslots nil slots.
HostObject* new_host_object(gc::Heap& heap, const HostClass* cls, void* data, uint32_t nslots);
// Slot i (< nslots) of a host object. Any thread that keeps the object
// alive: the embedding API stores from host threads too, so each slot is
// one atomic word (a racing reader sees an old or a new value, never a torn
// one). host_slot_set is the ONE store into a slot after the object is
// made, and it calls the write barrier (vm/gc/barrier.h).
inline Value host_slot_get(const HostObject* o, uint32_t i) {
  return std::atomic_ref<Value>(const_cast<Value&>(o->slots[i])).load(std::memory_order_relaxed);
}
void host_slot_set(HostObject* o, uint32_t i, Value v);

}  // namespace weft
