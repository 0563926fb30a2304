// The builtin functions every script sees (README.md#the-language-in-brief).
//
// Every builtin is a NativeFn: it checks its arguments' types (its arity is
// checked by the caller from Native::min_args/max_args), returns its result,
// or raises on the thread and returns Value::empty(). Builtins never
// collect (allocation only posts requests), so they root nothing, except
// sort, which calls back into Weft and pins what it holds across the call.
// gc() parks its goroutine until a collection has run (see b_gc).
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <string>

#include "vm/interp/interp.h"
#include "vm/core/objops.h"
#include "vm/interp/runtime.h"
#include "vm/interp/chanops.h"
#include "vm/sched/preempt.h"
#include "vm/lib/lib.h"
#include "vm/lib/stdio.h"

namespace weft {

namespace {

Value obj(const void* o) { return Value::object(static_cast<const Obj*>(o)); }

Value str_value(Runtime& rt, std::string_view s) { return obj(rt.new_string(s)); }

// `NAME: expected TYPE, got TYPE`
Value bad_arg(Thread* t, const char* fname, const char* expected, Value got) {
  t->raise("%s: expected %s, got %s", fname, expected, type_name(got));
  return Value::empty();
}

bool want(Thread* t, const char* fname, Value v, ObjType type, const char* tname) {
  if (is_type(v, type)) return true;
  bad_arg(t, fname, tname, v);
  return false;
}

bool want_int(Thread* t, const char* fname, Value v, int64_t* out) {
  if (!is_int(v)) {
    bad_arg(t, fname, "int", v);
    return false;
  }
  *out = int_of(v);
  return true;
}

Value index_error(Thread* t, int64_t i, size_t len) {
  t->raise("index out of range [%lld] with length %zu", (long long)i, len);
  return Value::empty();
}

std::string_view trim(std::string_view s) {
  const char* ws = " \t\n\r\v\f";
  size_t b = s.find_first_not_of(ws);
  if (b == std::string_view::npos) return {};
  size_t e = s.find_last_not_of(ws);
  return s.substr(b, e - b + 1);
}

Value convert_error(Thread* t, Value v, const char* to) {
  std::string q;
  format_value(q, v, true);
  t->raise("cannot convert %s to %s", q.c_str(), to);
  return Value::empty();
}

// ---- output, conversion, inspection ----

// print and str build their text within string_budget (runtime.h): the
// text of a shared DAG can be far larger than the heap holding it.
// A text past kSmallText is formatted again into one buffer reserved at
// its budget (at most kReserveCap), instead of one doubled step by step:
// glibc serves a buffer that grows by doubling from a thread's arena once
// its mmap threshold has risen, and keeps it there when freed, so every
// retry on another thread (a goroutine moves between them) would add a
// buffer's worth to RSS; a buffer of one size stays mmapped and is
// returned on free.
constexpr uint64_t kSmallText = 1 << 20;
constexpr uint64_t kReserveCap = uint64_t(1) << 30;  // bounds the reservation when there is no limit

bool format_within(Thread* t, std::string& s, Value v, uint64_t budget) {
  size_t start = s.size();
  if (format_value(s, v, false, std::min<uint64_t>(budget, start + kSmallText))) return true;
  if (s.size() > budget) return string_room(t, s.size());  // raises
  s.resize(start);
  s.reserve(size_t(std::min(budget, kReserveCap)) + 64);
  return format_value(s, v, false, budget) || string_room(t, s.size());
}

Value b_print(Thread* t, Value* args, int n) {
  std::string s;
  uint64_t budget = string_budget(*t->rt);
  for (int i = 0; i < n; i++) {
    if (i > 0) s += ' ';
    if (!format_within(t, s, args[i], budget)) return Value::empty();
  }
  s += '\n';
  lib::out_write(t->rt->options().out, s, t->rt->options().broken_pipe_exits);
  return Value::nil();
}

Value b_str(Thread* t, Value* args, int) {
  if (is_type(args[0], ObjType::String)) return args[0];
  std::string s;
  if (!format_within(t, s, args[0], string_budget(*t->rt))) return Value::empty();
  return str_value(*t->rt, s);
}

// The value of digit c in bases up to 36, or 99.
int digit_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'z') return c - 'a' + 10;
  if (c >= 'A' && c <= 'Z') return c - 'A' + 10;
  return 99;
}

