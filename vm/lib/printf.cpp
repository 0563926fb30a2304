// strings.format's engine (printf.h): C's printf verbs on Weft values.
//
// Numbers format as C's snprintf does in the C locale (a unit test checks
// thousands of format/value pairs against it): %d signed, %x %X %o %b the
// 64-bit two's complement as unsigned (as Lua's string.format does), %e %f
// %g correctly rounded through std::to_chars, which the standard defines as
// printf's conversion of the same precision (and which is several times
// faster than snprintf). Where C and Go differ and C has no answer, Go's
// wins: %c writes the UTF-8 encoding of a code point, %v and %s format any
// value as print does, %q quotes it as print quotes strings inside arrays.
// An int-only verb takes a float with an integral value (Lua's rule).
//
// The format's mistakes are errors, not text in the output (Go's
// `%!d(string=x)`): an unknown verb, a missing argument, an argument of the
// wrong type, and arguments left over.
#include "vm/lib/printf.h"

#include <charconv>
#include <cmath>
#include <cstdio>

#include "vm/core/object.h"
#include "vm/interp/runtime.h"

namespace weft::lib {

namespace {

constexpr int64_t kMaxField = int64_t(1) << 40;  // width and precision clamp here, past any result check_room allows

struct Spec {
  bool minus = false, plus = false, space = false, zero = false, alt = false;
  int64_t width = 0;
  int64_t prec = -1;  // -1: none
  char verb = 0;
};

struct Printer {
  std::string& out;
  std::string* err;
  size_t max_bytes;
  bool* too_large;

  bool fail(std::string msg) {
    *err = std::move(msg);
    return false;
  }

  bool check_room(size_t more) {
    if (out.size() + more <= max_bytes) return true;
    *too_large = true;
    return fail("result too large");
  }

  // sign, prefix ("0x"), zeros, then body, padded to the width: spaces on
  // the left, on the right with '-', or zeros after the prefix with '0'.
  bool emit(const Spec& sp, std::string_view sign, std::string_view prefix, std::string_view body, bool zero_pad) {
    size_t len = sign.size() + prefix.size() + body.size();
    size_t pad = size_t(sp.width) > len ? size_t(sp.width) - len : 0;
    if (!check_room(len + pad)) return false;
    if (!sp.minus && !zero_pad) out.append(pad, ' ');
    out += sign;
    out += prefix;
    if (!sp.minus && zero_pad) out.append(pad, '0');
    out += body;
    if (sp.minus) out.append(pad, ' ');
    return true;
  }

  std::string_view sign_of(const Spec& sp, bool negative) const {
    return negative ? "-" : sp.plus ? "+" : sp.space ? " " : "";
  }

  bool integer(const Spec& sp, int64_t v) {
    bool negative = sp.verb == 'd' && v < 0;
    uint64_t mag = negative ? 0 - uint64_t(v) : uint64_t(v);
    int base = sp.verb == 'd' ? 10 : sp.verb == 'o' ? 8 : sp.verb == 'b' ? 2 : 16;
    char buf[80];
    size_t n = 0;
    if (!(sp.prec == 0 && mag == 0)) {  // C: precision 0 prints no digits for 0
      auto r = std::to_chars(buf, buf + sizeof buf, mag, base);
      n = size_t(r.ptr - buf);
      if (sp.verb == 'X') {
        for (size_t i = 0; i < n; i++) buf[i] = char(std::toupper((unsigned char)buf[i]));
      }
    }
    std::string digits;
    if (sp.prec > 0 && size_t(sp.prec) > n) {
      if (!check_room(size_t(sp.prec))) return false;
      digits.assign(size_t(sp.prec) - n, '0');
    }
    digits.append(buf, n);
    std::string_view prefix;
    if (sp.alt) {
      if (sp.verb == 'o' && (digits.empty() || digits[0] != '0')) digits.insert(0, 1, '0');
      if (mag != 0) prefix = sp.verb == 'x' ? "0x" : sp.verb == 'X' ? "0X" : sp.verb == 'b' ? "0b" : "";
    }
    std::string_view sign = sp.verb == 'd' ? sign_of(sp, negative) : "";
    return emit(sp, sign, prefix, digits, sp.zero && !sp.minus && sp.prec < 0);
  }

