// The `strings` module (docs/language.md, "strings"): byte-string helpers,
// UTF-8 where the contract says so (chars), and printf-style formatting
// (format, in vm/lib/printf.cpp).
#include <algorithm>
#include <cstring>

#include "vm/core/objops.h"
#include "vm/lib/lib.h"

namespace weft::lib {

namespace {

std::string_view sv(Value v) { return as_string(v)->view(); }

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

constexpr Fn kFns[] = {
    {"upper", s_upper, "s"},
    {"lower", s_lower, "s"},
};

constexpr char kName[] = "strings";

}  // namespace

extern const Module kStringsModule = make_module<kName, kFns>();

}  // namespace weft::lib
