// The `math` module (docs/language.md#math): constants, the C library's
// functions on floats, and a random number generator per VM.
//
// The generator is xoshiro256** (lib.h, Rng), seeded from getrandom() when
// the VM is made, so unseeded runs differ; math.seed(n) makes the sequence
// repeatable. One generator serves every goroutine, behind a leaf lock held
// for one draw (random, random_int) or one seed draw (shuffle, which then
// shuffles with a private generator seeded from it, so a large shuffle
// never holds the lock). Rejected: a generator per M or per P (a goroutine
// moves between them, so seed(n) would not give one sequence); a lock-free
// splitmix counter (fine, but weaker than the xoshiro family the contract
// asks for).
#include <cmath>
#include <cstring>
#include <limits>
#include <numbers>

#include "vm/core/objops.h"
#include "vm/lib/lib.h"

namespace weft::lib {

uint64_t Rng::next() {
  auto rotl = [](uint64_t x, int k) { return (x << k) | (x >> (64 - k)); };
  uint64_t result = rotl(s[1] * 5, 7) * 9;
  uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

void Rng::seed(uint64_t n) {
  for (uint64_t& w : s) {  // splitmix64: never all zero, well mixed
    n += 0x9e3779b97f4a7c15ull;
    uint64_t z = n;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    w = z ^ (z >> 31);
  }
}

namespace {

uint64_t draw(Thread* t) {
  State& st = state(*t->rt);
  std::lock_guard lk(st.rng_mu);
  return st.rng.next();
}

// A uniform draw in [0, range) (range > 0), without modulo bias: Lemire's
// multiply-and-reject, which rejects fewer than range/2^64 of the draws.
template <typename Draw>
uint64_t below(uint64_t range, Draw&& next) {
  unsigned __int128 m = (unsigned __int128)next() * range;
  if (uint64_t(m) < range) {
    uint64_t threshold = (0 - range) % range;
    while (uint64_t(m) < threshold) m = (unsigned __int128)next() * range;
  }
  return uint64_t(m >> 64);
}

double num(Value v) { return number_of(v); }

Value floats(double (*f)(double), Value* args) { return Value::number(f(num(args[0]))); }

Value m_exp(Thread*, Value* a, int) { return floats(std::exp, a); }
Value m_log2(Thread*, Value* a, int) { return floats(std::log2, a); }
Value m_log10(Thread*, Value* a, int) { return floats(std::log10, a); }
Value m_sin(Thread*, Value* a, int) { return floats(std::sin, a); }
Value m_cos(Thread*, Value* a, int) { return floats(std::cos, a); }
Value m_tan(Thread*, Value* a, int) { return floats(std::tan, a); }
Value m_asin(Thread*, Value* a, int) { return floats(std::asin, a); }
Value m_acos(Thread*, Value* a, int) { return floats(std::acos, a); }
Value m_atan(Thread*, Value* a, int) { return floats(std::atan, a); }
Value m_sinh(Thread*, Value* a, int) { return floats(std::sinh, a); }
Value m_cosh(Thread*, Value* a, int) { return floats(std::cosh, a); }
Value m_tanh(Thread*, Value* a, int) { return floats(std::tanh, a); }
Value m_pow(Thread*, Value* a, int) { return Value::number(std::pow(num(a[0]), num(a[1]))); }
Value m_atan2(Thread*, Value* a, int) { return Value::number(std::atan2(num(a[0]), num(a[1]))); }
Value m_hypot(Thread*, Value* a, int) { return Value::number(std::hypot(num(a[0]), num(a[1]))); }
Value m_fmod(Thread*, Value* a, int) { return Value::number(std::fmod(num(a[0]), num(a[1]))); }

// log(x) natural; log(x, 2) and log(x, 10) exact where log2/log10 are.
Value m_log(Thread*, Value* a, int n) {
  double x = num(a[0]);
  if (!given(a, n, 1)) return Value::number(std::log(x));
  double base = num(a[1]);
  if (base == 2) return Value::number(std::log2(x));
  if (base == 10) return Value::number(std::log10(x));
  return Value::number(std::log(x) / std::log(base));
}

// round and trunc give an int when the result fits, as floor and ceil do.
Value to_int(Thread* t, Value v, double (*fn)(double)) {
  if (is_int(v)) return v;
  double d = fn(v.as_double());
  if (d >= -9223372036854775808.0 && d < 9223372036854775808.0) return t->rt->make_int(int64_t(d));
  return Value::number(d);
}
Value m_round(Thread* t, Value* a, int) { return to_int(t, a[0], std::round); }
Value m_trunc(Thread* t, Value* a, int) { return to_int(t, a[0], std::trunc); }

// -1, 0 or 1, of the argument's type (nan for nan).
Value m_sign(Thread*, Value* a, int) {
  if (is_int(a[0])) {
    int64_t i = int_of(a[0]);
    return Value::inline_int(i > 0 ? 1 : i < 0 ? -1 : 0);
  }
  double d = a[0].as_double();
  return Value::number(d > 0 ? 1.0 : d < 0 ? -1.0 : d);
}

Value m_is_nan(Thread*, Value* a, int) { return Value::boolean(a[0].is_double() && std::isnan(a[0].as_double())); }
Value m_is_inf(Thread*, Value* a, int) { return Value::boolean(a[0].is_double() && std::isinf(a[0].as_double())); }

Value m_random(Thread* t, Value*, int) { return Value::number(double(draw(t) >> 11) * 0x1p-53); }

Value m_random_int(Thread* t, Value* a, int) {
  int64_t lo = int_of(a[0]), hi = int_of(a[1]);
  if (lo > hi) {
    t->raise("math.random_int: lo (%lld) is greater than hi (%lld)", (long long)lo, (long long)hi);
    return Value::empty();
  }
  uint64_t span = uint64_t(hi) - uint64_t(lo);  // hi - lo + 1 wraps to 0 for the whole range
  uint64_t r = span == UINT64_MAX ? draw(t) : below(span + 1, [t] { return draw(t); });
  return t->rt->make_int(int64_t(uint64_t(lo) + r));
}

Value m_seed(Thread* t, Value* a, int) {
  State& st = state(*t->rt);
  std::lock_guard lk(st.rng_mu);
  st.rng.seed(uint64_t(int_of(a[0])));
  return Value::nil();
}

// Fisher-Yates with a private generator seeded by one draw.
Value m_shuffle(Thread* t, Value* a, int) {
  Array* arr = as_array(a[0]);
  Rng local;
  local.seed(draw(t));
  Array::Items it;
  uint32_t len = arr->live(&it);
  for (uint32_t i = len; i > 1; i--) {
    uint64_t j = below(i, [&local] { return local.next(); });
    std::swap(it.items[i - 1], it.items[j]);
  }
  return Value::nil();
}

constexpr Fn kFns[] = {
    {"pow", m_pow, "nn"},       {"exp", m_exp, "n"},
    {"log", m_log, "n|n"},      {"log2", m_log2, "n"},
    {"log10", m_log10, "n"},    {"sin", m_sin, "n"},
    {"cos", m_cos, "n"},        {"tan", m_tan, "n"},
    {"asin", m_asin, "n"},      {"acos", m_acos, "n"},
    {"atan", m_atan, "n"},      {"atan2", m_atan2, "nn"},
    {"sinh", m_sinh, "n"},      {"cosh", m_cosh, "n"},
    {"tanh", m_tanh, "n"},      {"hypot", m_hypot, "nn"},
    {"fmod", m_fmod, "nn"},     {"round", m_round, "n"},
    {"trunc", m_trunc, "n"},    {"sign", m_sign, "n"},
    {"is_nan", m_is_nan, "n"},  {"is_inf", m_is_inf, "n"},
    {"random", m_random, ""},   {"random_int", m_random_int, "ii"},
    {"seed", m_seed, "i"},      {"shuffle", m_shuffle, "a"},
};

constexpr Const kConsts[] = {
    Const::number("pi", std::numbers::pi),
    Const::number("e", std::numbers::e),
    Const::number("inf", std::numeric_limits<double>::infinity()),
    Const::number("nan", std::numeric_limits<double>::quiet_NaN()),
    Const::integer("max_int", std::numeric_limits<int64_t>::max()),
    Const::integer("min_int", std::numeric_limits<int64_t>::min()),
};

constexpr char kName[] = "math";

}  // namespace

extern const Module kMathModule = make_module<kName, kFns, kConsts>();

}  // namespace weft::lib
