// Heap objects. Every object starts with a 4-byte Obj header and lives in
// the bdwgc heap (vm/gc/heap.h): pointer-free ones (strings, boxed ints) in
// the atomic kind, the rest in the normal kind. Objects hold Values or raw
// pointers to other objects; bdwgc scans them conservatively, which is exact
// for the value encoding (vm/core/value.h).
//
// Race safety (goroutines run in parallel): an Array's items have a fixed
// capacity: they start inline in the Array, and growth moves them to a
// Store that is replaced, never resized, on further growth; a reader loads
// the store pointer once and bounds-checks against the capacity of the items
// it chose, so a racing push can lose an element but never expose freed or
// foreign memory. len too may exceed that capacity (a slower push installs
// its smaller store after a faster one grew the array and set len), so
// whatever walks the items takes min(len, capacity) of the items it read
// (array_get, and Array::live for everything that walks more than one).
// Maps are changed only under their per-map lock (vm/core/object.cpp);
// readers take no lock and see a consistent, if stale, MapData.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "vm/core/value.h"

namespace weft {

struct Proto;
struct Thread;

enum class ObjType : uint8_t {
  String,
  BigInt,   // a 64-bit int outside Value's inline range
  Array,
  Store,    // an Array's backing store (never script-visible)
  Map,
  MapData,  // a Map's entries and index (never script-visible)
  Closure,
  Cell,     // a captured variable (never script-visible)
  Native,
  WeakRef,
  Channel,  // vm/sched/chan.h
  StrBuf,   // the bytes of slice strings (never script-visible)
  Host,     // a host object (the embedding API's userdata: HostObject below)
};

// The header. The first word of a scanned object (type, flags, aux and the
// derived type's first 32-bit field) never looks like an object start to the
// collector: its low byte is the type, and no scanned type is 0 mod 16.
struct Obj {
  ObjType type;
  uint8_t flags;
  uint16_t aux;  // per type: Array: the capacity of its inline items
  void init(ObjType t) {
    type = t;
    flags = 0;
    aux = 0;
  }
};

// Obj::flags of a slice String: its bytes are the first `len` of a StrBuf's
// rather than following its header, so that `s = s + x` can append in
// place (vm/core/object.cpp: concat_strings). A slice is a scanned object
// (it refers to its StrBuf), 24 bytes, and never caches its hash: the
// first word of a scanned object must not look like a pointer, and the
// hash would sit in its high half.
constexpr uint8_t kStringSlice = 1;

// The bytes under slice strings: each slice over it is a prefix of the
// first `claimed` bytes, and an append claims the bytes after the longest
// one with a compare-and-swap (concat_strings). Bytes past `claimed` are
// no string's yet. Pointer-free (the atomic kind).
struct StrBuf : Obj {
  uint32_t claimed;   // grows only, by compare-and-swap
  uint32_t capacity;
  char bytes[];       // capacity bytes
};

struct String : Obj {
  // 0: not computed yet. A cache that any goroutine hashing the string may
  // fill, even with no script-level race (two maps sharing a constant key):
  // read and written through relaxed atomic_refs (hash_key); every writer
  // stores the same value. Always 0 in a slice (kStringSlice).
  uint32_t hash;
  uint32_t len;
  // Flat (most strings): len bytes and a NUL, so data can be handed to C.
  // A slice: 4 bytes of padding, then its StrBuf* (offset 16, aligned);
  // its bytes have no NUL after them. Read through chars() or view().
  char data[];
  bool is_slice() const { return (flags & kStringSlice) != 0; }
  StrBuf* slice_buf() const { return *reinterpret_cast<StrBuf* const*>(data + 4); }
  const char* chars() const { return is_slice() ? slice_buf()->bytes : data; }
  std::string_view view() const { return {chars(), len}; }
};
constexpr size_t kSliceStringBytes = 24;  // String's header, padding, a StrBuf*

struct BigInt : Obj {
  int64_t value;
};

// Obj::flags of a numeric Store: allocated pointer-free, so the collector
// does not scan it (array(500000, 0.0) costs nothing to mark). It holds
// numbers, nil and booleans only: storing a value that refers to an object
// first moves the items to a scanned store (array_set_slow, array_push).
// Growth keeps a store numeric while no object is stored.
constexpr uint8_t kStoreNumeric = 1;

struct Store : Obj {
  uint32_t capacity;
  Value items[];
};

// An array's items are inline (store == nullptr, capacity Obj::aux) until it
// outgrows them; then they live in `store`. Most arrays never grow, and one
// object per array halves the collector's work for trees of small arrays.
struct Array : Obj {
  static constexpr uint32_t kMaxInline = UINT16_MAX;  // larger arrays start in a Store
  uint32_t len;      // <= the capacity of the items in use, once published
  Store* store;      // nullptr: the items are inline_items
  Value inline_items[];

