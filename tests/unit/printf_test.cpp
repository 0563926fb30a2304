// strings.format's engine (vm/lib/printf.cpp) against C's snprintf: a few
// thousand generated format/value pairs, every verb C shares with it, with
// random flags, widths and precisions, and values chosen to hit the hard
// cases (rounding ties, huge and tiny floats, the int extremes).
#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <string>

#include "vm/interp/runtime.h"
#include "vm/lib/printf.h"

namespace weft {
namespace {

constexpr size_t kMaxBytes = size_t(1) << 31;

struct Gen {
  std::mt19937_64 rng{20261207};

  uint64_t below(uint64_t n) { return rng() % n; }

  int64_t an_int() {
    static const int64_t edges[] = {0, 1, -1, 7, -42, 255, 256, INT64_MAX, INT64_MIN, INT64_MIN + 1,
                                    int64_t(1) << 47, -(int64_t(1) << 47), 1000000007};
    switch (below(3)) {
      case 0: return edges[below(std::size(edges))];
      case 1: return int64_t(below(2000)) - 1000;
      default: return int64_t(rng());
    }
  }

  double a_float() {
    static const double edges[] = {0.0, -0.0, 1.0, -1.0, 0.5, 1.5, 2.5, -2.5, 0.125, 1e-300, 5e-324,
                                   DBL_MIN, DBL_MAX, -DBL_MAX, 1e16, 123456789.0, 0.1, 0.3,
                                   std::numeric_limits<double>::infinity(),
                                   -std::numeric_limits<double>::infinity(),
                                   std::numeric_limits<double>::quiet_NaN(), 9.5, 99.5, 0.05, 2.0005};
    switch (below(5)) {
      case 0: return edges[below(std::size(edges))];
      case 1: {  // any bit pattern: every magnitude
        uint64_t bits = rng();
        double d;
        std::memcpy(&d, &bits, sizeof d);
        return d;
      }
      case 2: return double(int64_t(below(2000000)) - 1000000) / 1000.0;  // few decimals
      case 3: return double(int64_t(below(4000)) - 2000) / 8.0;           // exact ties
      default: return (double(rng() >> 11) * 0x1p-53 - 0.5) * std::pow(10.0, double(int(below(40)) - 20));
    }
  }

  // "%[flags][width][.prec]" for a verb, and the C spec with `ll` for ints.
  void spec(char verb, std::string* ours, std::string* c) {
    std::string flags;
    const char* allowed = verb == 'd' ? "-+ 0" : (verb == 'c' || verb == 's') ? "-" : "-+ 0#";
    for (const char* f = allowed; *f; f++) {
      if (below(4) == 0) flags += *f;
    }
    int width = below(2) ? int(below(25)) : 0;
    int prec = verb != 'c' && below(2) ? int(below(below(10) == 0 ? 60 : 18)) : -1;
    char head[64];  // snprintf, not a string + chain: GCC 12's -Wrestrict misfires on those
    int n = std::snprintf(head, sizeof head, "%%%s", flags.c_str());
    if (width > 0) n += std::snprintf(head + n, sizeof head - size_t(n), "%d", width);
    if (prec >= 0) n += std::snprintf(head + n, sizeof head - size_t(n), ".%d", prec);
    *ours = std::string(head) + verb;
    *c = std::string(head) + (std::strchr("dxXob", verb) != nullptr ? "ll" : "") + verb;
  }
};

std::string c_format(const std::string& spec, auto value) {
  int n = std::snprintf(nullptr, 0, spec.c_str(), value);
  std::string s(size_t(n) + 1, '\0');
  std::snprintf(s.data(), s.size(), spec.c_str(), value);
  s.resize(size_t(n));
  return s;
}

TEST(Printf, MatchesSnprintfOnGeneratedPairs) {
  Runtime rt;
  Gen g;
  const char verbs[] = "dxXobefgcs";
  int checked = 0, failures = 0;
  for (int i = 0; i < 6000; i++) {
    char verb = verbs[g.below(std::strlen(verbs))];
    std::string ours, cspec;
    g.spec(verb, &ours, &cspec);
    std::string text = g.below(3) == 0 ? "x=" : "";  // literal text around the verb
    Value arg;
    std::string want;
    if (std::strchr("dxXob", verb)) {
      int64_t v = g.an_int();
      arg = rt.make_int(v);
      want = c_format(cspec, (long long)v);
    } else if (verb == 'c') {
      int64_t v = 32 + int64_t(g.below(95));
      arg = rt.make_int(v);
      want = c_format(cspec, int(v));
    } else if (verb == 's') {
      std::string s(g.below(12), 'a');
      for (char& ch : s) ch = char('a' + g.below(26));
      arg = Value::object(rt.new_string(s));
      want = c_format(cspec, s.c_str());
    } else {
      double d = g.a_float();
      arg = Value::number(d);
      want = c_format(cspec, d);
    }
    std::string got, err;
    bool too_large;
    ASSERT_TRUE(lib::format_printf(got, text + ours + "|", &arg, 1, &err, kMaxBytes, &too_large)) << ours << ": " << err;
    checked++;
    if (got != text + want + "|" && ++failures <= 20) {
      ADD_FAILURE() << "format " << ours << " (C " << cspec << "): got [" << got << "], snprintf [" << text << want << "|]";
    }
  }
  EXPECT_EQ(failures, 0) << "of " << checked;
}

// Two verbs and a %% in one format, and the errors.
TEST(Printf, SeveralVerbsAndErrors) {
  Value args[] = {Value::inline_int(5), Value::number(0.5)};
  std::string out, err;
  bool too_large;
  ASSERT_TRUE(lib::format_printf(out, "[%03d%%|%-6.2e]", args, 2, &err, kMaxBytes, &too_large));
  EXPECT_EQ(out, "[005%|5.00e-01]");
  out.clear();
  EXPECT_FALSE(lib::format_printf(out, "%d %e %d", args, 2, &err, kMaxBytes, &too_large));
  EXPECT_EQ(err, "missing argument 4 for %d");
  out.clear();
  EXPECT_FALSE(lib::format_printf(out, "%50d", args, 1, &err, 10, &too_large));
  EXPECT_TRUE(too_large);
}

}  // namespace
}  // namespace weft
