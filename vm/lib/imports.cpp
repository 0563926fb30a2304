// File modules: `import("./util")`, WEFT_PATH, the main script's directory
// (docs/language.md#modules).
//
// Model. A module is loaded once per VM, keyed by its real path. The
// goroutine that imports it first compiles it against a namespace of its
// own in the global table (vm/interp/globals.h: its globals are private,
// builtins and host values stay visible) and runs its top level through
// Runtime::call, on its own stack. Its exports map is then kept in a hidden
// global (a GC root) and every later import returns it. A top level that
// fails is forgotten, so the next import runs it again.
//
// Waiting. A goroutine importing a module that another goroutine is loading
// parks (through the scheduler, never an OS lock held across Weft code) on
// that module's waiter list, with Resume::Reexecute: when the loader
// finishes, either way, it readies every waiter, whose import call runs
// again and finds the module loaded, or loads it itself if it failed.
//
// Cycles. Each goroutine's import state is the stack of modules it is
// loading and the one it waits for: a wait-for graph with one edge per
// goroutine. Before adding an edge, a goroutine follows the edges from the
// module it wants; reaching itself is a cycle (within one goroutine: the
// module is on its own stack), reported with the chain of modules
// (`import cycle: a.wf -> b.wf -> a.wf`) instead of waiting forever. All
// of it is under one lock, so the goroutine closing a cycle sees it.
//
// Rejected: running a module's top level on a goroutine of its own (its
// `go` statements, errors and tracebacks would belong to nobody), and an
// OS mutex per module held while the top level runs (it would block an M
// and cannot see cycles).
#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "lang/compiler.h"
#include "vm/core/objops.h"
#include "vm/interp/interp.h"
#include "vm/lib/lib.h"
#include "vm/sched/lock.h"
#include "vm/sched/sched.h"

namespace weft::lib {

namespace {

namespace fsys = std::filesystem;

// A module some goroutine is loading.
// Its loader's strings live here, not on the loader's stack: a goroutine
// parked in the module's top level may be abandoned at shutdown, and what
// FileModules owns is freed with the Runtime.
struct Loading {
  std::string display;                // its path as messages show it
  sched::GoroutineVM* owner;          // the loading goroutine's VM state
  std::vector<sched::G*> waiters;     // goroutines parked until it is done
  std::vector<std::string> names;     // its top-level names, in source order (the loader's)
};

// A goroutine's part in the wait-for graph.
struct Importer {
  std::vector<std::string> stack;     // keys of the modules it loads, outermost first
  std::string waiting_for;            // the key it is parked on, or empty
};

}  // namespace

struct FileModules {
  // Guards everything below; never held across Weft code. A HandoffLock: a
  // waiter parks with it held and gopark releases it on g0 (vm/sched/lock.h).
  sched::HandoffLock mu{LockRank::Imports};
  std::unordered_map<std::string, int> loaded;   // key -> hidden global slot of its exports
  std::unordered_map<std::string, Loading> loading;
  std::unordered_map<std::string, uint32_t> ns;  // key -> its globals' namespace (kept across reruns)
  std::unordered_map<sched::GoroutineVM*, Importer> importers;
  uint32_t next_ns = 1;
};

std::shared_ptr<FileModules> make_file_modules() { return std::make_shared<FileModules>(); }

namespace {

// A module's compile environment: its top-level names in its own
// namespace; any other name is a shared global (a builtin) or, failing
// that, the resolver's `undefined variable`.
class ModuleEnv : public CompileEnv {
 public:
  ModuleEnv(Runtime& rt, uint32_t ns) : rt_(rt), ns_(ns) {}
  Value string_constant(std::string_view s) override { return rt_.string_constant(s); }
  int find_global(std::string_view name) override {
    return own_.count(std::string(name)) ? rt_.globals.define(name, ns_) : rt_.globals.find_shared(name);
  }
  int define_global(std::string_view name) override {
    if (own_.count(std::string(name))) return rt_.globals.define(name, ns_);
    int shared = rt_.globals.find_shared(name);
    return shared >= 0 ? shared : rt_.globals.define(name, ns_);
  }
  void top_level(std::string_view name) override {
    if (own_.emplace(name).second) order_.emplace_back(name);
  }
  // Only `_` names are not exported (docs/language.md#modules), so only they
  // may leave the namespace for a register.
  bool private_top_level(std::string_view name) override { return name.starts_with('_'); }
  Proto* adopt(std::unique_ptr<Proto> p) override { return rt_.adopt(std::move(p)); }
  const std::vector<std::string>& names() const { return order_; }