  // C's %#e/%#f/%#g, rare enough to hand to snprintf.
  bool alt_float(const Spec& sp, double d) {
    char cfmt[16];
    std::snprintf(cfmt, sizeof cfmt, "%%#.*%c", sp.verb);
    if (!check_room(size_t(sp.prec) + 330)) return false;  // as floating(); also keeps prec within int
    int n = std::snprintf(nullptr, 0, cfmt, int(sp.prec), std::fabs(d));
    std::string body(size_t(n) + 1, '\0');
    std::snprintf(body.data(), body.size(), cfmt, int(sp.prec), std::fabs(d));
    body.resize(size_t(n));
    return emit(sp, sign_of(sp, std::signbit(d)), "", body, sp.zero && !sp.minus);
  }

  bool floating(Spec sp, double d) {
    bool negative = std::signbit(d);
    if (!std::isfinite(d)) {  // glibc pads inf and nan with spaces even with '0'
      return emit(sp, sign_of(sp, negative), "", std::isnan(d) ? "nan" : "inf", false);
    }
    if (sp.prec < 0) sp.prec = 6;
    if (sp.verb == 'g' && sp.prec == 0) sp.prec = 1;
    if (sp.alt) return alt_float(sp, d);
    auto fmt = sp.verb == 'e' ? std::chars_format::scientific
               : sp.verb == 'f' ? std::chars_format::fixed : std::chars_format::general;
    char small[128];
    std::string big;
    char* buf = small;
    size_t cap = sizeof small;
    if (size_t(sp.prec) + 330 > cap) {  // 309 integer digits of DBL_MAX, the point, an exponent
      if (!check_room(size_t(sp.prec) + 330)) return false;
      big.resize(size_t(sp.prec) + 330);
      buf = big.data();
      cap = big.size();
    }
    auto r = std::to_chars(buf, buf + cap, std::fabs(d), fmt, int(sp.prec));
    return emit(sp, sign_of(sp, negative), "", std::string_view(buf, size_t(r.ptr - buf)), sp.zero && !sp.minus);
  }

  bool character(const Spec& sp, int64_t c, int k) {
    if (c < 0 || c > 0x10FFFF) {
      return fail("argument " + std::to_string(k) + " for %c must be a code point 0..0x10ffff, got " +
                  std::to_string(c));
    }
    char buf[4];
    size_t n;
    uint32_t u = uint32_t(c);
    if (u < 0x80) {
      buf[0] = char(u), n = 1;
    } else if (u < 0x800) {
      buf[0] = char(0xC0 | (u >> 6)), buf[1] = char(0x80 | (u & 0x3F)), n = 2;
    } else if (u < 0x10000) {
      buf[0] = char(0xE0 | (u >> 12)), buf[1] = char(0x80 | ((u >> 6) & 0x3F)), buf[2] = char(0x80 | (u & 0x3F)), n = 3;
    } else {
      buf[0] = char(0xF0 | (u >> 18)), buf[1] = char(0x80 | ((u >> 12) & 0x3F));
      buf[2] = char(0x80 | ((u >> 6) & 0x3F)), buf[3] = char(0x80 | (u & 0x3F)), n = 4;
    }
    return emit(sp, "", "", std::string_view(buf, n), false);
  }

  bool text(const Spec& sp, Value v) {
    if (sp.verb == 's' && is_type(v, ObjType::String)) {
      std::string_view s = as_string(v)->view();
      if (sp.prec >= 0 && size_t(sp.prec) < s.size()) s = s.substr(0, size_t(sp.prec));
      return emit(sp, "", "", s, false);
    }
    std::string s;
    format_value(s, v, sp.verb == 'q');
    if (sp.verb == 's' && sp.prec >= 0 && size_t(sp.prec) < s.size()) s.resize(size_t(sp.prec));
    return emit(sp, "", "", s, false);
  }

