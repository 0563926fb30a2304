// The v2 array helpers (docs/language.md#collections): insert, remove,
// index_of, reverse, copy, extend. Globals, but declared and checked like
// a module's functions (lib.h), so their errors read
// `insert: argument 1 must be an array, got int`.
//
// Race safety (vm/core/object.h): an array's len and store are read once
// and bounded by each other, so a goroutine racing on the same array sees
// some order of the operations, never memory outside the items.
#include <algorithm>
#include <cstring>

#include "vm/core/objops.h"
#include "vm/lib/lib.h"

namespace weft::lib {

namespace {

Value out_of_range(Thread* t, const char* fname, int64_t i, uint32_t len) {
  t->raise("%s: index out of range [%lld] with length %u", fname, (long long)i, len);
  return Value::empty();
}

// insert(a, i, v): before index i; i == len(a) appends.
Value b_insert(Thread* t, Value* args, int) {
  Array* a = as_array(args[0]);
  int64_t i = int_of(args[1]);
  Value v = args[2];
  uint32_t len = a->len;
  if (i < 0 || i > int64_t(len)) return out_of_range(t, "insert", i, len);
  array_push(t->rt->heap(), a, v);  // grows the store, scanned if v is an object
  Array::Items it;
  uint32_t n = a->live(&it);
  if (uint64_t(i) >= n) return Value::nil();
  std::memmove(it.items + i + 1, it.items + i, (n - 1 - size_t(i)) * sizeof(Value));
  it.items[i] = v;
  gc::write_barrier(it.items, v);  // moves within one object need none
  return Value::nil();
}

// remove(a, i): takes element i out and returns it.
Value b_remove(Thread* t, Value* args, int) {
  Array* a = as_array(args[0]);
  int64_t i = int_of(args[1]);
  Array::Items it;
  uint32_t n = a->live(&it);
  if (i < 0 || i >= int64_t(n)) return out_of_range(t, "remove", i, n);
  Value v = it.items[i];
  std::memmove(it.items + i, it.items + i + 1, (n - 1 - size_t(i)) * sizeof(Value));
  it.items[n - 1] = Value::nil();
  a->len = n - 1;
  return v;
}

// index_of(a, v): the first i with a[i] == v, or -1.
Value b_index_of(Thread* t, Value* args, int) {
  Array::Items it;
  uint32_t n = as_array(args[0])->live(&it);
  for (uint32_t i = 0; i < n; i++) {
    if (values_equal(it.items[i], args[1])) return t->rt->make_int(i);
  }
  return Value::inline_int(-1);
}

Value b_reverse(Thread*, Value* args, int) {
  Array::Items it;
  uint32_t n = as_array(args[0])->live(&it);
  std::reverse(it.items, it.items + n);
  return Value::nil();
}

Value copy_array(Thread* t, Array* a) {
  Array::Items it;
  uint32_t n = a->live(&it);
  if (!check_size(t, "copy", uint64_t(n) * sizeof(Value))) return Value::empty();
  Array* out = t->rt->new_array(n, n, it.numeric);
  std::memcpy(out->items().items, it.items, n * sizeof(Value));
  return obj(out);
}

Value copy_map(Thread* t, Map* m) {
  if (!check_size(t, "copy", uint64_t(m->count) * 3 * sizeof(MapEntry))) return Value::empty();
  Runtime& rt = *t->rt;
  Map* out = rt.new_map(m->count);
  MapEntry en;
  for (int64_t e = map_next(m, 0, &en); e >= 0; e = map_next(m, e + 1, &en)) map_set(rt.heap(), out, en.key, en.value);
  return obj(out);
}

// copy(x): a shallow copy of an array or a map (a map keeps its order).
Value b_copy(Thread* t, Value* args, int) {
  if (is_type(args[0], ObjType::Array)) return copy_array(t, as_array(args[0]));
  return copy_map(t, as_map(args[0]));
}

// extend(a, b): appends b's elements to a (extend(a, a) doubles a).
Value b_extend(Thread* t, Value* args, int) {
  Array* a = as_array(args[0]);
  Array* b = as_array(args[1]);
  Array::Items it;
  uint32_t n = b->live(&it);
  if (!check_size(t, "extend", (uint64_t(a->len) + n) * sizeof(Value))) return Value::empty();
  for (uint32_t i = 0; i < n; i++) {
    Value v;
    if (!array_get(b, i, &v)) break;  // b shrank under a racing goroutine (or is a, and moved)
    array_push(t->rt->heap(), a, v);
  }
  return Value::nil();
}

constexpr Fn kFns[] = {
    {"insert", b_insert, "aix"},  {"remove", b_remove, "ai"}, {"index_of", b_index_of, "ax"},
    {"reverse", b_reverse, "a"},  {"copy", b_copy, "[am]"},   {"extend", b_extend, "aa"},
};

constexpr char kGlobal[] = "";

}  // namespace

extern const Module kArrayBuiltins = make_module<kGlobal, kFns>();

}  // namespace weft::lib
