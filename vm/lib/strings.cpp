// The `strings` module (docs/language.md#strings): helpers on byte
// strings, and printf-style formatting (the engine is vm/lib/printf.cpp).
//
// Positions (index, last_index) and lengths are bytes. Where a function
// must take a string apart into characters it reads UTF-8, and a byte that
// does not start a valid sequence is a character of its own (utf8_unit),
// so no input is rejected and none is lost: chars, reverse, split and
// replace with an empty separator, count(""), a cutset for trim, and the
// width of pad_left/pad_right, which counts characters so that a padded
// column of accented names lines up.
//
// Every result's size is known before it is made and goes through
// check_size (the heap limit) first.
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "vm/core/objops.h"
#include "vm/lib/lib.h"
#include "vm/lib/printf.h"

namespace weft::lib {

namespace {

constexpr std::string_view kSpace = " \t\n\r\v\f";

std::string_view sv(Value v) { return as_string(v)->view(); }

// The length of the UTF-8 character at s[i]: 2 to 4 for a well-formed
// sequence (no overlong forms, surrogates or code points past U+10FFFF),
// else 1.
size_t utf8_unit(std::string_view s, size_t i) {
  auto b = [&](size_t k) { return (unsigned char)s[k]; };
  unsigned char c = b(i);
  size_t n = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 1;
  if (c < 0xC2 || i + n > s.size()) return 1;
  for (size_t k = 1; k < n; k++) {
    if ((b(i + k) & 0xC0) != 0x80) return 1;
  }
  if (n == 3 && ((c == 0xE0 && b(i + 1) < 0xA0) || (c == 0xED && b(i + 1) >= 0xA0))) return 1;
  if (n == 4 && ((c == 0xF0 && b(i + 1) < 0x90) || (c == 0xF4 && b(i + 1) >= 0x90))) return 1;
  return n;
}

// The characters of s, as views into it.
std::vector<std::string_view> units(std::string_view s) {
  std::vector<std::string_view> out;
  for (size_t i = 0; i < s.size();) {
    size_t n = utf8_unit(s, i);
    out.push_back(s.substr(i, n));
    i += n;
  }
  return out;
}

// A one-byte string is shared (Runtime::byte_strings).
Value piece(Runtime& rt, std::string_view s) {
  return s.size() == 1 ? rt.byte_strings[(unsigned char)s[0]] : str(rt, s);
}

// An array of the pieces, sized before it is made.
Value piece_array(Thread* t, const char* qname, const std::vector<std::string_view>& parts) {
  if (!check_size(t, qname, parts.size() * sizeof(Value))) return Value::empty();
  Runtime& rt = *t->rt;
  Array* a = rt.new_array(0, uint32_t(parts.size()));
  for (std::string_view p : parts) array_push(rt.heap(), a, piece(rt, p));
  return obj(a);
}

// A new string of s's bytes mapped through f.
template <typename F>
Value map_bytes(Thread* t, Value v, F f) {
  std::string_view s = sv(v);
  String* out = t->rt->new_string_uninit(s.size());
  for (size_t i = 0; i < s.size(); i++) out->data[i] = char(f((unsigned char)s[i]));
  return obj(out);
}

Value s_upper(Thread* t, Value* a, int) {
  return map_bytes(t, a[0], [](unsigned char c) { return c >= 'a' && c <= 'z' ? c - 32 : c; });
}
Value s_lower(Thread* t, Value* a, int) {
  return map_bytes(t, a[0], [](unsigned char c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; });
}

// By characters, so "héllo" reverses to "olléh".
Value s_reverse(Thread* t, Value* a, int) {
  std::string_view s = sv(a[0]);
  String* out = t->rt->new_string_uninit(s.size());
  size_t end = s.size();
  for (size_t i = 0; i < s.size();) {
    size_t n = utf8_unit(s, i);
    end -= n;
    std::memcpy(out->data + end, s.data() + i, n);
    i += n;
  }
  return obj(out);
}

Value s_format(Thread* t, Value* a, int n) {
  std::string out, err;
  bool too_large;
  if (!format_printf(out, sv(a[0]), a + 1, n - 1, &err, size_cap(*t->rt), &too_large)) {
    if (too_large) check_size(t, "strings.format", UINT64_MAX);
    else t->raise("strings.format: %s", err.c_str());
    return Value::empty();
  }
  return str(*t->rt, out);
}

// ---- trimming ----

enum Side { kLeft = 1, kRight = 2, kBoth = 3 };

Value trim(Thread* t, Value* a, int n, Side side) {
  std::string_view s = sv(a[0]);
  if (!given(a, n, 1)) {
    size_t b = side & kLeft ? s.find_first_not_of(kSpace) : 0;
    if (b == std::string_view::npos) return str(*t->rt, "");
    size_t e = side & kRight ? s.find_last_not_of(kSpace) + 1 : s.size();
    return str(*t->rt, s.substr(b, e - b));
  }
  std::vector<std::string_view> cut = units(sv(a[1]));
  auto in_cut = [&](std::string_view u) { return std::find(cut.begin(), cut.end(), u) != cut.end(); };
  std::vector<std::string_view> us = units(s);
  size_t b = 0, e = us.size();
  if (side & kLeft) {
    while (b < e && in_cut(us[b])) b++;
  }
  if (side & kRight) {
    while (e > b && in_cut(us[e - 1])) e--;
  }
  if (b == e) return str(*t->rt, "");
  return str(*t->rt, std::string_view(us[b].data(), size_t(us[e - 1].data() + us[e - 1].size() - us[b].data())));
}

Value s_trim(Thread* t, Value* a, int n) { return trim(t, a, n, kBoth); }
Value s_trim_left(Thread* t, Value* a, int n) { return trim(t, a, n, kLeft); }
Value s_trim_right(Thread* t, Value* a, int n) { return trim(t, a, n, kRight); }

// ---- searching ----

Value s_starts_with(Thread*, Value* a, int) { return Value::boolean(sv(a[0]).starts_with(sv(a[1]))); }
Value s_ends_with(Thread*, Value* a, int) { return Value::boolean(sv(a[0]).ends_with(sv(a[1]))); }
Value s_contains(Thread*, Value* a, int) { return Value::boolean(sv(a[0]).find(sv(a[1])) != std::string_view::npos); }

// Non-overlapping occurrences; of "" there is one more than characters.
Value s_count(Thread* t, Value* a, int) {
  std::string_view s = sv(a[0]), sub = sv(a[1]);
  if (sub.empty()) return t->rt->make_int(int64_t(units(s).size()) + 1);
  int64_t k = 0;
  for (size_t i = s.find(sub); i != std::string_view::npos; i = s.find(sub, i + sub.size())) k++;
  return t->rt->make_int(k);
}

Value s_index(Thread* t, Value* a, int n) {
  std::string_view s = sv(a[0]);
  int64_t start = 0;
  if (given(a, n, 2)) {
    start = int_of(a[2]);
    if (start < 0 || uint64_t(start) > s.size()) {
      t->raise("strings.index: start %lld is out of range 0..%zu", (long long)start, s.size());
      return Value::empty();
    }
  }
  size_t k = s.find(sv(a[1]), size_t(start));
  return t->rt->make_int(k == std::string_view::npos ? -1 : int64_t(k));
}

Value s_last_index(Thread* t, Value* a, int) {
  size_t k = sv(a[0]).rfind(sv(a[1]));
  return t->rt->make_int(k == std::string_view::npos ? -1 : int64_t(k));
}

// ---- splitting and joining ----

// Calls f(i) for the start of each of the first `limit` matches of `from`
// in s (all when limit < 0); an empty `from` matches before each character
// and at the end.
template <typename F>
void each_match(std::string_view s, std::string_view from, int64_t limit, F f) {
  int64_t k = 0;
  if (from.empty()) {
    for (size_t i = 0; limit < 0 || k < limit; i += utf8_unit(s, i), k++) {
      f(i);
      if (i >= s.size()) break;
    }
    return;
  }
  for (size_t i = s.find(from); i != std::string_view::npos && (limit < 0 || k < limit); i = s.find(from, i + from.size()), k++) {
    f(i);
  }
}

// replace(s, old, new, n): the first n occurrences (all when n is absent or
// negative). Two passes, counting then copying: the size is checked before
// anything is made.
Value s_replace(Thread* t, Value* a, int n) {
  std::string_view s = sv(a[0]), from = sv(a[1]), to = sv(a[2]);
  int64_t limit = given(a, n, 3) ? int_of(a[3]) : -1;
  uint64_t count = 0;
  each_match(s, from, limit, [&](size_t) { count++; });
  uint64_t size = s.size() + count * to.size() - count * from.size();
  if (!check_size(t, "strings.replace", size)) return Value::empty();
  String* out = t->rt->new_string_uninit(size_t(size));
  char* w = out->data;
  size_t prev = 0;
  each_match(s, from, limit, [&](size_t i) {
    std::memcpy(w, s.data() + prev, i - prev), w += i - prev;
    std::memcpy(w, to.data(), to.size()), w += to.size();
    prev = i + from.size();
  });
  std::memcpy(w, s.data() + prev, s.size() - prev);
  return obj(out);
}

Value s_fields(Thread* t, Value* a, int) {
  std::string_view s = sv(a[0]);
  std::vector<std::string_view> parts;
  for (size_t i = s.find_first_not_of(kSpace); i != std::string_view::npos; i = s.find_first_not_of(kSpace, i)) {
    size_t e = std::min(s.find_first_of(kSpace, i), s.size());
    parts.push_back(s.substr(i, e - i));
    i = e;
  }
  return piece_array(t, "strings.fields", parts);
}

// split(s, sep, n): at most n parts, the last holding the rest (all parts
// when n is absent or negative; none for 0); an empty sep splits into
// characters.
Value s_split(Thread* t, Value* a, int n) {
  std::string_view s = sv(a[0]), sep = sv(a[1]);
  int64_t limit = given(a, n, 2) ? int_of(a[2]) : -1;
  std::vector<std::string_view> parts;
  if (limit == 0) return piece_array(t, "strings.split", parts);
  size_t start = 0;
  while (limit < 0 || int64_t(parts.size()) + 1 < limit) {
    size_t k;
    if (sep.empty()) {
      if (start >= s.size()) break;
      k = start + utf8_unit(s, start);
      parts.push_back(s.substr(start, k - start));
      start = k;
      continue;
    }
    k = s.find(sep, start);
    if (k == std::string_view::npos) break;
    parts.push_back(s.substr(start, k - start));
    start = k + sep.size();
  }
  if (!sep.empty() || start < s.size()) parts.push_back(s.substr(start));
  return piece_array(t, "strings.split", parts);
}

// ---- padding ----

Value pad(Thread* t, Value* a, int n, bool left, const char* qname) {
  std::string_view s = sv(a[0]);
  int64_t width = int_of(a[1]);
  std::string_view c = " ";
  if (given(a, n, 2)) {
    c = sv(a[2]);
    if (c.empty() || utf8_unit(c, 0) != c.size()) {
      t->raise("%s: the padding must be one character, got \"%.*s\"", qname, int(std::min<size_t>(c.size(), 40)), c.data());
      return Value::empty();
    }
  }
  int64_t have = int64_t(units(s).size());
  if (width <= have) return a[0];
  uint64_t extra = uint64_t(width - have);  // characters to add
  uint64_t size = extra > (uint64_t(1) << 40) ? UINT64_MAX : s.size() + extra * c.size();
  if (!check_size(t, qname, size)) return Value::empty();
  String* out = t->rt->new_string_uninit(size_t(size));
  char* w = out->data;
  if (!left) std::memcpy(w, s.data(), s.size()), w += s.size();
  for (int64_t i = have; i < width; i++) std::memcpy(w, c.data(), c.size()), w += c.size();
  if (left) std::memcpy(w, s.data(), s.size());
  return obj(out);
}

Value s_pad_left(Thread* t, Value* a, int n) { return pad(t, a, n, true, "strings.pad_left"); }
Value s_pad_right(Thread* t, Value* a, int n) { return pad(t, a, n, false, "strings.pad_right"); }

// ---- bytes and characters ----

Value s_bytes(Thread* t, Value* a, int) {
  std::string_view s = sv(a[0]);
  if (!check_size(t, "strings.bytes", s.size() * sizeof(Value))) return Value::empty();
  Array* out = t->rt->new_array(uint32_t(s.size()), uint32_t(s.size()), true);
  Value* items = out->items().items;
  for (size_t i = 0; i < s.size(); i++) items[i] = Value::inline_int((unsigned char)s[i]);
  return obj(out);
}

Value s_from_bytes(Thread* t, Value* a, int) {
  Array* arr = as_array(a[0]);
  Array::Items it;
  uint32_t len = arr->live(&it);
  std::string out(len, '\0');
  for (uint32_t i = 0; i < len; i++) {
    Value v = it.items[i];
    if (!is_int(v) || int_of(v) < 0 || int_of(v) > 255) {
      std::string shown;
      format_value(shown, v, true);
      if (shown.size() > 40) shown = shown.substr(0, 40) + "...";
      t->raise("strings.from_bytes: element %u must be an int 0..255, got %s", i, shown.c_str());
      return Value::empty();
    }
    out[i] = char(int_of(v));
  }
  return str(*t->rt, out);
}

Value s_chars(Thread* t, Value* a, int) { return piece_array(t, "strings.chars", units(sv(a[0]))); }

constexpr Fn kFns[] = {
    {"format", s_format, "s*"},
    {"upper", s_upper, "s"},
    {"lower", s_lower, "s"},
    {"reverse", s_reverse, "s"},
    {"trim", s_trim, "s|s"},
    {"trim_left", s_trim_left, "s|s"},
    {"trim_right", s_trim_right, "s|s"},
    {"replace", s_replace, "sss|i"},
    {"starts_with", s_starts_with, "ss"},
    {"ends_with", s_ends_with, "ss"},
    {"contains", s_contains, "ss"},
    {"count", s_count, "ss"},
    {"index", s_index, "ss|i"},
    {"last_index", s_last_index, "ss"},
    {"fields", s_fields, "s"},
    {"split", s_split, "ss|i"},
    {"pad_left", s_pad_left, "si|s"},
    {"pad_right", s_pad_right, "si|s"},
    {"bytes", s_bytes, "s"},
    {"from_bytes", s_from_bytes, "a"},
    {"chars", s_chars, "s"},
};

constexpr char kName[] = "strings";

}  // namespace

extern const Module kStringsModule = make_module<kName, kFns>();

}  // namespace weft::lib