  bool wrong_type(const Spec& sp, int k, const char* want, Value v) {
    return fail("argument " + std::to_string(k) + " for %" + sp.verb + " must be " + want + ", got " + type_name(v));
  }

  // One verb with its argument v, argument k of strings.format.
  bool verb(const Spec& sp, Value v, int k) {
    switch (sp.verb) {
      case 'd': case 'x': case 'X': case 'o': case 'b': case 'c': {
        int64_t i;
        if (is_int(v)) {
          i = int_of(v);
        } else if (v.is_double() && std::trunc(v.as_double()) == v.as_double() &&
                   v.as_double() >= -9223372036854775808.0 && v.as_double() < 9223372036854775808.0) {
          i = int64_t(v.as_double());
        } else {
          return wrong_type(sp, k, "an int", v);
        }
        return sp.verb == 'c' ? character(sp, i, k) : integer(sp, i);
      }
      case 'e': case 'f': case 'g':
        if (!is_number(v)) return wrong_type(sp, k, "a number", v);
        return floating(sp, number_of(v));
      default:  // s q v
        return text(sp, v);
    }
  }
};

// Parses the verb after the '%' at fmt[*i]; *i ends past it.
bool parse_spec(std::string_view fmt, size_t* i, Spec* sp, std::string* err) {
  size_t start = *i - 1, j = *i;
  for (; j < fmt.size(); j++) {
    char c = fmt[j];
    if (c == '-') sp->minus = true;
    else if (c == '+') sp->plus = true;
    else if (c == ' ') sp->space = true;
    else if (c == '0') sp->zero = true;
    else if (c == '#') sp->alt = true;
    else break;
  }
  auto number = [&](int64_t* out) {
    int64_t n = 0;
    while (j < fmt.size() && fmt[j] >= '0' && fmt[j] <= '9') n = std::min<int64_t>(n * 10 + (fmt[j++] - '0'), kMaxField);
    *out = n;
  };
  number(&sp->width);
  if (j < fmt.size() && fmt[j] == '.') {
    j++;
    number(&sp->prec);
  }
  if (j >= fmt.size()) {
    *err = "format ends in an incomplete verb \"" + std::string(fmt.substr(start)) + "\"";
    return false;
  }
  sp->verb = fmt[j];
  *i = j + 1;
  if (std::string_view("dxXobcefgsqv").find(sp->verb) == std::string_view::npos) {
    *err = "unknown verb %" + std::string(fmt.substr(j, 1)) + " in \"" + std::string(fmt.substr(start, j + 1 - start)) + "\"";
    return false;
  }
  return true;
}

}  // namespace

bool format_printf(std::string& out, std::string_view fmt, const Value* args, int nargs, std::string* err,
                   size_t max_bytes, bool* too_large) {
  Printer p{out, err, max_bytes, too_large};
  *too_large = false;
  int next = 0;
  size_t i = 0;
  while (i < fmt.size()) {
    size_t pct = fmt.find('%', i);
    size_t end = pct == std::string_view::npos ? fmt.size() : pct;
    if (!p.check_room(end - i)) return false;
    out.append(fmt.data() + i, end - i);
    if (pct == std::string_view::npos) break;
    i = pct + 1;
    if (i < fmt.size() && fmt[i] == '%') {
      out += '%';
      i++;
      continue;
    }
    Spec sp;
    if (!parse_spec(fmt, &i, &sp, err)) return false;
    if (next >= nargs) return p.fail("missing argument " + std::to_string(next + 2) + " for %" + sp.verb);
    if (!p.verb(sp, args[next], next + 2)) return false;
    next++;
  }
  if (next < nargs) {
    return p.fail("too many arguments (the format uses " + std::to_string(next) + ", got " + std::to_string(nargs) + ")");
  }
  return true;
}

}  // namespace weft::lib