 private:
  Runtime& rt_;
  uint32_t ns_;
  std::unordered_set<std::string> own_;
  std::vector<std::string> order_;  // top-level names in source order
};

bool is_file(const std::string& p) {
  struct stat st;
  return stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// `dir/name`, lexically normal, as messages show it (`./a.wf` is `a.wf`).
std::string join(const std::string& dir, const std::string& name) {
  fsys::path p = name.starts_with('/') ? fsys::path(name) : fsys::path(dir) / name;
  return p.lexically_normal().string();
}

std::string dir_of(const std::string& file) {
  size_t slash = file.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : file.substr(0, slash);
}

// The directory relative imports start from: the importing file's, or
// the current directory for code that is no file (`-e`, stdin, the REPL,
// a host's string).
std::string importer_dir(Thread* t) {
  for (auto f = t->frames.rbegin(); f != t->frames.rend(); ++f) {
    if (f->closure == nullptr || !f->closure->proto->file) continue;
    const std::string& file = *f->closure->proto->file;
    return file.find('/') != std::string::npos && is_file(file) ? dir_of(file) : ".";
  }
  return ".";
}

bool is_path(std::string_view name) {
  return name.starts_with("./") || name.starts_with("../") || name.starts_with('/');
}

// The candidates for `name`, in search order; the first that is a file wins.
std::vector<std::string> candidates(Thread* t, const std::string& name) {
  std::vector<std::string> out;
  if (is_path(name)) {
    std::string dir = importer_dir(t);
    if (!name.ends_with(".wf")) out.push_back(join(dir, name + ".wf"));
    out.push_back(join(dir, name));
    return out;
  }
  std::string file = name + ".wf";
  if (const char* path = std::getenv("WEFT_PATH")) {
    std::string_view rest(path);
    while (!rest.empty()) {
      size_t colon = rest.find(':');
      std::string dir(rest.substr(0, colon));
      rest = colon == std::string_view::npos ? std::string_view() : rest.substr(colon + 1);
      if (!dir.empty()) out.push_back(join(dir, file));
    }
  }
  const std::string& main = t->rt->main_file;
  std::string main_dir = main.find('/') != std::string::npos && is_file(main) ? dir_of(main) : ".";
  out.push_back(join(main_dir, file));
  return out;
}

// The sandbox's limit (RuntimeOptions::Imports::Directory): whether the
// module whose real path is `real` lies under import_dir, compared as
// real paths, so neither `..` nor a symbolic link leads out of it.
bool inside_import_dir(const RuntimeOptions& o, const std::string& real) {
  if (o.file_imports != RuntimeOptions::Imports::Directory) return true;
  char* dir = realpath(o.import_dir.empty() ? "." : o.import_dir.c_str(), nullptr);
  if (dir == nullptr) return false;  // no such directory: nothing is inside it
  std::string root = dir;
  std::free(dir);
  if (!root.ends_with('/')) root += '/';
  return real.starts_with(root);
}

bool unlock_mu(sched::G*, void* mu) {
  static_cast<sched::HandoffLock*>(mu)->unlock();
  return true;
}

// Under fm.mu: whether waiting for `want` would close a cycle through me;
// if so, *chain is its text. Follows each loader to the module it waits for.
bool find_cycle(FileModules& fm, sched::GoroutineVM* me, const std::string& want, std::string* chain) {
  std::vector<std::pair<sched::GoroutineVM*, std::string>> hops;  // (loader, the key wanted from it)
  std::string key = want;
  for (size_t n = 0; n <= fm.loading.size(); n++) {
    sched::GoroutineVM* owner = fm.loading.at(key).owner;
    hops.emplace_back(owner, key);
    if (owner == me) break;
    auto it = fm.importers.find(owner);
    if (it == fm.importers.end() || it->second.waiting_for.empty()) return false;
    key = it->second.waiting_for;
  }
  if (hops.back().first != me) return false;
  // My modules from the one the last loader wants, then each loader's from
  // the one wanted from it, then back to the first.
  std::vector<std::string> keys;
  auto append_from = [&](sched::GoroutineVM* g, const std::string& from) {
    const auto& stack = fm.importers.at(g).stack;
    size_t i = 0;
    while (i < stack.size() && stack[i] != from) i++;
    keys.insert(keys.end(), stack.begin() + long(i), stack.end());
  };
  append_from(me, hops.back().second);
  for (size_t i = 0; i + 1 < hops.size(); i++) append_from(hops[i].first, hops[i].second);
  keys.push_back(hops.back().second);
  chain->clear();
  for (const std::string& k : keys) {
    if (!chain->empty()) *chain += " -> ";
    *chain += fm.loading.at(k).display;
  }
  return true;
}

// Under fm.mu: drops an importer with nothing left to say.
void forget_if_idle(FileModules& fm, sched::GoroutineVM* me) {
  auto it = fm.importers.find(me);
  if (it != fm.importers.end() && it->second.stack.empty() && it->second.waiting_for.empty()) fm.importers.erase(it);
}

// Ends my load of `key`: publishes exports at `slot` (or, slot < 0, forgets
// the module) and readies its waiters, whose import then runs again.
void finish(FileModules& fm, sched::GoroutineVM* me, const std::string& key, int slot) {
  std::vector<sched::G*> waiters;
  {
    std::lock_guard lk(fm.mu);
    auto it = fm.loading.find(key);
    waiters = std::move(it->second.waiters);
    if (slot >= 0) fm.loaded.emplace(key, slot);
    fm.loading.erase(it);  // last: `key` may be its own
    fm.importers.at(me).stack.pop_back();
    for (sched::G* w : waiters) fm.importers.at(w->vm).waiting_for.clear();
    for (sched::G* w : waiters) forget_if_idle(fm, w->vm);
    forget_if_idle(fm, me);
  }
  for (sched::G* w : waiters) sched::goready(w);
}

bool read_file(const std::string& path, std::string* out) {
  bool syscall = sched::getg() != nullptr;  // the read waits on the OS: without a P
  if (syscall) sched::entersyscall();
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  bool ok = false;
  if (in) {
    ss << in.rdbuf();
    ok = !in.bad();
  }
  if (syscall) sched::exitsyscall();
  if (ok) *out = std::move(ss).str();
  return ok;
}

// The compiled top level of the module at `key`, its names in m.names; or
// nullptr with the error raised. Its allocations are gone when it returns.
Proto* compile_module(Thread* t, const std::string& key, Loading& m, uint32_t ns) {
  std::string source;
  if (!read_file(key, &source)) {
    t->raise("import: cannot read \"%s\": %s", m.display.c_str(), std::strerror(errno ? errno : EIO));
    return nullptr;
  }
  ModuleEnv env(*t->rt, ns);
  std::vector<lang::Diagnostic> errors;
  Proto* main = lang::compile(env, m.display, source, errors);
  if (main == nullptr) {
    const lang::Diagnostic& d = errors.front();
    t->raise("%s:%d:%d: error: %s", m.display.c_str(), d.line, d.col, d.message.c_str());
    return nullptr;
  }
  m.names = env.names();
  return main;
}

// Compiles and runs the module at `key` (m: its entry in fm.loading) as its
// loader; its exports' hidden slot, or -1 with the error raised.
int load(Thread* t, const std::string& key, Loading& m, uint32_t ns) {
  Runtime& rt = *t->rt;
  Proto* main = compile_module(t, key, m, ns);
  if (main == nullptr) return -1;
  for (const std::string& name : m.names) rt.globals[size_t(rt.globals.define(name, ns))] = Value::nil();
  if (rt.call(t, obj(rt.new_closure(main)), nullptr, 0).is_empty()) return -1;
  Map* exports = rt.new_map(uint32_t(m.names.size()));
  for (const std::string& name : m.names) {
    if (name.starts_with('_')) continue;
    map_set(rt.heap(), exports, str(rt, name), rt.globals[size_t(rt.globals.define(name, ns))]);
  }
  int slot = rt.globals.define(" import " + key);  // a name no script can spell: a GC root
  if (slot < 0) {
    t->raise("import: too many globals");
    return -1;
  }
  rt.globals[size_t(slot)] = obj(exports);
  return slot;
}

// The module file `spec` names: its path as messages show it and its key
// (the real path); false with the error raised.
bool locate(Thread* t, std::string_view spec, std::string* display, std::string* key) {
  std::string name(spec);
  std::vector<std::string> tried = candidates(t, name);
  for (const std::string& c : tried) {
    if (is_file(c)) {
      *display = c;
      break;
    }
  }
  if (display->empty()) {
    std::string searched = is_path(name) ? "" : "standard modules";
    for (const std::string& c : tried) searched += (searched.empty() ? "" : ", ") + c;
    t->raise("import: no module \"%s\" (searched: %s)", name.c_str(), searched.c_str());
    return false;
  }
  char* real = realpath(display->c_str(), nullptr);
  *key = real ? real : *display;
  std::free(real);
  if (!inside_import_dir(t->rt->options(), *key)) {
    t->raise("import: \"%s\" is outside this VM's module directory", display->c_str());
    return false;
  }
  return true;
}

}  // namespace

Value import_file(Thread* t, FileModules& fm, std::string_view spec) {
  std::string display, key;
  if (!locate(t, spec, &display, &key)) return Value::empty();
  Runtime& rt = *t->rt;
  sched::GoroutineVM* me = t;
  for (;;) {
    std::unique_lock lk(fm.mu);
    if (auto it = fm.loaded.find(key); it != fm.loaded.end()) return rt.globals[size_t(it->second)];
    auto it = fm.loading.find(key);
    if (it == fm.loading.end()) {
      // From here FileModules owns the names (Loading): my locals are empty.
      it = fm.loading.emplace(std::move(key), Loading{std::move(display), me, {}, {}}).first;
      const std::string& k = it->first;  // both valid until finish erases the entry
      Loading& m = it->second;           // (a rehash moves no element)
      fm.importers[me].stack.push_back(k);
      auto [ns, fresh] = fm.ns.try_emplace(k, fm.next_ns);
      if (fresh) fm.next_ns++;
      uint32_t module_ns = ns->second;
      lk.unlock();
      int slot = load(t, k, m, module_ns);
      finish(fm, me, k, slot);
      return slot < 0 ? Value::empty() : rt.globals[size_t(slot)];
    }
    std::string chain;
    if (find_cycle(fm, me, key, &chain)) {
      forget_if_idle(fm, me);
      lk.unlock();
      t->raise("import cycle: %s", chain.c_str());
      return Value::empty();
    }
    sched::G* g = t->g;
    if (g == nullptr) {  // off the scheduler nobody else can be loading it
      lk.unlock();
      t->raise("import: \"%s\" is being loaded", display.c_str());
      return Value::empty();
    }
    it->second.waiters.push_back(g);
    fm.importers[me].waiting_for = key;
    g->resume = sched::Resume::Reexecute;  // the import runs again once the loader is done
    lk.release();                          // unlock_mu releases it, on g0
    if (sched::gopark(unlock_mu, &fm.mu, sched::WaitReason::Import) == sched::Parked::Unwound) return sched::kParked;
  }
}

}  // namespace weft::lib