// int(s, base): [+-], then a 0x/0b/0o prefix if it names the base, then
// digits; surrounding whitespace is allowed, as int(s) allows it.
Value int_in_base(Thread* t, Value v, Value basev) {
  if (!is_type(v, ObjType::String)) return bad_arg(t, "int", "string", v);
  int64_t base;
  if (!want_int(t, "int", basev, &base)) return Value::empty();
  if (base < 2 || base > 36) {
    t->raise("int: base %lld is out of range 2..36", (long long)base);
    return Value::empty();
  }
  std::string_view s = trim(as_string(v)->view());
  bool neg = !s.empty() && s[0] == '-';
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) s.remove_prefix(1);
  if (s.size() > 2 && s[0] == '0') {
    char p = char(s[1] | 0x20);
    if ((p == 'x' && base == 16) || (p == 'b' && base == 2) || (p == 'o' && base == 8)) s.remove_prefix(2);
  }
  uint64_t u = 0, max = neg ? uint64_t(1) << 63 : (uint64_t(1) << 63) - 1;
  for (char c : s) {
    int d = digit_value(c);
    if (d >= base || u > (max - uint64_t(d)) / uint64_t(base)) return convert_error(t, v, "int");
    u = u * uint64_t(base) + uint64_t(d);
  }
  if (s.empty()) return convert_error(t, v, "int");
  return t->rt->make_int(neg ? int64_t(0 - u) : int64_t(u));
}

Value b_int(Thread* t, Value* args, int n) {
  Value v = args[0];
  if (n > 1) return int_in_base(t, v, args[1]);
  if (is_int(v)) return v;
  if (v.is_double()) {
    double d = std::trunc(v.as_double());
    if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0)) return convert_error(t, v, "int");
    return t->rt->make_int(int64_t(d));
  }
  if (!is_type(v, ObjType::String)) return bad_arg(t, "int", "number or string", v);
  std::string_view s = trim(as_string(v)->view());
  bool neg = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  uint64_t u = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), u);
  if (s.empty() || r.ec != std::errc() || r.ptr != s.data() + s.size() ||
      u > (neg ? uint64_t(1) << 63 : (uint64_t(1) << 63) - 1)) {
    return convert_error(t, v, "int");
  }
  return t->rt->make_int(neg ? int64_t(0 - u) : int64_t(u));
}

Value b_float(Thread* t, Value* args, int) {
  Value v = args[0];
  if (is_number(v)) return Value::number(number_of(v));
  if (!is_type(v, ObjType::String)) return bad_arg(t, "float", "number or string", v);
  std::string s(trim(as_string(v)->view()));
  char* end = nullptr;
  double d = s.empty() ? 0 : std::strtod(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size()) return convert_error(t, v, "float");
  return Value::number(d);
}

Value b_type(Thread* t, Value* args, int) { return str_value(*t->rt, type_name(args[0])); }

WEFT_ASYNC_SAFE Value b_len(Thread* t, Value* args, int) {
  Value v = args[0];
  if (is_type(v, ObjType::String)) return Value::inline_int(as_string(v)->len);
  if (is_type(v, ObjType::Array)) return Value::inline_int(as_array(v)->len);
  if (is_type(v, ObjType::Map)) return Value::inline_int(as_map(v)->count);
  if (sched::is_channel(v)) {  // a racy snapshot, as Go's len(ch)
    auto* count = &sched::as_channel(v)->count;
    return Value::inline_int(__atomic_load_n(count, __ATOMIC_RELAXED));
  }
  return bad_arg(t, "len", "string, array, map or channel", v);
}

