// The Runtime: one VM instance. It owns the heap, the global table, every
// compiled Proto, and the threads (goroutines). The public embedding API
// (include/weft/) wraps it; tools/vm drives it through that API.
//
// Threads: until the scheduler lands, a Runtime is used by one OS thread at
// a time and runs one goroutine, the main one.
#pragma once

#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "vm/bytecode.h"
#include "vm/gc/heap.h"
#include "vm/object.h"
#include "vm/thread.h"

namespace weft {

struct RuntimeOptions {
  int gc_percent = 100;
  bool gc_stress = false;        // collect at every safe-point that allocates
  FILE* out = stdout;            // print()
  FILE* err = stderr;            // runtime errors
  std::vector<std::string> args; // args()
};

// The outcome of loading or running something.
struct Status {
  enum Kind { Ok, CompileError, RuntimeError } kind = Ok;
  std::string message;    // compile: every diagnostic, formatted; runtime: the message
  std::string traceback;  // runtime: "  at NAME (file.wf:LINE)" lines, innermost first
  bool ok() const { return kind == Ok; }
};

class Runtime : public CompileEnv {
 public:
  explicit Runtime(RuntimeOptions opts = {});
  ~Runtime() override;
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  // Compiles `source` (named `file` in diagnostics) to its main proto.
  Status compile(std::string_view file, std::string_view source, Proto** main);
  // Compiles and runs source as the main goroutine, to completion.
  Status run(std::string_view file, std::string_view source);
  // Calls a function value with arguments on the current thread (the
  // re-entrant path natives use to call back into Weft). On error, returns
  // Value::empty() with the error pending on the thread.
  Value call(Thread* t, Value fn, const Value* args, int nargs);

  // CompileEnv
  Value string_constant(std::string_view s) override;
  int find_global(std::string_view name) override;
  int define_global(std::string_view name) override;
  Proto* adopt(std::unique_ptr<Proto> p) override;

  // Allocation (never collects; see vm/gc/heap.h).
  String* new_string(std::string_view s);
  String* new_string_uninit(size_t len);     // fill data[0..len) yourself
  Value make_int(int64_t i);                 // inline or boxed
  Array* new_array(uint32_t len, uint32_t capacity);
  Map* new_map(uint32_t capacity);
  Closure* new_closure(Proto* p);
  Cell* new_cell(Value v);
  Native* new_native(const char* name, NativeFn fn, int min_args, int max_args);
  WeakRef* new_weakref(Value target);

  // Defines global `name` as a native function.
  void define_native(const char* name, NativeFn fn, int min_args, int max_args);

  // Collection, at a safe-point of `t` (all its live values in registers).
  void collect(Thread* t);
  // Asks every running thread to stop at its next safe-point (poisons guards).
  void request_stop();
  // The GC root set: every thread's frames by their stack maps, pins and
  // errors; globals; every proto's constants.
  void push_roots(gc::RootSink& sink);

  gc::Heap& heap() { return *heap_; }
  const RuntimeOptions& options() const { return opts_; }
  Thread* main_thread() { return main_.get(); }

  std::vector<Value> globals;             // GC roots
  std::vector<std::string> global_names;
  // The 256 one-byte strings (s[i], chr, iterating a string), made once.
  // GC roots; immutable after the constructor.
  Value byte_strings[256];

 private:
  RuntimeOptions opts_;
  std::unique_ptr<gc::Heap> heap_;
  std::unordered_map<std::string, int> global_index_;
  std::vector<std::unique_ptr<Proto>> protos_;
  std::unique_ptr<Thread> main_;
};

// Builtins (vm/builtins.cpp) and value formatting (vm/format.cpp).
void install_builtins(Runtime& rt);
// print's format: floats like Python's repr, strings raw at the top level and
// quoted inside arrays and maps.
void format_value(std::string& out, Value v, bool quote_strings);
const char* type_name(Value v);

}  // namespace weft
