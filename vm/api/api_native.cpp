// Host natives (include/weft/native.h): the trampolines that let a C++
// std::function be a Weft native, the argument helpers, and blocking
// natives as system calls.
//
// Trampolines. The VM calls a native through a plain function pointer
// (NativeFn: Thread*, args, nargs) that is not told which Native it is. So
// each host native gets one of kMaxHostNatives process-wide slots, and slot
// I's native function is native_trampoline<I>, which finds its HostNative
// in g_slots[I]. Slots are taken by define and given back when their VM is
// destroyed (its goroutines are gone by then).
//
// Errors. Inside the trampoline, the host's function runs under try/catch:
// NativeError (the helpers, raise()) and any other C++ exception become
// Thread::raise in the caller, so the traceback is the caller's and no
// exception reaches the interpreter.
//
// Blocking natives run between sched::entersyscall and exitsyscall, as
// readline() does: their arguments are handles made before (GC roots, read
// under HostState::mu like any host read), their result becomes a value
// after, when the goroutine holds a P again.
//
// Functions made at run time (VM::function) take no slot: they share one
// trampoline that finds its HostNative through the callee's Native::data.
// Defined natives keep their slots, so a global's native needs no load of
// its callee.
//
// Rejected: widening NativeFn with a user-data pointer (every builtin and
// the interpreter's call paths would change for the embedding's sake).
#include <array>
#include <utility>

#include "vm/api/host.h"
#include "vm/sched/sched.h"