// ---- channels (vm/sched/chan.h) ----

constexpr int64_t kMaxChanSize = int64_t(1) << 26;  // slots; 512 MiB of buffer

Value b_chan(Thread* t, Value* args, int n) {
  int64_t size = 0;
  if (n > 0) {
    Value v = args[0];
    if (!is_int(v) || int_of(v) < 0) return bad_arg(t, "chan", "non-negative int", v);
    size = int_of(v);
    if (size > kMaxChanSize) {
      t->raise("chan: size %lld is too large", (long long)size);
      return Value::empty();
    }
  }
  return obj(t->rt->new_channel(uint32_t(size)));
}

Value b_close(Thread* t, Value* args, int) {
  return chan_close(t, args[0]) ? Value::nil() : Value::empty();
}

// ---- arrays and maps ----

Value b_push(Thread* t, Value* args, int n) {
  if (!want(t, "push", args[0], ObjType::Array, "array")) return Value::empty();
  for (int i = 1; i < n; i++) array_push(t->rt->heap(), as_array(args[0]), args[i]);
  return Value::nil();
}

Value b_pop(Thread* t, Value* args, int) {
  if (!want(t, "pop", args[0], ObjType::Array, "array")) return Value::empty();
  Array* a = as_array(args[0]);
  Array::Items it;
  uint32_t len = a->live(&it);
  if (len == 0) {
    t->raise("pop from empty array");
    return Value::empty();
  }
  uint32_t last = len - 1;
  Value v = it.items[last];
  it.items[last] = Value::nil();
  a->len = last;
  return v;
}

Value b_keys(Thread* t, Value* args, int) {
  if (!want(t, "keys", args[0], ObjType::Map, "map")) return Value::empty();
  Map* m = as_map(args[0]);
  if (!heap_room(t, sizeof(Array) + uint64_t(m->count) * sizeof(Value))) return Value::empty();
  Array* out = t->rt->new_array(0, m->count);
  MapEntry en;
  for (int64_t e = map_next(m, 0, &en); e >= 0; e = map_next(m, e + 1, &en)) {
    array_push(t->rt->heap(), out, en.key);
  }
  return obj(out);
}

Value b_has(Thread* t, Value* args, int) {
  Value k = args[1];
  if (!want(t, "has", args[0], ObjType::Map, "map") || !map_key(t, &k)) return Value::empty();
  return Value::boolean(!map_get(as_map(args[0]), k).is_empty());
}

Value b_delete(Thread* t, Value* args, int) {
  Value k = args[1];
  if (!want(t, "delete", args[0], ObjType::Map, "map") || !map_key(t, &k)) return Value::empty();
  map_delete(as_map(args[0]), k);
  return Value::nil();
}

Value b_slice(Thread* t, Value* args, int n) {
  Value v = args[0];
  size_t len;
  Array::Items it{};  // an array's items, read once with its length (Race safety, vm/core/object.h)
  if (is_type(v, ObjType::Array)) {
    len = as_array(v)->live(&it);
  } else if (is_type(v, ObjType::String)) {
    len = as_string(v)->len;
  } else {
    return bad_arg(t, "slice", "array or string", v);
  }
  int64_t i, j = int64_t(len);
  if (!want_int(t, "slice", args[1], &i)) return Value::empty();
  if (n > 2 && !want_int(t, "slice", args[2], &j)) return Value::empty();
  if (i < 0 || uint64_t(i) > len) return index_error(t, i, len);
  if (j < i || uint64_t(j) > len) return index_error(t, j, len);
  if (is_type(v, ObjType::String)) return str_value(*t->rt, as_string(v)->view().substr(size_t(i), size_t(j - i)));
  Array* out = t->rt->new_array(uint32_t(j - i), uint32_t(j - i));
  if (j > i) std::memcpy(out->items().items, it.items + i, size_t(j - i) * sizeof(Value));
  return obj(out);
}

