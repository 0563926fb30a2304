// The embedding API's state inside the VM: host handles (GC roots held by
// C++ code), host requests run as goroutines, and host-defined natives.
// vm/api/host.cpp drives the scheduler for host threads; vm/api*.cpp implement
// the public classes of include/weft/ on top of this.
//
// Model. A host thread runs a call itself when a P is free
// (Runtime::call_here, docs/design.md#host-calls); otherwise, and when such
// a call parks, it is a goroutine it waits for (docs/design.md#host-threads), a
// HostTask: the host spawns a G for it (Runtime::spawn) and waits for its
// result (Runtime::await), like a receive on a channel. Arguments cross as
// weft::Arg trees, plain C++ data; the G converts them into heap values
// itself (a host thread without a P must not allocate while goroutines
// run), through the `trampoline` entry: fn(a0, .., aN) is started as
// trampoline_N(host_arg, fn), whose body is `return f(p(0), .., p(N-1))`,
// so fn runs as the G's bottom activation and parks stacklessly.
//
// Handles. Every heap value a host keeps is a slot of HostState::slots, a
// GC root (Runtime::push_roots). A host reads heap objects only under
// HostState::mu, which the collector takes in push_roots with the world
// stopped: so a collection either marks before a read begins (and the
// frozen heap the host then reads is all marked) or after the read has
// registered what it found. Reading a rooted object also never races with
// its being freed for the same reason. mu is a leaf lock: nothing is
// allocated or waited for under it.
//
// Lifetime. HostState is shared (shared_ptr) by the Runtime and every
// handle; the Runtime's destructor clears `rt` under mu, after which every
// handle reports itself expired instead of touching freed memory.
//
// Rejected: letting host threads allocate under a lock the collector also
// takes (bdwgc holds its allocation lock while it asks for roots: a host
// allocating under our lock would deadlock against it), and running the
// conversions on the host thread with the world stopped for every call
// (a stop per call serializes 8 calling threads behind the collector's
// protocol).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "vm/interp/runtime.h"
#include "weft/weft.h"

namespace weft {

// One host request run as a goroutine. Owned by HostState::tasks from
// spawn until the host has taken the outcome (or, if the host gave up
// waiting, until its G ends or its scheduler is stopped).
struct HostTask : HostRequest {  // g->host is its HostRequest* (vm/interp/thread.h)
  Value fn;                    // GC root (HostState::push_roots)
  std::vector<Arg> args;       // read by the G (host_arg); immutable after spawn
  bool program = false;        // run(): its return ends every goroutine, as Go's main
  sched::Sched* sched = nullptr;  // where it runs; set by spawn
  sched::G* g = nullptr;       // its goroutine, under HostState::mu; valid while !finished
  // Written by the G's M under HostState::mu, then `done` under the
  // Sched's done_mu (what the waiter sleeps on).
  bool finished = false;
  bool abandoned = false;      // the host stopped waiting: the G frees the task
  Status status;
  Value result;                // GC root while registered
  bool done = false;           // under sched->done_mu
};

namespace detail {

// A host native (NativeDef) while its runtime lives: the process-wide
// trampoline slot `index` calls it (vm/api/api_native.cpp).
struct HostNative {
  std::string name;
  NativeFunction fn;
  bool blocking = false;
  HostState* host = nullptr;   // its runtime's state
  int index = -1;              // trampoline slot
};

// A host object type (VM::define_type, vm/api/api_object.cpp): what the
// interpreter sees (cls: the name and the methods' trampolines), and the
// host's finalizer. Shared by the HostState that defined it (so cls lives
// as long as the Runtime) and the public HostType copies.
struct HostTypeInfo {
  HostClass cls;
  std::function<void(void*)> finalizer;  // may be empty: objects are then not registered
  // The defining VM's: weak, so that a type outliving its VM matches no
  // later VM's state at a reused address.
  std::weak_ptr<HostState> host;
};

struct HostState {
  Mutex mu{LockRank::Host};    // see the file comment
  Runtime* rt = nullptr;       // under mu; nullptr once the runtime is destroyed
  VM* vm = nullptr;            // the public object, for NativeCall::vm(); changed only by a move of the VM

  // Handle slots: values[i] is a GC root while refs[i] > 0.
  std::vector<Value> slots;
  std::vector<uint32_t> refs;
  std::vector<int32_t> free_slots;

  std::vector<std::unique_ptr<HostTask>> tasks;  // see HostTask
  std::vector<Value> entries;  // GC roots: [0] host_arg, [1 + n] trampoline for n arguments
  std::vector<std::unique_ptr<HostNative>> natives;  // defined by this runtime, methods too
  // Host object types (VM::define_type), under mu. Function values'
  // natives (VM::function) live in the finalization registry instead
  // (vm/api/api_object.cpp), freed when the value dies.
  std::vector<std::shared_ptr<HostTypeInfo>> types;
  std::atomic<int> blocking_calls{0};  // blocking natives in progress (destruction waits)

