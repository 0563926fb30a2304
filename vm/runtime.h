// The Runtime: one VM instance. It owns the heap, the global table, every
// compiled Proto, and the threads (goroutines). The public embedding API
// (include/weft/) wraps it; tools/vm drives it through that API.
//
// Threads: a Runtime is driven by one host thread at a time; run() hands
// the program to the scheduler (vm/sched), whose Ms run the goroutines
// while the host thread waits.
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
  int procs = 0;                 // Ps; 0: env WEFT_PROCS, else the number of CPUs
  bool trace_sched = false;      // a scheduler line a second to stderr (--trace=sched)
  // Preemption (vm/sched/preempt.h). async_preempt off is Go's
  // GODEBUG=asyncpreemptoff=1: call-free loops then stop only at calls.
  bool async_preempt = true;
  bool preempt_stress = false;   // signal every running M about every 50 us
  int64_t time_slice_ns = 10'000'000;  // sysmon preempts a G that ran this long (Go's forcePreemptNS)
  bool gc_verify = false;        // after each collection, check every reachable object is marked
  uint64_t heap_limit = 0;       // live bytes; beyond it `out of memory` (gc::Heap::set_limit); 0: none
};

// The outcome of loading or running something.
struct Status {
  enum Kind { Ok, CompileError, RuntimeError, Fatal } kind = Ok;
  // compile: every diagnostic, formatted; runtime: the message; fatal: what
  // ended the program (`all goroutines are asleep - deadlock!`)
  std::string message;
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
  // Compiles and runs source as the main goroutine on the scheduler
  // (vm/sched), until main returns (other goroutines are then stopped and
  // discarded), a goroutine fails, or every goroutine is blocked. The
  // calling (host) thread only waits: it never runs goroutines. One
  // Runtime may run at a time per process (fatal otherwise).
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

  // A synchronous collection at a safe-point of `t`, for a thread that runs
  // Weft code off the scheduler (no goroutines running). Goroutines use
  // gc::Heap::gc_wait; the collector stops the world itself.
  void collect(Thread* t);
  // The GC root set: every goroutine's frames by their stack maps, pins,
  // errors and resume values; globals; every proto's constants. Returns
  // the number of goroutines scanned. Collector thread, world stopped.
  size_t push_roots(gc::RootSink& sink);

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
  // The schedulers of finished runs, with their Gs. Declared before heap_
  // so they outlive it: its collector thread may still look at them until
  // the heap is gone.
  std::vector<std::unique_ptr<sched::Sched>> retired_scheds_;
  std::unique_ptr<gc::Heap> heap_;
  std::unordered_map<std::string, int> global_index_;
  std::vector<std::unique_ptr<Proto>> protos_;
  std::unique_ptr<Thread> main_;
};

// Builtins (vm/builtins.cpp) and value formatting (vm/format.cpp).
void install_builtins(Runtime& rt);
// Ps when RuntimeOptions::procs is 0: env WEFT_PROCS, else the CPU count.
int default_procs();
// print's format: floats like Python's repr, strings raw at the top level and
// quoted inside arrays and maps.
void format_value(std::string& out, Value v, bool quote_strings);
const char* type_name(Value v);

}  // namespace weft