// ---- strings ----

Value b_join(Thread* t, Value* args, int n) {
  if (!want(t, "join", args[0], ObjType::Array, "array")) return Value::empty();
  std::string_view sep;
  if (n > 1) {
    if (!want(t, "join", args[1], ObjType::String, "string")) return Value::empty();
    sep = as_string(args[1])->view();
  }
  Array* a = as_array(args[0]);
  uint64_t planned = a->len > 0 ? uint64_t(a->len - 1) * sep.size() : 0;  // the strings' part, exactly
  for (uint32_t i = 0; i < a->len; i++) {
    Value v;
    if (array_get(a, i, &v) && is_type(v, ObjType::String)) planned += as_string(v)->len;
  }
  if (!string_room(t, planned)) return Value::empty();
  std::string s;
  uint64_t budget = string_budget(*t->rt);
  for (uint32_t i = 0; i < a->len; i++) {
    Value v;
    if (!array_get(a, i, &v)) break;  // shrunk meanwhile by a racing goroutine
    if (i > 0) s += sep;
    if (!format_within(t, s, v, budget)) return Value::empty();
  }
  return str_value(*t->rt, s);
}

Value b_split(Thread* t, Value* args, int) {
  if (!want(t, "split", args[0], ObjType::String, "string") ||
      !want(t, "split", args[1], ObjType::String, "string")) {
    return Value::empty();
  }
  Runtime& rt = *t->rt;
  std::string_view s = as_string(args[0])->view(), sep = as_string(args[1])->view();
  uint64_t parts = sep.empty() ? s.size() : 1;
  if (sep.size() == 1) {
    parts += uint64_t(std::count(s.begin(), s.end(), sep[0]));
  } else {
    for (size_t k = 0; !sep.empty() && (k = s.find(sep, k)) != std::string_view::npos; k += sep.size()) parts++;
  }
  // Each part: its item, and (but for one-byte strings, which are shared) a String.
  uint64_t per_part = sizeof(Value) + (sep.empty() ? 0 : sizeof(String) + 1);
  if (!heap_room(t, parts * per_part + s.size())) return Value::empty();
  Array* out = rt.new_array(0, uint32_t(std::min<uint64_t>(parts, UINT32_MAX)));
  if (sep.empty()) {
    for (unsigned char c : s) array_push(rt.heap(), out, rt.byte_strings[c]);
    return obj(out);
  }
  size_t start = 0;
  if (sep.size() == 1) {  // a byte loop: string_view::find calls memchr and memcmp per part, and parts are short
    for (size_t k = 0; k < s.size(); k++) {
      if (s[k] != sep[0]) continue;
      array_push(rt.heap(), out, str_value(rt, s.substr(start, k - start)));
      start = k + 1;
    }
  } else {
    for (size_t k; (k = s.find(sep, start)) != std::string_view::npos; start = k + sep.size())
      array_push(rt.heap(), out, str_value(rt, s.substr(start, k - start)));
  }
  array_push(rt.heap(), out, str_value(rt, s.substr(start)));
  return obj(out);
}

Value b_substr(Thread* t, Value* args, int n) {
  if (!want(t, "substr", args[0], ObjType::String, "string")) return Value::empty();
  std::string_view s = as_string(args[0])->view();
  int64_t i, k;
  if (!want_int(t, "substr", args[1], &i)) return Value::empty();
  if (i < 0 || uint64_t(i) > s.size()) {
    t->raise("substr: argument 2 is out of range [%lld] with length %zu", (long long)i, s.size());
    return Value::empty();
  }
  uint64_t rest = s.size() - uint64_t(i);
  k = int64_t(rest);
  if (n > 2 && !want_int(t, "substr", args[2], &k)) return Value::empty();
  if (k < 0) {
    t->raise("substr: argument 3 must not be negative, got %lld", (long long)k);
    return Value::empty();
  }
  return str_value(*t->rt, s.substr(size_t(i), size_t(std::min(uint64_t(k), rest))));  // n clamped
}

