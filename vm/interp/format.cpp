// Value formatting: print(), str() and error messages.
//
// Floats print like Python's repr: the shortest digits that round-trip
// (std::to_chars), laid out positionally when the decimal exponent is in
// [-4, 16) with at least one fractional digit (`1.0`, `0.001`), else in
// exponent form with a signed, two-digit-minimum exponent (`1e+16`,
// `1e-05`). Strings print raw at the top level and quoted with escapes
// inside arrays and maps. A container already being printed (a cycle)
// prints as `[...]` / `{...}`; so does one nested deeper than kMaxDepth,
// which bounds the native recursion.
#include <charconv>
#include <cmath>
#include <cstdio>
#include <vector>

#include "vm/core/objops.h"
#include "vm/interp/bytecode.h"
#include "vm/interp/runtime.h"

namespace weft {

namespace {

constexpr size_t kMaxDepth = 200;

void format_double(std::string& out, double d) {
  if (std::isnan(d)) {
    out += "nan";
    return;
  }
  if (std::isinf(d)) {
    out += d > 0 ? "inf" : "-inf";
    return;
  }
  if (d == 0) {
    out += std::signbit(d) ? "-0.0" : "0.0";
    return;
  }
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  std::string_view sci(buf, size_t(res.ptr - buf));  // [-]D[.DDD]e[+-]XX
  if (sci[0] == '-') {
    out += '-';
    sci.remove_prefix(1);
  }
  size_t epos = sci.find('e');
  std::string digits;
  for (size_t i = 0; i < epos; i++) {
    if (sci[i] != '.') digits += sci[i];
  }
  int exp = 0;
  std::from_chars(sci.data() + epos + 1 + (sci[epos + 1] == '+'), sci.data() + sci.size(), exp);
  if (exp >= -4 && exp < 16) {
    if (exp < 0) {
      out += "0.";
      out.append(size_t(-exp - 1), '0');
      out += digits;
    } else {
      size_t ilen = size_t(exp) + 1;
      if (digits.size() <= ilen) {
        out += digits;
        out.append(ilen - digits.size(), '0');
        out += ".0";
      } else {
        out.append(digits, 0, ilen);
        out += '.';
        out.append(digits, ilen, std::string::npos);
      }
    }
    return;
  }
  out += digits[0];
  if (digits.size() > 1) {
    out += '.';
    out.append(digits, 1, std::string::npos);
  }
  char ebuf[16];
  std::snprintf(ebuf, sizeof ebuf, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
  out += ebuf;
}

void quote_string(std::string& out, std::string_view s) {
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char b[8];
          std::snprintf(b, sizeof b, "\\x%02x", c);
          out += b;
        } else {
          out += char(c);
        }
    }
  }
  out += '"';
}

struct Formatter {
  std::string& out;
  uint64_t max;                  // stop once out is longer (the bounded format_value)
  std::vector<const Obj*> path;  // containers being printed, outermost first

  // Checked after each element: past max, every loop unwinds at once. out
  // overshoots by at most one scalar or one string that exists already.
  bool over() const { return out.size() > max; }

  bool on_path(const Obj* o) const {
    for (const Obj* p : path) {
      if (p == o) return true;
    }
    return false;
  }

  void array(const Array* a) {
    if (on_path(a) || path.size() >= kMaxDepth) {
      out += "[...]";
      return;
    }
    path.push_back(a);
    out += '[';
    Value v;
    for (uint32_t i = 0; array_get(const_cast<Array*>(a), i, &v) && !over(); i++) {  // racing pushes: bounds checked
      if (i > 0) out += ", ";
      value(v, true);
    }
    out += ']';
    path.pop_back();
  }

  void map(const Map* m) {
    if (on_path(m) || path.size() >= kMaxDepth) {
      out += "{...}";
      return;
    }
    path.push_back(m);
    out += '{';
    bool first = true;
    if (MapData* d = m->data) {
      for (uint32_t i = 0; i < d->used && !over(); i++) {
        const MapEntry& e = d->entries()[i];
        if (e.key.is_empty()) continue;
        if (!first) out += ", ";
        first = false;
        value(e.key, true);
        out += ": ";
        value(e.value, true);
      }
    }
    out += '}';
    path.pop_back();
  }

  void value(Value v, bool quote) {
    if (v.is_inline_int()) {
      char b[24];
      auto r = std::to_chars(b, b + sizeof b, v.as_inline_int());
      out.append(b, r.ptr);
    } else if (v.is_double()) {
      format_double(out, v.as_double());
    } else if (v.is_nil()) {
      out += "nil";
    } else if (v.is_bool()) {
      out += v.as_bool() ? "true" : "false";
    } else if (v.is_obj()) {
      object(v.as_obj(), quote);
    } else {
      out += "<empty>";
    }
  }

  void object(const Obj* o, bool quote) {
    switch (o->type) {
      case ObjType::String: {
        auto s = static_cast<const String*>(o)->view();
        if (quote) quote_string(out, s);
        else out += s;
        break;
      }
      case ObjType::BigInt: {
        char b[24];
        auto r = std::to_chars(b, b + sizeof b, static_cast<const BigInt*>(o)->value);
        out.append(b, r.ptr);
        break;
      }
      case ObjType::Array: array(static_cast<const Array*>(o)); break;
      case ObjType::Map: map(static_cast<const Map*>(o)); break;
      case ObjType::Closure:
        out += "<function ";
        out += static_cast<const Closure*>(o)->proto->name;
        out += '>';
        break;
      case ObjType::Native:
        out += "<function ";
        out += static_cast<const Native*>(o)->name;
        out += '>';
        break;
      case ObjType::WeakRef: out += "<weakref>"; break;
      case ObjType::Channel: out += "<channel>"; break;
      case ObjType::Host:
        out += '<';
        out += static_cast<const HostObject*>(o)->cls->name;
        out += '>';
        break;
      default: out += "<internal>"; break;
    }
  }
};

}  // namespace

void format_value(std::string& out, Value v, bool quote_strings) {
  Formatter f{out, UINT64_MAX, {}};
  f.value(v, quote_strings);
}

bool format_value(std::string& out, Value v, bool quote_strings, uint64_t max) {
  Formatter f{out, max, {}};
  f.value(v, quote_strings);
  return !f.over();
}

const char* type_name(Value v) {
  if (v.is_inline_int()) return "int";
  if (v.is_double()) return "float";
  if (v.is_nil()) return "nil";
  if (v.is_bool()) return "bool";
  if (!v.is_obj()) return "empty";
  switch (v.as_obj()->type) {
    case ObjType::String: return "string";
    case ObjType::BigInt: return "int";
    case ObjType::Array: return "array";
    case ObjType::Map: return "map";
    case ObjType::Closure:
    case ObjType::Native: return "function";
    case ObjType::WeakRef: return "weakref";
    case ObjType::Channel: return "channel";
    case ObjType::Host: return as_host_object(v)->cls->name.c_str();  // the registered name
    default: return "internal";
  }
}

}  // namespace weft