  struct Items {
    Value* items;
    uint32_t capacity;
    bool numeric;  // a kStoreNumeric store: no object may be written to it
  };
  // The items in use, from one read of `store` (see Race safety above).
  Items items() const {
    Store* s = store;
    if (s == nullptr) return {const_cast<Value*>(inline_items), aux, false};
    return {s->items, s->capacity, (s->flags & kStoreNumeric) != 0};
  }
  // The items in use and how many of them are live: len read once and
  // bounded by the items read, as a racing push may have moved len past
  // them (it grew the array into a store of its own). Every reader or
  // writer of more than one item takes its bound from here.
  uint32_t live(Items* it) const {
    *it = items();
    uint32_t n = len;
    return n < it->capacity ? n : it->capacity;
  }
};

// An insertion-ordered hash map: entries in insertion order (a deleted one
// has key == empty), and an open-addressed index of entry numbers.
// A string key of at most 7 bytes is also held in the entry (short_key), so
// a lookup of such a key compares one word of the entry and never loads the
// key itself (bench/compare/wordfreq.wf: half the time of a hit waited on
// the key's header).
struct MapEntry {
  Value key;
  Value value;
  uint64_t short_key;  // short_key_of(key), or 0: a longer or non-string key, a deleted entry
};
// An index slot is kMapSlotFree or an entry number tagged with hash bits
// the slot's position does not use (vm/core/object.cpp: slot_for).
constexpr uint32_t kMapSlotFree = UINT32_MAX;
struct MapData : Obj {
  uint32_t capacity;  // entries
  uint32_t used;      // entries written, deleted ones included
  uint32_t index_size;  // a power of two >= 2 * capacity
  // MapEntry entries[capacity]; then uint32_t index[index_size]
  MapEntry* entries() { return reinterpret_cast<MapEntry*>(this + 1); }
  uint32_t* index() { return reinterpret_cast<uint32_t*>(entries() + capacity); }
};
struct Map : Obj {
  uint32_t count;  // live entries; written under `lock`
  uint32_t lock;   // the per-map writer lock (vm/core/object.cpp): 0 free, 1 held
  MapData* data;   // replaced (published with a release store) under `lock`
};

struct Cell : Obj {
  Value value;
};

struct Closure : Obj {
  Proto* proto;
  uint32_t nupvals;
  Cell* upvals[];
};

// A builtin or host function. It reads its arguments, returns its result,
// or calls Thread::raise and returns Value::empty(). A native never
// collects: when its allocation crosses the pacer's trigger it only posts a
// request that the next safe-point honours, so it needs no rooting. A native
// that calls back into Weft must not keep `args` across the call (the VM
// stack may move); it re-reads them through the Thread.
using NativeFn = Value (*)(Thread* t, Value* args, int nargs);
constexpr uint8_t kNativePcall = 1;  // Obj::flags of pcall's Native: CALL runs it in place
// Obj::flags of a blocking native (the embedding API's blocking host calls):
// CALL runs it as a system call (sched::entersyscall/exitsyscall), so its P
// goes to other goroutines while it blocks. It gets a copy of its arguments
// (objects stay alive: the caller's registers hold them, and objects never
// move); while it runs it holds no P, so it must not allocate, raise, or
// call back into Weft, and it returns an immediate value (nil, bool, an
// inline int, a float). A native that needs more brackets only its
// blocking part with entersyscall/exitsyscall itself, as readline() does.
constexpr uint8_t kNativeBlocking = 2;
// Every call path leaves the callee just below the arguments (args[-1] is
// the Native), so a native bound to a value (fs.open's file methods) finds
// its `data` through native_self(args).
struct Native : Obj {
  NativeFn fn;
  const char* name;
  int16_t min_args;
  int16_t max_args;  // -1: any number
  Value data;        // what the native is bound to, or nil; traced (a Native is scanned)
};

// The target is held as a bdwgc "disappearing link": stored hidden (bit
// flipped) so the collector does not see it as a reference, and cleared
// when the target dies.
struct WeakRef : Obj {
  uintptr_t hidden;  // ~target, or 0 once cleared
  Value value;       // a non-heap value is held directly (strongly)
};

// A host object's registered type (VM::define_type, vm/api/api_object.cpp),
// as the interpreter needs it: the name type() gives and print writes
// (`<NAME>`), and the methods that reading a field of the object binds
// (`obj.name` is a new Native calling `fn` with the object in its `data`).
// Made by the embedding API, which keeps it alive as long as its Runtime;
// immutable once an object of it exists.
struct HostMethod {
  std::string name;   // the field: `obj.NAME(...)`
  std::string qualified;  // "TYPE.NAME": the bound native's name in errors and tracebacks
  NativeFn fn;        // a host native's trampoline (vm/api/api_native.cpp)
  int16_t min_args;
  int16_t max_args;   // -1: any number
};
struct HostClass {
  std::string name;
  std::vector<HostMethod> methods;
  const HostMethod* find(std::string_view field) const {
    for (const HostMethod& m : methods) {
      if (m.name == field) return &m;
    }
    return nullptr;
  }
};

// A host object: a script value the host made (VM::new_object). Compared
// by identity, not a valid map key. `cls` and `data` point outside the
// collected heap, so the collector's scan ignores them (a pointer retains
// only an object start of bdwgc's heap). `slots` are traced: script values
// the host keeps in the object, so a cycle through a host object and
// script data is collected like any other. Every store into a slot goes
// through host_slot_set (vm/core/objops.h). The object's finalizer, if
// any, is the embedding API's (vm/api/api_object.cpp).
struct HostObject : Obj {
  uint32_t nslots;
  const HostClass* cls;  // valid while the owning Runtime lives
  void* data;            // the host's; never dereferenced by the VM
  Value slots[];         // nslots values, nil when made
};

// Layouts the code relies on: no padding in the headers, and whatever
// follows a header 8-byte aligned (bdwgc scans aligned words only).
static_assert(sizeof(Obj) == 4);
static_assert(sizeof(String) == 12 && sizeof(Store) == 8 && sizeof(Array) == 16);
static_assert(sizeof(MapData) % 8 == 0);
static_assert(sizeof(HostObject) == 24);

inline bool is_type(Value v, ObjType t) { return v.is_obj() && v.as_obj()->type == t; }
inline String* as_string(Value v) { return static_cast<String*>(v.as_obj()); }
inline Array* as_array(Value v) { return static_cast<Array*>(v.as_obj()); }
inline Map* as_map(Value v) { return static_cast<Map*>(v.as_obj()); }
// The running native, from inside its NativeFn (see Native).
inline Native* native_self(const Value* args) { return static_cast<Native*>(args[-1].as_obj()); }
inline Closure* as_closure(Value v) { return static_cast<Closure*>(v.as_obj()); }
inline Native* as_native(Value v) { return static_cast<Native*>(v.as_obj()); }
inline Cell* as_cell(Value v) { return static_cast<Cell*>(v.as_obj()); }
inline HostObject* as_host_object(Value v) { return static_cast<HostObject*>(v.as_obj()); }

inline bool is_int(Value v) { return v.is_inline_int() || is_type(v, ObjType::BigInt); }
inline int64_t int_of(Value v) {  // requires is_int(v)
  return v.is_inline_int() ? v.as_inline_int() : static_cast<BigInt*>(v.as_obj())->value;
}
inline bool is_number(Value v) { return is_int(v) || v.is_double(); }
inline double number_of(Value v) {  // requires is_number(v)
  return v.is_double() ? v.as_double() : double(int_of(v));
}

}  // namespace weft