WEFT_ASYNC_SAFE Value b_find(Thread* t, Value* args, int) {
  if (!want(t, "find", args[0], ObjType::String, "string") ||
      !want(t, "find", args[1], ObjType::String, "string")) {
    return Value::empty();
  }
  size_t k = as_string(args[0])->view().find(as_string(args[1])->view());
  return Value::inline_int(k == std::string_view::npos ? -1 : int64_t(k));
}

Value b_repeat(Thread* t, Value* args, int) {
  if (!want(t, "repeat", args[0], ObjType::String, "string")) return Value::empty();
  int64_t k;
  if (!want_int(t, "repeat", args[1], &k)) return Value::empty();
  std::string_view s = as_string(args[0])->view();
  if (k < 0) {
    t->raise("repeat: negative count %lld", (long long)k);
    return Value::empty();
  }
  uint64_t len = s.empty() || uint64_t(k) <= kMaxStringLen / s.size() ? s.size() * uint64_t(k) : kMaxStringLen + 1;
  if (!string_room(t, len)) return Value::empty();
  String* out = t->rt->new_string_uninit(s.size() * size_t(k));
  for (int64_t i = 0; i < k; i++) std::memcpy(out->data + size_t(i) * s.size(), s.data(), s.size());
  return obj(out);
}

Value b_ord(Thread* t, Value* args, int) {
  if (!want(t, "ord", args[0], ObjType::String, "string")) return Value::empty();
  String* s = as_string(args[0]);
  if (s->len == 0) {
    t->raise("ord: empty string");
    return Value::empty();
  }
  return Value::inline_int(uint8_t(s->chars()[0]));
}

Value b_chr(Thread* t, Value* args, int) {
  int64_t i;
  if (!want_int(t, "chr", args[0], &i)) return Value::empty();
  if (i < 0 || i > 255) {
    t->raise("chr: %lld is out of range 0..255", (long long)i);
    return Value::empty();
  }
  return t->rt->byte_strings[i];
}

// ---- sort ----

// A stable bottom-up merge sort of `items` (n values) using `tmp`. `less`
// is a function value or nil (natural order). Both buffers are private,
// pinned arrays, so a callback can neither move nor collect them.
bool merge_sort(Thread* t, Value less, Value* items, Value* tmp, size_t n, Value** sorted) {
  for (size_t width = 1; width < n; width *= 2) {
    for (size_t lo = 0; lo < n; lo += 2 * width) {
      size_t mid = std::min(lo + width, n), hi = std::min(lo + 2 * width, n);
      size_t i = lo, j = mid, k = lo;
      while (i < mid && j < hi) {
        bool right_first;  // strictly less keeps equal elements in order
        if (less.is_nil()) {
          if (!compare_values(t, "<", items[j], items[i], &right_first)) return false;
        } else {
          Value pair[2] = {items[j], items[i]};
          Value r = t->rt->call(t, less, pair, 2);
          if (r.is_empty()) return false;
          right_first = r.truthy();
        }
        tmp[k++] = right_first ? items[j++] : items[i++];
      }
      while (i < mid) tmp[k++] = items[i++];
      while (j < hi) tmp[k++] = items[j++];
    }
    gc::write_barrier(tmp);  // a callback may have run a collection since tmp was made
    std::swap(items, tmp);
  }
  *sorted = items;
  return true;
}

