// The Runtime: construction, compiling and running, the global table, and
// the collector's view of the VM (its root set).
//
// Roots are exactly the VM's (vm/gc/heap.h): for each thread, every frame's
// closure and the registers live at the frame's saved pc according to the
// compiler's stack map (the top frame is stopped in the safe-point it is
// executing, callers in their CALL); its pins and pending error; then the
// globals, every proto's constants and the one-byte strings. A register
// that is dead at its frame's pc keeps nothing alive. Weak references are
// not roots. Native calls in progress need nothing of their own: their
// callee and arguments are registers that the caller's CALL map covers, and
// natives never collect.
//
// Rejected: scanning every frame's registers conservatively (simpler, but
// dead registers would retain garbage and the stack maps are free anyway).
#include <cstdlib>

#include "lang/compiler.h"
#include "vm/runtime.h"

namespace weft {

Runtime::Runtime(RuntimeOptions opts) : opts_(std::move(opts)) {
  heap_ = std::make_unique<gc::Heap>(this, opts_.gc_percent);
  heap_->set_gc_stress(opts_.gc_stress);
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
}

Runtime::~Runtime() {
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
  Proto* p = nullptr;
  Status st = compile(file, source, &p);
  if (!st.ok()) return st;
  Thread* t = main_.get();
  Value fn = Value::object(new_closure(p));
  Value r = call(t, fn, nullptr, 0);
  if (r.is_empty()) {
    st.kind = Status::RuntimeError;
    st.message = std::string(as_string(t->error)->view());
    st.traceback = std::move(t->traceback);
    t->error = Value::nil();
    t->traceback.clear();
    t->frames.clear();
    t->pins.clear();
  }
  return st;
}

// ---- CompileEnv ----

Value Runtime::string_constant(std::string_view s) { return Value::object(new_string(s)); }

int Runtime::find_global(std::string_view name) {
  auto it = global_index_.find(std::string(name));
  return it == global_index_.end() ? -1 : it->second;
}

int Runtime::define_global(std::string_view name) {
  int slot = find_global(name);
  if (slot >= 0) return slot;
  slot = int(globals.size());
  globals.push_back(Value::nil());
  global_names.emplace_back(name);
  global_index_.emplace(std::string(name), slot);
  return slot;
}

Proto* Runtime::adopt(std::unique_ptr<Proto> p) {
  protos_.push_back(std::move(p));
  return protos_.back().get();
}

void Runtime::define_native(const char* name, NativeFn fn, int min_args, int max_args) {
  Native* n = new_native(name, fn, min_args, max_args);
  globals[size_t(define_global(name))] = Value::object(n);
}

// ---- collection ----

void Runtime::collect(Thread* t) {
  heap_->collect();
  t->set_guard();
  if (t != main_.get()) main_->set_guard();
}

void Runtime::request_stop() {
  if (main_) main_->stackguard = kStackPoison;
}

namespace {

void push_frame_roots(gc::RootSink& sink, Thread* t, Frame& f) {
  if (f.closure == nullptr) return;
  sink.value(&f.closure);
  const Proto* p = f.closure->proto;
  Value* regs = t->stack + f.base;
  const uint64_t* live = p->live_at(uint32_t(f.pc - p->code.data()));
  if (live == nullptr) {  // not stopped at a safe-point (cannot happen): keep all
    sink.values(regs, regs + p->nregs);
    return;
  }
  for (int r = 0; r < p->nregs; r++) {
    if (p->is_live(live, r)) sink.value(&regs[r]);
  }
}

void push_thread_roots(gc::RootSink& sink, Thread* t) {
  for (Frame& f : t->frames) push_frame_roots(sink, t, f);
  if (!t->pins.empty()) sink.values(t->pins.data(), t->pins.data() + t->pins.size());
  sink.value(&t->error);
}

}  // namespace

void Runtime::push_roots(gc::RootSink& sink) {
  push_thread_roots(sink, main_.get());
  if (!globals.empty()) sink.values(globals.data(), globals.data() + globals.size());
  for (auto& p : protos_) {
    if (!p->k.empty()) sink.values(p->k.data(), p->k.data() + p->k.size());
  }
  sink.values(byte_strings, byte_strings + 256);
}

}  // namespace weft
