// The Runtime: construction, compiling and running, the global table, and
// the collector's view of the VM (its root set).
//
// Roots are exactly the VM's (docs/design.md#roots). The Runtime is the
// heap's gc::Roots (vm/gc/heap.h): push_roots, below, hands each goroutine
// (every G of the scheduler's allgs) to gc::scan_goroutine (vm/gc/scan.cpp),
// which holds it still with suspendG (docs/design.md#suspendg), pushes its
// native stack and resume value, and calls back scan_vm (vm/interp/scan.cpp)
// for its VM state: every frame's closure and the registers live at the
// frame's saved pc according to the compiler's stack map (the top frame is
// stopped in the safe-point it is executing, callers in their CALL), its
// pins and its pending error. Then come the globals, every proto's
// constants, the one-byte strings, and the host's handles and requests
// (vm/api/host.h). A register that is dead at its frame's pc keeps nothing
// alive. Weak references are not roots. Native calls in progress need
// nothing of their own: their callee and arguments are registers that the
// caller's CALL map covers, and natives never collect.
//
// Rejected: scanning every frame's registers conservatively (simpler, but
// dead registers would retain garbage and the stack maps are free anyway).
#include <cstdlib>
#include <thread>

#include "lang/compiler.h"
#include "vm/api/host.h"
#include "vm/core/fatal.h"
#include "vm/gc/scan.h"
#include "vm/interp/interp.h"
#include "vm/interp/runtime.h"
#include "vm/lib/sys.h"
#include "vm/sched/sched.h"