Value b_sort(Thread* t, Value* args, int n) {
  if (!want(t, "sort", args[0], ObjType::Array, "array")) return Value::empty();
  Value av = args[0];
  Value less = n > 1 ? args[1] : Value::nil();
  Array* a = as_array(av);
  Array::Items in;
  uint32_t len = a->live(&in);
  if (len < 2) return Value::nil();
  Runtime& rt = *t->rt;
  if (!heap_room(t, 2 * (sizeof(Array) + uint64_t(len) * sizeof(Value)))) return Value::empty();  // work and tmp
  Array* work = rt.new_array(len, len);
  Array* tmp = rt.new_array(len, len);
  std::memcpy(work->items().items, in.items, len * sizeof(Value));
  PinScope pins(t);
  pins.pin(av);
  pins.pin(less);
  pins.pin(obj(work));
  pins.pin(obj(tmp));
  Value* sorted;
  if (!merge_sort(t, less, work->items().items, tmp->items().items, len, &sorted)) return Value::empty();
  // A callback may have shrunk or grown the array, even into a numeric store.
  Array::Items it = a->items();
  if (it.numeric && std::any_of(sorted, sorted + len, [](Value v) { return v.is_obj(); })) it = scanned_items(rt.heap(), a);
  uint32_t back = std::min({len, a->len, it.capacity});
  std::memcpy(it.items, sorted, back * sizeof(Value));
  gc::write_barrier(it.items);
  return Value::nil();
}

// ---- math ----
// The pure compute builtins are WEFT_ASYNC_SAFE (vm/sched/preempt.h): a
// goroutine may be preempted anywhere in them, as in the interpreter. They
// reach nothing thread-local (errors go through Thread::raise, out of line).

WEFT_ASYNC_SAFE Value b_abs(Thread* t, Value* args, int) {
  Value v = args[0];
  if (is_int(v)) {
    int64_t i = int_of(v);
    return i < 0 ? t->rt->make_int(int64_t(0 - uint64_t(i))) : v;
  }
  if (v.is_double()) return Value::number(std::fabs(v.as_double()));
  return bad_arg(t, "abs", "number", v);
}

WEFT_ASYNC_SAFE Value round_to_int(Thread* t, Value v, const char* name, double (*fn)(double)) {
  if (is_int(v)) return v;
  if (!v.is_double()) return bad_arg(t, name, "number", v);
  double d = fn(v.as_double());
  if (d >= -9223372036854775808.0 && d < 9223372036854775808.0) return t->rt->make_int(int64_t(d));
  return Value::number(d);
}

WEFT_ASYNC_SAFE Value b_floor(Thread* t, Value* args, int) { return round_to_int(t, args[0], "floor", std::floor); }
WEFT_ASYNC_SAFE Value b_ceil(Thread* t, Value* args, int) { return round_to_int(t, args[0], "ceil", std::ceil); }

WEFT_ASYNC_SAFE Value b_sqrt(Thread* t, Value* args, int) {
  if (!is_number(args[0])) return bad_arg(t, "sqrt", "number", args[0]);
  return Value::number(std::sqrt(number_of(args[0])));
}

WEFT_ASYNC_SAFE Value min_max(Thread* t, Value* args, int n, const char* name, bool want_max) {
  Value best = args[0];
  if (!is_number(best)) return bad_arg(t, name, "number", best);
  for (int i = 1; i < n; i++) {
    if (!is_number(args[i])) return bad_arg(t, name, "number", args[i]);
    bool lt;
    compare_values(t, "<", want_max ? best : args[i], want_max ? args[i] : best, &lt);
    if (lt) best = args[i];
  }
  return best;
}

WEFT_ASYNC_SAFE Value b_min(Thread* t, Value* args, int n) { return min_max(t, args, n, "min", false); }
WEFT_ASYNC_SAFE Value b_max(Thread* t, Value* args, int n) { return min_max(t, args, n, "max", true); }

Value b_array(Thread* t, Value* args, int n) {
  int64_t len;
  if (!want_int(t, "array", args[0], &len)) return Value::empty();
  if (len < 0 || len > int64_t(UINT32_MAX / 2)) {
    t->raise("array: invalid length %lld", (long long)len);
    return Value::empty();
  }
  Value v = n > 1 ? args[1] : Value::nil();
  if (!heap_room(t, sizeof(Array) + uint64_t(len) * sizeof(Value))) return Value::empty();
  Array* a = t->rt->new_array(uint32_t(len), uint32_t(len), !v.is_obj());
  Value* items = a->items().items;
  for (int64_t i = 0; i < len; i++) items[i] = v;
  return obj(a);
}

