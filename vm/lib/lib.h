// The standard-module registry (docs/language.md#standard-modules).
//
// A module is a file under vm/lib/ that defines a table of functions and a
// table of constants, and one `const Module` made from them by
// make_module. Each function is a plain NativeFn with a small declarative
// signature, a compact string the registry checks before the call, so no
// function checks its own argument types or count (a signature does not
// say everything: a range, say, is still the function's to check):
//
//   constexpr lib::Fn kFns[] = {
//       {"upper", s_upper, "s"},          // one string
//       {"trim", s_trim, "s|s"},          // a string, then an optional string
//       {"format", s_format, "s*"},       // a string, then any number of any
//       {"copy", b_copy, "[am]"},         // an array or a map
//   };
//   constexpr lib::Const kConsts[] = {lib::Const::number("pi", 3.14159...)};
//   constexpr char kName[] = "math";
//   extern const lib::Module kMathModule = lib::make_module<kName, kFns, kConsts>();
//
// (make_module<kName, kFns>() for a module without constants; a module
// whose values are computed per VM passes a setup function.)
//
// Signature letters: s string, i int, n number (int or float), b bool,
// a array, m map, f function, c channel, x any value; `[..]` one argument of
// any of several types; `|` starts the optional arguments; a final `*`
// takes any number of further arguments of any type. An optional argument
// given as nil counts as absent (lib::given). The count is checked by the
// interpreter's CALL from the Native's min/max (`strings.upper expects 1
// argument, got 2`), the types by the trampoline here
// (`strings.upper: argument 1 must be a string, got int`).
//
// Rejected: a `const char* sig` field on Native checked by CALL (puts
// library policy in the interpreter's hottest path and grows every Native);
// hand-written checks per function (the texts drift apart, as the v1
// builtins' `NAME: expected TYPE` ones show).
//
// Registering a new module: define its `const Module` in its file, declare
// it below, and add it to kModules in vm/lib/modules.cpp. Module values
// (math.pi, os.platform) are Consts, or are set by Module::setup, which
// runs once per VM with the module's export map.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <utility>

#include "vm/core/object.h"
#include "vm/core/lockrank.h"
#include "vm/interp/runtime.h"