namespace weft {

using detail::Access;
using detail::HostNative;
using detail::NativeFrame;

namespace {

constexpr int kMaxHostNatives = 1024;  // per process, across live VMs

Mutex g_slots_mu{LockRank::Leaf};  // guards taking and freeing slots
std::array<std::atomic<HostNative*>, kMaxHostNatives> g_slots{};

std::string describe(const std::exception& e, const HostNative* n) {
  if (dynamic_cast<const NativeError*>(&e) != nullptr) return e.what();
  return n->name + ": " + e.what();
}

// Runs the host function; on failure returns false with *error set.
bool invoke(NativeFrame& f, Arg* out, std::string* error) {
  try {
    NativeCall call = Access::make_call(&f);
    *out = f.native->fn(call);
    return true;
  } catch (const std::exception& e) {
    *error = describe(e, f.native);
  } catch (...) {
    *error = f.native->name + ": unknown C++ exception";
  }
  return false;
}

Value finish(NativeFrame& f, bool ok, const Arg& r, std::string error) {
  Thread* t = f.thread;
  if (ok) {
    error = Access::check_arg(r, f.native->host);
    if (error.empty()) return Access::to_value(*t->rt, r);
    error = f.native->name + ": returned " + error;
  }
  t->raise("%s", error.c_str());
  return Value::empty();
}

// A method's receiver: its bound Native's data (vm/interp/interp.cpp,
// host_field_get), else nil. Defined natives carry nil there, function
// values an inline int.
Value receiver_of(const Value* args) {
  Value d = native_self(args)->data;
  return is_type(d, ObjType::Host) ? d : Value::nil();
}

Value run_blocking(HostNative* n, Thread* t, Value* args, int nargs) {
  std::vector<Handle> handles;
  {
    const auto& st = t->rt->host_ptr();
    std::lock_guard lk(st->mu);
    for (int i = 0; i < nargs; i++) handles.push_back(Access::make_handle(st, args[i], st->hold(args[i])));
  }
  NativeFrame f{n, t, receiver_of(args), {}, &handles};
  Arg r;
  std::string error;
  n->host->blocking_calls.fetch_add(1);
  sched::entersyscall();
  bool ok = invoke(f, &r, &error);
  sched::exitsyscall();
  n->host->blocking_calls.fetch_sub(1);
  return finish(f, ok, r, std::move(error));
}

// The result of an ordinary native that needs the heap or a check, or
// Value::empty() with the error raised. Scalars and strings need no check.
__attribute__((noinline)) Value result_value_slow(NativeFrame& f, const Arg& r) {
  if (!Access::is_plain(r)) {
    std::string error = Access::check_arg(r, f.native->host);
    if (!error.empty()) {
      f.thread->raise("%s: returned %s", f.native->name.c_str(), error.c_str());
      return Value::empty();
    }
  }
  return Access::to_value(*f.thread->rt, r);
}

// A native's failure (a C++ exception) raised in its caller.
__attribute__((noinline)) Value raise_failure(Thread* t, const std::string& error) {
  t->raise("%s", error.c_str());
  return Value::empty();
}

// The ordinary native's path, the hot one. Per call it makes a NativeFrame
// (plain data: the arguments are read in place, NativeArgs), calls the
// std::function, and turns the Arg it returns into a value, inline when
// that needs no heap; the Arg is constructed in place (perf showed a
// move-assignment and destruction of it at a quarter of a call). The
// failure paths, and the strings they build, are out of line.
Value run_native(HostNative* n, Thread* t, Value* args, int nargs) {
  if (n->blocking && t->g != nullptr) [[unlikely]] return run_blocking(n, t, args, nargs);
  // Arguments in the VM stack are read through t->stack, which a callback
  // may move; any other array is stable while the native runs.
  Value* stable = args;
  NativeFrame f{n, t, receiver_of(args), {}, nullptr};
  if (args >= t->stack && args < t->stack + t->stack_size) {
    f.values.base = &t->stack;
    f.values.off = size_t(args - t->stack);
  } else {
    f.values.base = &stable;
  }
  f.values.n = size_t(nargs);
  try {
    NativeCall call = Access::make_call(&f);
    const Arg r = n->fn(call);
    Value v;
    if (Access::immediate_value(r, &v)) [[likely]] return v;
    return result_value_slow(f, r);
  } catch (const std::exception& e) {
    return raise_failure(t, describe(e, n));
  } catch (...) {
    return raise_failure(t, n->name + ": unknown C++ exception");
  }
}

// The one trampoline of functions made at run time (VM::function): the
// callee (args[-1], vm/core/object.h) carries its HostNative in `data`,
// so they need no slot and their number is unbounded.
Value function_trampoline(Thread* t, Value* args, int nargs) {
  return run_native(detail::function_of(native_self(args)), t, args, nargs);
}

template <int I>
Value native_trampoline(Thread* t, Value* args, int nargs) {
  return run_native(g_slots[I].load(std::memory_order_acquire), t, args, nargs);
}

template <int... I>
constexpr std::array<NativeFn, sizeof...(I)> make_trampolines(std::integer_sequence<int, I...>) {
  return {&native_trampoline<I>...};
}
constexpr auto kTrampolines = make_trampolines(std::make_integer_sequence<int, kMaxHostNatives>());

// ---- argument access ----

[[noreturn]] void type_error(const NativeFrame* f, const char* want, const std::string& got) {
  throw NativeError(f->native->name + ": expected " + want + ", got " + got);
}

bool blocking(const NativeFrame* f) { return f->handles != nullptr; }

// The argument as a value: ordinary natives only.
Value value_at(const NativeFrame* f, size_t i) { return i < f->values.size() ? f->values[i] : Value::empty(); }

std::string got_name(const NativeFrame* f, size_t i) {
  if (blocking(f)) return i < f->handles->size() ? (*f->handles)[i].type_name() : "nothing";
  Value v = value_at(f, i);
  return v.is_empty() ? "nothing" : type_name(v);
}

Handle handle_at(const NativeFrame* f, size_t i) {
  if (blocking(f)) return i < f->handles->size() ? (*f->handles)[i] : Handle();
  Value v = value_at(f, i);
  if (v.is_empty()) return Handle();
  const auto& st = f->thread->rt->host_ptr();
  std::lock_guard lk(st->mu);
  return Access::make_handle(st, v, st->hold(v));
}

// A handle on argument i when it has type `want`, else the type error.
Handle typed_handle(const NativeFrame* f, size_t i, Type want) {
  Handle h = handle_at(f, i);
  if (i >= (blocking(f) ? f->handles->size() : f->values.size()) || h.type() != want)
    type_error(f, type_name(want), got_name(f, i));
  return h;
}

}  // namespace

namespace detail {

// Takes a trampoline slot for n; false when all are taken.
// The slot is taken under g_slots_mu, a leaf; the Native is allocated
// after it is released (allocation takes the heap's locks).
NativeFn take_slot(HostNative* n) {
  std::lock_guard lk(g_slots_mu);
  for (int i = 0; i < kMaxHostNatives; i++) {
    if (g_slots[size_t(i)].load() != nullptr) continue;
    g_slots[size_t(i)].store(n, std::memory_order_release);
    n->index = i;
    return kTrampolines[size_t(i)];
  }
  return nullptr;
}

bool bind_native(HostNative* n, Native** out, Runtime& rt, int min_args, int max_args) {
  NativeFn fn = take_slot(n);
  if (fn == nullptr) return false;
  *out = rt.new_native(n->name.c_str(), fn, min_args, max_args);
  return true;
}

// A HostNative's address as an inline int (user-space pointers are below
// 2^48 and 8-aligned, so addr >> 3 fits the 49-bit inline range).
Native* make_function(HostNative* n, Runtime& rt, int min_args, int max_args) {
  Native* native = rt.new_native(n->name.c_str(), function_trampoline, min_args, max_args);
  native->data = Value::inline_int(int64_t(reinterpret_cast<uintptr_t>(n) >> 3));
  return native;
}

HostNative* function_of(const Native* native) {
  return reinterpret_cast<HostNative*>(uintptr_t(native->data.as_inline_int()) << 3);
}

void unbind_native(HostNative* n) {
  std::lock_guard lk(g_slots_mu);
  if (n->index >= 0) g_slots[size_t(n->index)].store(nullptr);
  n->index = -1;
}

}  // namespace detail

// ---- NativeCall ----

const char* NativeCall::name() const { return f_->native->name.c_str(); }

size_t NativeCall::size() const { return blocking(f_) ? f_->handles->size() : f_->values.size(); }

Type NativeCall::type(size_t i) const { return handle_at(f_, i).type(); }

Handle NativeCall::arg(size_t i) const { return handle_at(f_, i); }

int64_t NativeCall::int_arg(size_t i) const {
  if (blocking(f_)) return typed_handle(f_, i, Type::Int).to_int().value_or(0);
  Value v = value_at(f_, i);
  if (v.is_empty() || !is_int(v)) type_error(f_, "int", got_name(f_, i));
  return int_of(v);
}

double NativeCall::float_arg(size_t i) const {
  if (blocking(f_)) {
    Handle h = handle_at(f_, i);
    if (auto d = h.to_float(); d && i < size()) return *d;
    type_error(f_, "float", got_name(f_, i));
  }
  Value v = value_at(f_, i);
  if (v.is_empty() || !is_number(v)) type_error(f_, "float", got_name(f_, i));
  return number_of(v);
}

bool NativeCall::bool_arg(size_t i) const {
  Handle h = handle_at(f_, i);
  auto b = h.to_bool();
  if (!b || i >= size()) type_error(f_, "bool", got_name(f_, i));
  return *b;
}

std::string NativeCall::string_arg(size_t i) const {
  if (blocking(f_)) return typed_handle(f_, i, Type::String).to_string().value_or("");
  Value v = value_at(f_, i);
  if (v.is_empty() || !is_type(v, ObjType::String)) type_error(f_, "string", got_name(f_, i));
  return std::string(as_string(v)->view());
}

Handle NativeCall::array_arg(size_t i) const { return typed_handle(f_, i, Type::Array); }
Handle NativeCall::map_arg(size_t i) const { return typed_handle(f_, i, Type::Map); }
Handle NativeCall::function_arg(size_t i) const { return typed_handle(f_, i, Type::Function); }

void NativeCall::raise(const std::string& message) const { throw NativeError(message); }

// The receiver stays alive while the method runs (its bound Native is the
// callee, on the caller's stack), and an object's data never changes: so
// reading it needs no lock, also in a blocking method.
void* NativeCall::self_data() const {
  if (!is_type(f_->self, ObjType::Host)) throw NativeError(f_->native->name + ": not a method");
  return as_host_object(f_->self)->data;
}

Handle NativeCall::receiver() const {
  if (f_->self.is_nil()) return Handle();
  const auto& st = f_->thread->rt->host_ptr();
  std::lock_guard lk(st->mu);
  return Access::make_handle(st, f_->self, st->hold(f_->self));
}

void* NativeCall::object_arg_data(size_t i, const HostType& type) const {
  const auto& info = Access::info_of(type);
  if (blocking(f_)) {
    if (void* d = i < f_->handles->size() && info ? (*f_->handles)[i].object_data(type) : nullptr) return d;
  } else {
    Value v = value_at(f_, i);
    if (info && is_type(v, ObjType::Host) && as_host_object(v)->cls == &info->cls) return as_host_object(v)->data;
  }
  type_error(f_, info ? info->cls.name.c_str() : "a host object", got_name(f_, i));
}

VM& NativeCall::vm() const { return *f_->native->host->vm; }

Result NativeCall::call(const Handle& fn, std::vector<Arg> args) const {
  if (blocking(f_)) {
    Result r;
    r.kind = Result::Misuse;
    r.message = "a blocking native cannot call back into Weft";
    return r;
  }
  return detail::call_on_thread(f_->thread, fn, std::move(args));
}

namespace detail {

Result call_on_thread(Thread* t, const Handle& fn, std::vector<Arg> args) {
  Result r;
  r.kind = Result::Misuse;
  Runtime& rt = *t->rt;
  for (const Arg& a : args) r.message = r.message.empty() ? Access::check_arg(a, &rt.host()) : r.message;
  if (r.message.empty()) r.message = Access::check_arg(Arg(fn), &rt.host());
  if (!r.message.empty()) return r;
  std::vector<Value> values;  // no collection before call() roots them: natives never collect
  for (const Arg& a : args) values.push_back(Access::to_value(rt, a));
  Value v = rt.call(t, Access::value_of(fn), values.data(), int(values.size()));
  if (v.is_empty()) {
    r.kind = Result::Runtime;
    r.message = t->error_text();
    r.traceback = std::move(t->traceback);
    t->drop_error();
    return r;
  }
  r.kind = Result::Ok;
  r.message.clear();
  const auto& st = rt.host_ptr();
  std::lock_guard lk(st->mu);
  r.value = Access::make_handle(st, v, st->hold(v));
  return r;
}

}  // namespace detail

}  // namespace weft