// ---- the collector ----

// On a goroutine: parks (a blocked safe-point) until a collection that
// starts after the call has completed; the collector readies it with nil.
// Off the scheduler (the host thread is the world): posts a request and
// poisons the guard, so the CALL that invoked it collects before the script
// continues.
Value b_gc(Thread* t, Value*, int) {
  gc::Heap& heap = t->rt->heap();
  sched::G* g = sched::getg();
  if (g == nullptr) {
    heap.request();
    t->stackguard.store(kStackPoison, std::memory_order_relaxed);
    return Value::nil();
  }
  g->resume = sched::Resume::Complete;
  g->resume_value = Value::nil();
  if (heap.gc_wait() == sched::Parked::Unwound) return kParked;
  return Value::nil();
}

Value b_gcstats(Thread* t, Value*, int) {
  Runtime& rt = *t->rt;
  const gc::Stats s = rt.heap().stats();
  const sched::Counters& c = rt.counters();
  const std::pair<const char*, uint64_t> fields[] = {
      {"collections", s.collections},       {"minor_collections", s.minor_collections},
      {"full_collections", s.full_collections}, {"heap_bytes", s.heap_bytes},
      {"live_bytes", s.live_bytes},         {"last_pause_ns", s.last_pause_ns},
      {"max_pause_ns", s.max_pause_ns},     {"total_pause_ns", s.total_pause_ns},
      {"stw_ns", s.stw_ns},                 {"preemptions_async", c.preemptions_async.load(std::memory_order_relaxed)},
      {"preemptions_sync", c.preemptions_sync.load(std::memory_order_relaxed)},
  };
  Map* m = rt.new_map(sizeof fields / sizeof fields[0]);
  for (auto& [name, value] : fields) map_set(rt.heap(), m, str_value(rt, name), rt.make_int(int64_t(value)));
  return obj(m);
}

Value b_weakref(Thread* t, Value* args, int) { return obj(t->rt->new_weakref(args[0])); }

Value b_deref(Thread* t, Value* args, int) {
  if (!want(t, "deref", args[0], ObjType::WeakRef, "weakref")) return Value::empty();
  WeakRef* w = static_cast<WeakRef*>(args[0].as_obj());
  if (!w->value.is_empty()) return w->value;
  void* p = t->rt->heap().reveal_weak(&w->hidden);
  return p == nullptr ? Value::nil() : obj(p);
}

// ---- errors ----

Value b_error(Thread* t, Value* args, int) {
  t->raise_value(args[0]);
  return Value::empty();
}

// pcall reached through Runtime::call (a native calling it); CALL runs it
// in place instead (vm/interp/interp.cpp).
Value b_pcall(Thread* t, Value* args, int n) {
  return pcall_outcome(t, t->rt->call(t, args[0], args + 1, n - 1));
}

Value b_assert(Thread* t, Value* args, int n) {
  if (args[0].truthy()) return Value::nil();
  if (n > 1) t->raise_value(args[1]);
  else t->raise("assertion failed");
  return Value::empty();
}

// ---- the host ----

Value b_args(Thread* t, Value*, int) {
  Runtime& rt = *t->rt;
  const auto& list = rt.options().args;
  Array* a = rt.new_array(0, uint32_t(list.size()));
  for (const std::string& s : list) array_push(rt.heap(), a, str_value(rt, s));
  return obj(a);
}

// Reads through the shared input buffer (vm/lib/stdio.h): with a P while
// the buffer holds a line, as a system call (sched::entersyscall) while it
// waits for input, so its P runs other goroutines meanwhile.
Value b_readline(Thread* t, Value*, int) {
  if (!lib::stdin_enabled(t, "readline")) return Value::empty();
  std::optional<std::string> line = lib::read_line(t->rt->options().out, t->rt->options().broken_pipe_exits);
  if (!line) return Value::nil();
  return str_value(*t->rt, *line);
}

