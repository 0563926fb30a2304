// Native functions defined by the host (see weft/weft.h for the whole API).
//
// A native is a C++ callable, Arg(NativeCall&) (NativeFunction), defined as a Weft global
// (VM::define) or as a field of a module map (VM::define_module). Scripts
// call it like any function. It runs on the calling goroutine's thread.
//
// Errors. The typed argument helpers (int_arg, string_arg, ...) raise
// `NAME: expected TYPE, got TYPE` as a Weft runtime error in the caller,
// with the caller's traceback; raise() raises any message. Both work by
// throwing NativeError, which the VM catches around the native: so do not
// swallow it with catch (...). Any other C++ exception a native throws
// becomes a runtime error too (its what()); none escapes into the VM.
//
// Ordinary natives may call back into Weft (NativeCall::call), also from a
// goroutine-blocking callee. Do not call back from inside a catch block (the
// goroutine may resume on another thread, where the exception is unknown).
// Ordinary natives must not block for long: they hold a P (a CPU slot of
// the scheduler) and the collector waits for them to return.
//
// Methods. A host object's type (HostTypeDef) lists natives that scripts
// reach as its fields: `obj.name(args)` calls the native with obj as its
// receiver (receiver(), self<T>()), and args as its arguments.
//
// Blocking natives (NativeDef::blocking) run as system calls: their P goes
// to other goroutines and collections proceed while they block. Their
// arguments are copied out before the call (strings by value, other objects
// as handles) and their result is made into a Weft value after it; they may
// not call back into Weft. Use them for sleeping, I/O and waiting on C++.
#pragma once

#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "weft/value.h"

namespace weft {

class VM;

// Thrown by the argument helpers and raise(); becomes a Weft runtime error.
class NativeError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class NativeCall {
 public:
  const char* name() const;     // the name the native was defined with
  size_t size() const;          // the number of arguments
  Type type(size_t i) const;    // Nil past the end
  Handle arg(size_t i) const;   // any argument (nil past the end)
  // Typed arguments: `NAME: expected TYPE, got TYPE` otherwise.
  int64_t int_arg(size_t i) const;
  double float_arg(size_t i) const;   // a float or an int
  bool bool_arg(size_t i) const;
  std::string string_arg(size_t i) const;
  Handle array_arg(size_t i) const;
  Handle map_arg(size_t i) const;
  Handle function_arg(size_t i) const;
  // A host object argument of `type`: its data pointer, or
  // `NAME: expected TYPE, got TYPE`.
  template <class T = void>
  T* object_arg(size_t i, const HostType& type) const {
    return static_cast<T*>(object_arg_data(i, type));
  }
  // A method's receiver (the host object whose field it was read from),
  // and its data pointer; for a native that is no method: nil, and
  // `NAME: not a method` raised.
  Handle receiver() const;
  template <class T = void>
  T* self() const {
    return static_cast<T*>(self_data());
  }
  [[noreturn]] void raise(const std::string& message) const;  // a runtime error with this message
  // Calls a Weft function from the native (not from a blocking native:
  // Misuse). A Runtime result does not raise by itself: pass it on with
  // raise(r.message) if the native should fail too.
  Result call(const Handle& fn, std::vector<Arg> args = {}) const;
  VM& vm() const;

 private:
  friend struct detail::Access;
  explicit NativeCall(detail::NativeFrame* f) : f_(f) {}
  void* object_arg_data(size_t i, const HostType& type) const;
  void* self_data() const;
  detail::NativeFrame* f_;
};

using NativeFunction = std::function<Arg(NativeCall&)>;

// A NativeFunction from a callable that cannot be copied (one that owns a
// std::unique_ptr, say): std::function needs copies, so f moves into
// shared storage that every copy of the result calls. Called on whichever
// thread runs the native; f synchronizes its own state.
template <class F>
NativeFunction move_only_native(F f) {
  auto shared = std::make_shared<F>(std::move(f));
  return [shared](NativeCall& call) -> Arg { return (*shared)(call); };
}

struct NativeDef {
  std::string name;
  NativeFunction fn;
  int min_args = 0;
  int max_args = -1;       // -1: any number; the VM checks the count before calling
  bool blocking = false;   // runs as a system call (see above)
};

// A type of host objects (VM::define_type). The objects are script values:
// type() gives `name`, print writes `<NAME>`, they compare by identity and
// are not map keys; `obj.METHOD(args)` calls one of `methods`, and any
// other field read is a runtime error (`NAME has no field 'x'`), as is a
// field write. An object holds the host's `data` pointer, which the VM
// never reads, and `slots` traced script values (VM::set_slot).
//
// The finalizer, if set, is called with an object's data exactly once:
// after a collection found the object unreachable, on the finalizer thread
// (one per process, never inside a stop-the-world, with no VM lock held),
// or, for objects still alive when their VM is destroyed, by the VM's
// destructor on the destroying thread. It must not call into a VM; it may
// drop Handles. docs/embedding.md#host-objects has the whole contract.
struct HostTypeDef {
  std::string name;
  std::function<void(void* data)> finalizer;
  std::vector<NativeDef> methods;  // their names are the fields; blocking ones allowed
};

// A registered type (VM::define_type), or none (valid() false). Copies are
// the same type; it belongs to the VM that defined it.
class HostType {
 public:
  bool valid() const { return info_ != nullptr; }
  const std::string& name() const;

 private:
  friend struct detail::Access;
  std::shared_ptr<detail::HostTypeInfo> info_;
};

}  // namespace weft