  // mu held. A slot holding v with one reference (-1 for non-heap values).
  int32_t hold(Value v);
  void retain(int32_t slot);
  void release(int32_t slot);
  // Collector thread, world stopped. Host threads keep running meanwhile
  // and may free a task or move `slots` the moment mu is released, so the
  // roots are copied under mu into root_copy (the collector's alone) and
  // the copy is pushed: the mark, and --gc-verify's walk after it, read
  // memory that stays put for the whole cycle.
  void push_roots(gc::RootSink& sink);
  std::vector<Value> root_copy;
  // mu held: unregisters t; the caller destroys it after unlocking (its
  // arguments' handles take mu).
  std::unique_ptr<HostTask> take_task(HostTask* t);
};

// A native's view of its call (public NativeCall): the arguments as
// values (ordinary natives, on the goroutine) or as handles made before a
// blocking native left its P.
//
// An ordinary native's arguments are read in place, not copied (a copy of
// up to 8 values, which the compiler made a `rep movs`, was a fifth of a
// call's time): either the caller's registers R[a+1 ..] in the VM stack, or
// an array that does not move while the native runs (Runtime::call's copy,
// call_blocking's). A callback into Weft may reallocate the VM stack, so
// arguments in it are found again through the Thread's stack pointer at each
// read (*base + off); the callee's frame goes above the caller's registers,
// so the values themselves stay, as live registers of the CALL's stack map.
struct NativeArgs {
  Value* const* base = nullptr;  // &thread->stack, or the address of a stable pointer
  size_t off = 0;
  size_t n = 0;
  size_t size() const { return n; }
  Value operator[](size_t i) const { return (*base)[off + i]; }
};

// Plain data, so that making one per call costs a few stores.
struct NativeFrame {
  HostNative* native;
  Thread* thread;              // the calling goroutine's
  Value self;                  // a method's receiver (a HostObject), else nil; the callee keeps it alive
  NativeArgs values;           // ordinary natives (kept alive by the caller's registers)
  const std::vector<Handle>* handles = nullptr;  // blocking natives running without their P, else nullptr
};

// Gives n a process-wide trampoline slot and makes its Native (allocates:
// the world stopped); false when every slot is taken. unbind_native frees
// the slot (the runtime's destruction).
bool bind_native(HostNative* n, Native** out, Runtime& rt, int min_args, int max_args);
// The trampoline of a process-wide slot for n, without a Native (a host
// object's method: the Native is made, bound, at each field read); nullptr
// when every slot is taken. unbind_native frees it.
NativeFn take_slot(HostNative* n);
void unbind_native(HostNative* n);
// A function value for n (VM::function): the shared trampoline, n in the
// Native's data (allocates: a goroutine, or the world stopped). n lives in
// HostState::natives until the runtime is destroyed.
Native* make_function(HostNative* n, Runtime& rt, int min_args, int max_args);
HostNative* function_of(const Native* native);

// The library's access to the public classes' internals.
struct Access {
  static Handle make_handle(const std::shared_ptr<HostState>& st, Value v, int32_t slot);
  static Value value_of(const Handle& h);  // requires !expired()
  static const std::shared_ptr<HostState>& state_of(const Handle& h) { return h.st_; }
  static NativeCall make_call(NativeFrame* f) { return NativeCall(f); }
  static const std::shared_ptr<HostTypeInfo>& info_of(const HostType& t) { return t.info_; }
  static HostType make_type(std::shared_ptr<HostTypeInfo> info) {
    HostType t;
    t.info_ = std::move(info);
    return t;
  }
  // a's value must be made on the heap (a string, array, map or boxed int).
  static bool needs_heap(const Arg& a) {
    return a.kind_ == Arg::Kind::String || a.kind_ == Arg::Kind::Array || a.kind_ == Arg::Kind::Map ||
           (a.kind_ == Arg::Kind::Int && !Value::fits_inline(a.i_));
  }
  // Checks that every handle in `a` belongs to `st` and every map key is a
  // string, int or bool; the problem, or "".
  static std::string check_arg(const Arg& a, const HostState* st);
  // Nil, a bool, a number or a string: nothing for check_arg to look at.
  static bool is_plain(const Arg& a) { return a.kind_ < Arg::Kind::Array; }
  // A heap value for `a` (allocates: a goroutine, or the world stopped).
  static Value to_value(Runtime& rt, const Arg& a);
  // to_value's cases that need no heap, inline for a native's result (nil,
  // a bool, a float, an int that fits inline); false for the others.
  static bool immediate_value(const Arg& a, Value* out) {
    switch (a.kind_) {
      case Arg::Kind::Nil: *out = Value::nil(); return true;
      case Arg::Kind::Bool: *out = Value::boolean(a.i_ != 0); return true;
      case Arg::Kind::Int:
        if (!Value::fits_inline(a.i_)) return false;
        *out = Value::inline_int(a.i_);
        return true;
      case Arg::Kind::Float: *out = Value::number(a.d_); return true;
      default: return false;
    }
  }
};

// ---- finalization (vm/api/api_object.cpp) ----
// Registers what to do once `obj` is unreachable: call type->finalizer(data)
// (a host object), or destroy fn (a function value's native). On the
// finalizer thread (vm/gc/finalize.h), or at owner's destruction
// (finalize_all). An M holding a P, or the world stopped.
void add_finalizer(const Obj* obj, HostState* owner, std::shared_ptr<HostTypeInfo> type, void* data,
                   std::unique_ptr<HostNative> fn);
// The VM's destruction, its goroutines stopped: waits for its finalizers
// in progress on the finalizer thread, then runs every one still pending
// on this thread. Afterwards none of owner's runs again.
void finalize_all(HostState* owner);

// fn(args) called re-entrantly on t, the running goroutine's VM state (a
// native calling back, NativeCall::call and VM::call from a native).
Result call_on_thread(Thread* t, const Handle& fn, std::vector<Arg> args);

// Result of a Status (and a handle on `result`, if any).
Result to_result(const Status& s);

}  // namespace detail
}  // namespace weft