// ---- goroutines (vm/sched) ----

// sleep(ms): parks until the deadline (a blocked safe-point); 0 or less
// just yields.
Value b_sleep(Thread* t, Value* args, int) {
  if (!is_number(args[0])) return bad_arg(t, "sleep", "number", args[0]);
  double ms = number_of(args[0]);
  if (sched::getg() == nullptr) {
    t->raise("sleep: goroutines need the scheduler (Runtime::run)");
    return Value::empty();
  }
  int64_t ns = ms >= 9.2e12 ? INT64_MAX / 2 : ms > 0 ? int64_t(ms * 1e6) : 0;
  return sched::sleep_ns(ns) == sched::Parked::Unwound ? kParked : Value::nil();
}

// gosched(): yields the P; the goroutine goes to the global queue.
Value b_gosched(Thread*, Value*, int) {
  sched::G* g = sched::getg();
  if (g == nullptr) return Value::nil();
  g->resume = sched::Resume::Complete;
  g->resume_value = Value::nil();
  return sched::gosched() == sched::Parked::Unwound ? kParked : Value::nil();
}

Value b_goroutines(Thread*, Value*, int) {
  sched::Sched* s = sched::current_sched();
  return Value::inline_int(s ? s->ngoroutines.load() : 1);
}

Value b_now(Thread* t, Value*, int) {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return t->rt->make_int(int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec);
}

struct Builtin {
  const char* name;
  NativeFn fn;
  int min_args, max_args;  // max -1: any number
};

constexpr Builtin kBuiltins[] = {
    {"print", b_print, 0, -1},     {"str", b_str, 1, 1},          {"int", b_int, 1, 2},
    {"float", b_float, 1, 1},      {"type", b_type, 1, 1},        {"len", b_len, 1, 1},
    {"push", b_push, 2, -1},       {"pop", b_pop, 1, 1},          {"keys", b_keys, 1, 1},
    {"has", b_has, 2, 2},          {"delete", b_delete, 2, 2},    {"slice", b_slice, 2, 3},
    {"join", b_join, 1, 2},        {"split", b_split, 2, 2},      {"substr", b_substr, 2, 3},
    {"find", b_find, 2, 2},        {"repeat", b_repeat, 2, 2},    {"ord", b_ord, 1, 1},
    {"chr", b_chr, 1, 1},          {"sort", b_sort, 1, 2},        {"abs", b_abs, 1, 1},
    {"floor", b_floor, 1, 1},      {"ceil", b_ceil, 1, 1},        {"sqrt", b_sqrt, 1, 1},
    {"min", b_min, 1, -1},         {"max", b_max, 1, -1},         {"array", b_array, 1, 2},
    {"gc", b_gc, 0, 0},            {"gcstats", b_gcstats, 0, 0},  {"weakref", b_weakref, 1, 1},
    {"deref", b_deref, 1, 1},      {"error", b_error, 1, 1},      {"pcall", b_pcall, 1, -1},
    {"assert", b_assert, 1, 2},    {"args", b_args, 0, 0},        {"readline", b_readline, 0, 0},
    {"now", b_now, 0, 0},          {"chan", b_chan, 0, 1},        {"close", b_close, 1, 1},
    {"sleep", b_sleep, 1, 1},      {"gosched", b_gosched, 0, 0},  {"goroutines", b_goroutines, 0, 0},
};

}  // namespace

void install_builtins(Runtime& rt) {
  for (const Builtin& b : kBuiltins) rt.define_native(b.name, b.fn, b.min_args, b.max_args);
  Value pcall = rt.globals[size_t(rt.find_global("pcall"))];
  pcall.as_obj()->flags |= kNativePcall;
  lib::install_modules(rt);
}

}  // namespace weft