namespace weft {

// Other VMs' goroutines may run meanwhile, and their collections push
// every live heap's roots: the heap gets its roots, and this thread (no P)
// allocates the one-byte strings and the builtins, with the world stopped,
// so no collection sees a half-made Runtime or an object not yet rooted.
// The heap is made (registered with the collector) before the stop: the
// collector holds the heaps' list while it stops the world, so taking the
// list under a stop would deadlock with it (rank Heaps < Stw in
// vm/core/lockrank.h); until set_roots a collection skips it.
Runtime::Runtime(RuntimeOptions opts) : opts_(std::move(opts)) {
  host_ = std::make_shared<detail::HostState>();
  host_->rt = this;
  heap_ = std::make_unique<gc::Heap>(nullptr, opts_.gc_percent);
  sched::stop_the_world("new vm");
  heap_->set_roots(this);
  heap_->set_gc_stress(opts_.gc_stress, opts_.gc_stress_minor);
  heap_->set_gc_verify(opts_.gc_verify);
  heap_->set_limit(opts_.heap_limit);
  main_ = std::make_unique<Thread>();
  main_->rt = this;
  main_->frames.reserve(64);
  main_->ensure_stack(kInitialStack - kStackSlack);
  main_->set_guard();
  for (int i = 0; i < 256; i++) {
    char c = char(i);
    byte_strings[i] = Value::object(new_string(std::string_view(&c, 1)));
  }
  install_builtins(*this);
  sched::start_the_world();
}

Runtime::~Runtime() {
  stop_scheduler();
  lib::close_files(*this);
  std::vector<std::unique_ptr<HostTask>> tasks;  // destroyed unlocked: their handles take mu
  {
    std::lock_guard lk(host_->mu);  // handles expire from here on
    host_->rt = nullptr;
    tasks.swap(host_->tasks);
  }
  // The heap goes first: once it is gone (unregistered from the collector
  // thread) no collection can push this Runtime's roots while its members
  // are being destroyed.
  heap_.reset();
  std::free(main_->stack);
  main_->stack = nullptr;
}

Status Runtime::compile(std::string_view file, std::string_view source, Proto** main) {
  std::vector<lang::Diagnostic> errors;
  Proto* p = lang::compile(*this, file, source, errors);
  Status st;
  if (p == nullptr) {
    st.kind = Status::CompileError;
    st.message = lang::format_diagnostics(file, source, errors);
    return st;
  }
  *main = p;
  return st;
}

Status Runtime::run(std::string_view file, std::string_view source) {
  HostTask* task = nullptr;
  Status st = load(file, source, &task);
  if (!st.ok()) return st;
  task->program = true;
  st = spawn(task);
  if (st.ok()) st = await(task);
  release_task(task);
  lib::kill_children();  // an os.run waiting on one returns, and its goroutine stops
  stop_scheduler();  // the program is over: every goroutine stops (Go's exit)
  lib::kill_children();  // any started meanwhile
  lib::close_files(*this);
  return st;
}

int default_procs() {
  if (const char* env = std::getenv("WEFT_PROCS")) {
    int n = std::atoi(env);
    if (n > 0) return n;
  }
  unsigned n = std::thread::hardware_concurrency();
  return n > 0 ? int(n) : 1;
}

// ---- CompileEnv ----

Value Runtime::string_constant(std::string_view s) {
  if (s.size() == 1) return byte_strings[uint8_t(s[0])];
  {
    std::lock_guard lk(constants_mu_);
    if (auto it = constants_.find(s); it != constants_.end()) return it->second;
  }
  // Allocated outside the lock (a Leaf: the heap's locks rank below it);
  // a compile on another goroutine may have added the text meanwhile.
  String* str = new_string(s);
  hash_key(Value::object(str));  // cached in the String for every lookup by it
  std::lock_guard lk(constants_mu_);
  auto [it, fresh] = constants_.emplace(str->view(), Value::object(str));
  if (fresh) constant_list_.push_back(Value::object(str));
  return it->second;
}

int Runtime::find_global(std::string_view name) { return globals.find(name); }

int Runtime::define_global(std::string_view name) { return globals.define(name); }

// Set from outside the compiler: a builtin or a host value, which file
// modules see too (vm/interp/globals.h, namespaces).
bool Runtime::set_global(std::string_view name, Value v) {
  int slot = globals.define(name);
  if (slot < 0) return false;
  globals[size_t(slot)] = v;
  globals.mark_shared(slot);
  return true;
}

// Goroutines compile file modules (vm/lib/imports.cpp) two at a time, so
// the list takes a lock; the collector reads it with the world stopped,
// when no compile is in progress.
Proto* Runtime::adopt(std::unique_ptr<Proto> p) {
  for (Instr i : p->code) {
    if (op_of(i) == Op::GETFIELD || op_of(i) == Op::SETFIELD) {
      p->field_hints.assign(p->code.size(), 0);
      break;
    }
  }
  std::lock_guard lk(protos_mu_);
  protos_.push_back(std::move(p));
  return protos_.back().get();
}

void Runtime::define_native(const char* name, NativeFn fn, int min_args, int max_args) {
  Native* n = new_native(name, fn, min_args, max_args);
  if (!set_global(name, Value::object(n))) fatal("runtime: no global slot left for a builtin");
}

// ---- collection ----

// Off the scheduler only (the host thread at a safe-point, with no
// goroutines running): a synchronous collection on the collector thread.
void Runtime::collect(Thread* t) {
  heap_->collect();
  t->set_guard();
}

// Collector thread, inside bdwgc's mark phase, world stopped.
size_t Runtime::push_roots(gc::RootSink& sink) {
  size_t goroutines = 0;
  if (sched::Sched* s = sched::running_sched_of(this)) {  // (the stopper holds the list still)
    std::vector<sched::G*> gs;
    sched::for_each_g(s, [&gs](sched::G* g) { gs.push_back(g); });
    for (sched::G* g : gs) goroutines += gc::scan_goroutine(sink, g, *this);
  } else {
    scan_vm(sink, main_.get(), false);  // no scheduler: the host thread's goroutine
    goroutines = 1;
  }
  if (size_t n = globals.size(); n > 0) sink.values(globals.slots(), globals.slots() + n);
  for (auto& p : protos_) {
    if (!p->k.empty()) sink.values(p->k.data(), p->k.data() + p->k.size());
  }
  sink.values(byte_strings, byte_strings + 256);
  sink.values(constant_list_.data(), constant_list_.data() + constant_list_.size());
  host_->push_roots(sink);
  return goroutines;
}

}  // namespace weft