namespace weft::lib {

struct Fn {
  const char* name;  // the exported name ("upper")
  NativeFn fn;       // called with its arguments' types checked
  const char* sig;   // see the head of this file
};

// A module value made once per VM.
struct Const {
  enum Kind { Int, Float, Str } kind;
  const char* name;
  int64_t i = 0;
  double d = 0;
  const char* s = nullptr;
  static constexpr Const integer(const char* n, int64_t v) { return {Int, n, v, 0, nullptr}; }
  static constexpr Const number(const char* n, double v) { return {Float, n, 0, v, nullptr}; }
  static constexpr Const string(const char* n, const char* v) { return {Str, n, 0, 0, v}; }
};

struct Module {
  const char* name;
  const Fn* fns;
  const NativeFn* checked;     // fns[i] behind its signature check (make_module)
  const char* const* qnames;   // "module.name", the Natives' names
  size_t nfns;
  const Const* consts;
  size_t nconsts;
  void (*setup)(Runtime& rt, Map* exports);  // nullable: per-VM state, computed values
};

// The standard modules (one file each under vm/lib/).
extern const Module kIoModule;
extern const Module kMathModule;
extern const Module kStringsModule;
extern const Module kFsModule;   // fs.cpp
extern const Module kOsModule;   // os.cpp
// The v2 array builtins (arrays.cpp): globals, not a module.
extern const Module kArrayBuiltins;

// ---- signatures ----

// The counts a signature allows; max -1 for any number.
constexpr int sig_min(const char* s) {
  int n = 0;
  for (; *s && *s != '|' && *s != '*'; s++) {
    if (*s == '[') {
      while (*s != ']') s++;
    }
    n++;
  }
  return n;
}
constexpr int sig_max(const char* s) {
  int n = 0;
  for (; *s; s++) {
    if (*s == '*') return -1;
    if (*s == '|') continue;
    if (*s == '[') {
      while (*s != ']') s++;
    }
    n++;
  }
  return n;
}

// Checks args[0..n) against sig; raises `NAME: argument K must be ...` and
// returns false on the first mismatch. n is already within the counts.
bool check_args(Thread* t, const char* qname, const char* sig, const Value* args, int n);

// Whether optional argument i was given (present and not nil).
inline bool given(const Value* args, int n, int i) { return i < n && !args[i].is_nil(); }

namespace detail {

constexpr size_t cstr_len(const char* s) {
  size_t n = 0;
  while (s[n]) n++;
  return n;
}

// "module.name" (or "name" for a builtin: Mod empty), made at compile time.
template <const char* Mod, const auto& Fns, size_t I>
struct QName {
  static constexpr size_t kMod = cstr_len(Mod), kFn = cstr_len(Fns[I].name);
  static constexpr size_t kLen = kMod + (kMod ? 1 : 0) + kFn + 1;
  static constexpr std::array<char, kLen> value = [] {
    std::array<char, kLen> a{};
    size_t k = 0;
    for (size_t j = 0; j < kMod; j++) a[k++] = Mod[j];
    if (kMod) a[k++] = '.';
    for (size_t j = 0; j < kFn; j++) a[k++] = Fns[I].name[j];
    a[k] = 0;
    return a;
  }();
};

template <const char* Mod, const auto& Fns, size_t I>
Value checked(Thread* t, Value* args, int n) {
  if (!check_args(t, QName<Mod, Fns, I>::value.data(), Fns[I].sig, args, n)) return Value::empty();
  return Fns[I].fn(t, args, n);
}

template <const char* Mod, const auto& Fns, size_t... I>
constexpr std::array<NativeFn, sizeof...(I)> trampolines(std::index_sequence<I...>) {
  return {&checked<Mod, Fns, I>...};
}
template <const char* Mod, const auto& Fns, size_t... I>
constexpr std::array<const char*, sizeof...(I)> qnames(std::index_sequence<I...>) {
  return {QName<Mod, Fns, I>::value.data()...};
}

template <const char* Mod, const auto& Fns>
struct Tables {
  static constexpr size_t N = std::size(Fns);
  static constexpr auto checked = trampolines<Mod, Fns>(std::make_index_sequence<N>{});
  static constexpr auto names = qnames<Mod, Fns>(std::make_index_sequence<N>{});
};

}  // namespace detail

// The module named Mod with functions Fns, and constants Consts (all
// static constexpr arrays).
template <const char* Mod, const auto& Fns>
constexpr Module make_module(void (*setup)(Runtime&, Map*) = nullptr) {
  using T = detail::Tables<Mod, Fns>;
  return {Mod, Fns, T::checked.data(), T::names.data(), T::N, nullptr, 0, setup};
}
template <const char* Mod, const auto& Fns, const auto& Consts>
constexpr Module make_module(void (*setup)(Runtime&, Map*) = nullptr) {
  using T = detail::Tables<Mod, Fns>;
  return {Mod, Fns, T::checked.data(), T::names.data(), T::N, Consts, std::size(Consts), setup};
}

// Defines each of fns as a global native behind its signature check (the
// v2 builtins: `insert: argument 1 must be an array, got int`).
void define_natives(Runtime& rt, const Module& m);

// ---- per-VM state ----

// xoshiro256** (Blackman and Vigna): 256 bits of state, 64-bit outputs,
// passes BigCrush; one per VM behind a leaf lock (math.cpp).
struct Rng {
  uint64_t s[4];
  uint64_t next();
  void seed(uint64_t n);  // expands n through splitmix64, as the authors advise
};

// The file modules loaded and loading (imports.cpp).
struct FileModules;
std::shared_ptr<FileModules> make_file_modules();
// import() of a name that is no standard module: a file module's exports,
// or Value::empty() with the error raised, or sched::kParked (it waits for
// another goroutine's load and runs again when readied).
Value import_file(Thread* t, FileModules& fm, std::string_view name);

// What the standard modules keep per VM (Runtime::lib_state). Made by
// install_modules, freed with the Runtime.
struct State {
  Mutex rng_mu{LockRank::Leaf};  // guards rng; held for a few draws, never across a call
  Rng rng;
  std::shared_ptr<FileModules> files;
};
inline State& state(Runtime& rt) { return *static_cast<State*>(rt.lib_state.get()); }

// The sandbox (RuntimeOptions::lib_stdin): whether the VM offers standard
// input; if not, raises `QNAME: standard input is disabled in this VM`.
bool stdin_enabled(Thread* t, const char* qname);

// Whether `name` is a standard module's (offered by this VM or not).
bool is_standard_module(std::string_view name);
// A host module (weft::VM::define_module): import(name) returns `exports`
// from now on. False, changing nothing, when name is a standard module's
// or another host module's. The world stopped (it allocates a key).
bool add_module(Runtime& rt, std::string_view name, Map* exports);

// Makes each module's exports and defines `import` (modules.cpp).
void install_modules(Runtime& rt);

// ---- helpers for module functions ----

inline Value obj(const void* o) { return Value::object(static_cast<const Obj*>(o)); }
inline Value str(Runtime& rt, std::string_view s) { return obj(rt.new_string(s)); }

// Until branch `runtime`'s heap-limit helper lands: refuses a result of
// `bytes` before allocating it, as repeat() does: past 2 GiB, or past the
// heap limit (`out of memory`). Raises and returns false.
bool check_size(Thread* t, const char* qname, uint64_t bytes);
// The largest result check_size accepts.
uint64_t size_cap(Runtime& rt);

}  // namespace weft::lib
