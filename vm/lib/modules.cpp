// The module registry: signature checks, each standard module's exports
// made once per VM, and `import` (lib.h has the model).
//
// Every standard module's export map is made when the Runtime is built
// (install_modules), not at first import: a few dozen Natives cost
// microseconds, and a map that exists before any goroutine runs needs no
// lock for two goroutines importing it at once. The maps hang off a hidden
// global (a name no script can spell), which makes them GC roots.
#include <sys/random.h>

#include <cstring>
#include <ctime>
#include <string>

#include "vm/core/objops.h"
#include "vm/lib/lib.h"

namespace weft::lib {

namespace {

// Every standard module, by the name import() takes.
const Module* const kModules[] = {&kIoModule, &kMathModule, &kStringsModule, &kFsModule, &kOsModule};

// The hidden global holding {name: exports} for the standard modules.
constexpr std::string_view kModulesGlobal = " modules";

const char* type_phrase(char c) {
  switch (c) {
    case 's': return "a string";
    case 'i': return "an int";
    case 'n': return "a number";
    case 'b': return "a bool";
    case 'a': return "an array";
    case 'm': return "a map";
    case 'f': return "a function";
    case 'c': return "a channel";
    default: return "a value";
  }
}

bool matches(char c, Value v) {
  switch (c) {
    case 's': return is_type(v, ObjType::String);
    case 'i': return is_int(v);
    case 'n': return is_number(v);
    case 'b': return v.is_bool();
    case 'a': return is_type(v, ObjType::Array);
    case 'm': return is_type(v, ObjType::Map);
    case 'f': return is_type(v, ObjType::Closure) || is_type(v, ObjType::Native);
    case 'c': return is_type(v, ObjType::Channel);
    default: return true;  // 'x'
  }
}

// `NAME: argument K must be a string, got int`; for `[am]`,
// `... must be an array or a map, got int`.
void raise_type(Thread* t, const char* qname, int k, std::string_view alts, Value got) {
  std::string want;
  for (size_t j = 0; j < alts.size(); j++) {
    if (j > 0) want += j + 1 == alts.size() ? " or " : ", ";
    want += type_phrase(alts[j]);
  }
  t->raise("%s: argument %d must be %s, got %s", qname, k + 1, want.c_str(), type_name(got));
}

Map* module_table(Runtime& rt) {
  return as_map(rt.globals[size_t(rt.find_global(kModulesGlobal))]);
}

Map* make_exports(Runtime& rt, const Module& m) {
  Map* exports = rt.new_map(uint32_t(m.nfns + m.nconsts));
  for (size_t i = 0; i < m.nfns; i++) {
    const Fn& f = m.fns[i];
    Native* n = rt.new_native(m.qnames[i], m.checked[i], sig_min(f.sig), sig_max(f.sig));
    map_set(rt.heap(), exports, str(rt, f.name), obj(n));
  }
  for (size_t i = 0; i < m.nconsts; i++) {
    const Const& c = m.consts[i];
    Value v = c.kind == Const::Int ? rt.make_int(c.i) : c.kind == Const::Float ? Value::number(c.d) : str(rt, c.s);
    map_set(rt.heap(), exports, str(rt, c.name), v);
  }
  if (m.setup != nullptr) m.setup(rt, exports);
  return exports;
}

// Whether the sandbox offers standard module m (RuntimeOptions::lib_*).
bool enabled(const RuntimeOptions& o, const Module& m) {
  if (&m == &kFsModule) return o.lib_fs;
  if (&m == &kOsModule) return o.lib_os;
  return true;
}

bool is_standard(std::string_view name) {
  for (const Module* m : kModules) {
    if (name == m->name) return true;
  }
  return false;
}

// The exports of module `name`, or raises `import: no module ...`. The one
// place import resolves a name: a standard or host module (the hidden
// table), else a file module (imports.cpp: `./x`, WEFT_PATH, the main
// script's directory). A standard module the sandbox leaves out is
// refused by name, never looked for as a file of that name.
Value resolve_module(Thread* t, std::string_view name) {
  Runtime& rt = *t->rt;
  bool path = name.starts_with("./") || name.starts_with("../") || name.starts_with('/');
  if (!path) {
    Value exports = map_get(module_table(rt), str(rt, name));
    if (!exports.is_empty()) return exports;
    if (is_standard(name)) {
      t->raise("import: module \"%.*s\" is disabled in this VM", int(name.size()), name.data());
      return Value::empty();
    }
  }
  if (rt.options().file_imports == RuntimeOptions::Imports::None) {
    t->raise("import: file modules are disabled in this VM (importing \"%.*s\")", int(name.size()), name.data());
    return Value::empty();
  }
  return import_file(t, *state(rt).files, name);
}

Value b_import(Thread* t, Value* args, int) { return resolve_module(t, as_string(args[0])->view()); }

constexpr Fn kImport[] = {{"import", b_import, "s"}};
constexpr char kNoModule[] = "";
constexpr Module kImportFns = make_module<kNoModule, kImport>();

}  // namespace

bool check_args(Thread* t, const char* qname, const char* sig, const Value* args, int n) {
  int k = 0;
  const char* bar = std::strchr(sig, '|');
  for (const char* s = sig; *s && k < n; s++) {
    if (*s == '*') return true;
    if (*s == '|') continue;
    bool optional = bar != nullptr && s > bar;
    std::string_view alts(s, 1);
    if (*s == '[') {
      const char* e = std::strchr(s, ']');
      alts = std::string_view(s + 1, size_t(e - s - 1));
      s = e;
    }
    Value v = args[k];
    bool ok = optional && v.is_nil();
    for (char c : alts) ok = ok || matches(c, v);
    if (!ok) {
      raise_type(t, qname, k, alts, v);
      return false;
    }
    k++;
  }
  return true;
}

void define_natives(Runtime& rt, const Module& m) {
  for (size_t i = 0; i < m.nfns; i++) {
    const Fn& f = m.fns[i];
    rt.define_native(m.qnames[i], m.checked[i], sig_min(f.sig), sig_max(f.sig));
  }
}

constexpr uint64_t kMaxResult = uint64_t(1) << 31;  // as repeat(): one result past 2 GiB is a mistake

uint64_t size_cap(Runtime& rt) {
  uint64_t limit = rt.options().heap_limit;
  return limit != 0 && limit < kMaxResult ? limit : kMaxResult;
}

bool check_size(Thread* t, const char* qname, uint64_t bytes) {
  uint64_t limit = t->rt->options().heap_limit;
  if (limit != 0 && bytes > limit) {
    t->raise("out of memory");
    return false;
  }
  if (bytes > kMaxResult) {
    t->raise("%s: result too large", qname);
    return false;
  }
  return true;
}

bool stdin_enabled(Thread* t, const char* qname) {
  if (t->rt->options().lib_stdin) return true;
  t->raise("%s: standard input is disabled in this VM", qname);
  return false;
}

bool is_standard_module(std::string_view name) { return is_standard(name); }

bool add_module(Runtime& rt, std::string_view name, Map* exports) {
  Map* table = module_table(rt);
  Value key = str(rt, name);
  if (is_standard(name) || !map_get(table, key).is_empty()) return false;
  map_set(rt.heap(), table, key, obj(exports));
  return true;
}

void install_modules(Runtime& rt) {
  auto st = std::make_shared<State>();
  uint64_t seed;
  if (getrandom(&seed, sizeof seed, 0) != sizeof seed) seed = uint64_t(reinterpret_cast<uintptr_t>(&seed)) ^ uint64_t(time(nullptr));
  st->rng.seed(seed);
  st->files = make_file_modules();
  rt.lib_state = st;
  Map* table = rt.new_map(uint32_t(std::size(kModules)));
  rt.globals[size_t(rt.define_global(kModulesGlobal))] = obj(table);
  for (const Module* m : kModules) {
    if (enabled(rt.options(), *m)) map_set(rt.heap(), table, str(rt, m->name), obj(make_exports(rt, *m)));
  }
  define_natives(rt, kImportFns);
  define_natives(rt, kArrayBuiltins);
}

}  // namespace weft::lib
