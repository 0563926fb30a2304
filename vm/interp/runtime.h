// The Runtime: one VM instance. It owns the heap, the global table, every
// compiled Proto, and the threads (goroutines). The public embedding API
// (include/weft/) wraps it; tools/vm drives it through that API.
//
// Threads: host threads (any number at once) hand work to the scheduler
// (vm/sched), whose Ms run it as goroutines while the host thread waits
// (vm/api/host.cpp: the host side, for the embedding API and run()), or run
// a call themselves as an M holding a P (call_here, docs/design.md#host-calls);
// loading code and defining globals stop the world instead (with_world_stopped).
#pragma once

#include <atomic>
#include <cstdio>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "vm/interp/bytecode.h"
#include "vm/interp/globals.h"
#include "vm/gc/heap.h"
#include "vm/core/object.h"
#include "vm/interp/thread.h"

namespace weft::sched {
struct Channel;
}

namespace weft {

struct RuntimeOptions {
  int gc_percent = 100;
  bool gc_stress = false;        // collect at every safe-point that allocates
  bool gc_stress_minor = false;  // ... in minor collections (generational collections only)
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
  size_t max_stack = kMaxStack;  // a goroutine's VM stack limit, in Values: beyond it `stack overflow`
  // A host waiting on goroutines that are all asleep gets a deadlock only if
  // they stay so this long with no host request starting (vm/api/host.cpp).
  int64_t deadlock_grace_ns = 100'000'000;
  // Top-level lets that no function uses may live in registers of the main
  // chunk (lang/resolver.cpp); they are then no globals (VM::get, the REPL).
  bool private_top_level = false;
  // The sandbox (vm/lib/modules.cpp, docs/embedding.md#sandboxes): what
  // scripts may reach outside the VM. These defaults are the `vm` binary's
  // (everything); weft::Config's are an embedded VM's (the pure library).
  bool lib_fs = true;            // the fs module
  bool lib_os = true;            // the os module
  bool lib_stdin = true;         // readline, io.read, io.read_all
  enum class Imports : uint8_t { Any, None, Directory } file_imports = Imports::Any;
  std::string import_dir;        // Imports::Directory: file modules only from under it
  bool exit_process = true;      // os.exit ends the process; false: it ends the run (Status::Exit)
  bool broken_pipe_exits = true; // standard output's reader gone: the process ends with 141
};

namespace detail {
struct HostState;  // the embedding API's handles and requests (vm/api/host.h)
}
struct HostTask;
class Arg;
struct Result;

// The outcome of loading or running something.
struct Status {
  // Fatal: a deadlock; Misuse: a host request that cannot be honoured
  // (another Runtime runs goroutines, a handle of a destroyed runtime, ...).
  // Exit: a script called os.exit in a VM whose os.exit ends the run
  // (RuntimeOptions::exit_process false); exit_code is its argument.
  enum Kind { Ok, CompileError, RuntimeError, Fatal, Misuse, Exit } kind = Ok;
  // compile: every diagnostic, formatted; runtime: the message; fatal: what
  // ended the program (`all goroutines are asleep - deadlock!`); misuse: why
  std::string message;
  std::string traceback;  // runtime: "  at NAME (file.wf:LINE)" lines, innermost first
  int exit_code = 0;      // valid iff kind == Exit
  bool ok() const { return kind == Ok; }
};

class Runtime : public CompileEnv, public gc::Roots {
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
  // Runtime may run goroutines at a time per process (Misuse otherwise).
  Status run(std::string_view file, std::string_view source);

  // ---- the host side (vm/api/host.cpp): host threads only, any number ----
  // Compiles source with the world stopped; *task is a new request to run
  // its main function (see add_task).
  Status load(std::string_view file, std::string_view source, HostTask** task);
  // Registers a request to run fn(args...): fn becomes a GC root, so it must
  // be one already (a handle's value) or the world be stopped. The caller
  // owns it until release_task.
  HostTask* add_task(Value fn, std::vector<Arg> args);
  // Drops the caller's interest: the task is freed, or, if its goroutine is
  // still running, freed by that goroutine when it ends.
  void release_task(HostTask* task);
  // Runs f() with the world stopped (no goroutine runs Weft code and no
  // collection runs): the host thread may allocate, define globals and
  // compile. Retries while another runtime's scheduler shuts down.
  void with_world_stopped(const std::function<void()>& f);
  // Starts task->fn(task->args...) as a goroutine (the scheduler starts on
  // first use). The task belongs to host state until released; its fn is a
  // GC root from the moment the caller made it (under the world stopped or
  // through a handle).
  Status spawn(HostTask* task);
  // Runs fn(args) on the calling host thread (docs/design.md#host-calls)
  // when a P is idle and fn is a closure taking args.size() arguments
  // (with global >= 0, fn is that global's value, read with the P held).
  // NotRun: nothing happened (spawn instead). Done: *out is the outcome.
  // Waiting: the call parked and became a goroutine; *task is its request,
  // for await and release_task.
  enum class Here { NotRun, Done, Waiting };
  Here call_here(Value fn, int global, const std::vector<Arg>& args, Result* out, HostTask** task);
  // Waits for the task's goroutine. Ok: the result is in task->result
  // (a GC root while the task is registered). Fatal: every goroutine is
  // asleep. RuntimeError: the goroutine failed, or the run ended (a
  // program's main returned, another goroutine failed, interrupt()).
  Status await(HostTask* task);
  // Waits until no goroutine is left (Ok) or every one is asleep (Fatal).
  Status await_all();
  // Ends the current run (every goroutine stops at its next safe-point,
  // every waiting host gets `message`, default `interrupted`). Any thread.
  void interrupt(const char* message = "interrupted");
  // A host request's deadline passed: its goroutine raises `deadline
  // exceeded` at its next safe-point (HostRequest). False once the task
  // finished. Any host thread; call it again to re-poison the guard (a
  // resumed goroutine may have reset it).
  bool expire(HostTask* task);
  // Stops the scheduler (program end, destruction). Host thread.
  void stop_scheduler();
  // Called by a G's M when a G with g->host finishes (the exited hook,
  // vm/interp/goroutine.cpp):
  // `r` is its result, or Value::empty() with its error on g->vm.
  void host_goexit(sched::G* g, Value r);
  detail::HostState& host() { return *host_; }
  const std::shared_ptr<detail::HostState>& host_ptr() const { return host_; }
  // Calls a function value with arguments on the current thread (the
  // re-entrant path natives use to call back into Weft). On error, returns
  // Value::empty() with the error pending on the thread.
  Value call(Thread* t, Value fn, const Value* args, int nargs);

  // CompileEnv
  Value string_constant(std::string_view s) override;
  int find_global(std::string_view name) override;
  int define_global(std::string_view name) override;  // -1 when the table is full
  bool private_top_level(std::string_view) override { return opts_.private_top_level; }
  // Defines (if needed) and sets a global; false when the table is full.
  bool set_global(std::string_view name, Value v);
  Proto* adopt(std::unique_ptr<Proto> p) override;

  // Allocation (never collects; see vm/gc/heap.h).
  String* new_string(std::string_view s);
  String* new_string_uninit(size_t len);     // fill data[0..len) yourself
  Value make_int(int64_t i);                 // inline or boxed
  // numeric: items too many to be inline go to a numeric store (vm/core/object.h)
  Array* new_array(uint32_t len, uint32_t capacity, bool numeric = false);
  Map* new_map(uint32_t capacity);
  Closure* new_closure(Proto* p);
  Cell* new_cell(Value v);
  Native* new_native(const char* name, NativeFn fn, int min_args, int max_args);
  WeakRef* new_weakref(Value target);
  sched::Channel* new_channel(uint32_t cap);

  // Defines global `name` as a native function.
  void define_native(const char* name, NativeFn fn, int min_args, int max_args);

  // A synchronous collection at a safe-point of `t`, for a thread that runs
  // Weft code off the scheduler (no goroutines running). Goroutines use
  // gc::Heap::gc_wait; the collector stops the world itself.
  void collect(Thread* t);
  // gc::Roots. The root set: every goroutine's frames by their stack maps,
  // pins, errors and resume values; globals; every proto's constants; the
  // host's handles. Collector thread, world stopped.
  size_t push_roots(gc::RootSink& sink) override;  // vm/api/runtime.cpp
  void scan_vm(gc::RootSink& sink, sched::GoroutineVM* vm, bool async) override;  // vm/interp/scan.cpp
  sched::GoroutineVM* host_vm() override { return main_.get(); }

  // The scheduler's view of this VM (sched_start's argument; vm/interp/goroutine.cpp).
  sched::Hooks sched_hooks();
  sched::Counters& counters() { return counters_; }

  gc::Heap& heap() { return *heap_; }
  const RuntimeOptions& options() const { return opts_; }
  Thread* main_thread() { return main_.get(); }

  GlobalTable globals;                    // GC roots up to globals.size()
  // The 256 one-byte strings (s[i], chr, iterating a string), made once.
  // GC roots; immutable after the constructor.
  Value byte_strings[256];
  // The standard modules' per-VM state (vm/lib/lib.h, lib::State), opaque
  // below vm/lib: made by install_builtins, freed with the Runtime. Holds
  // no GC references (module maps are rooted through a hidden global).
  std::shared_ptr<void> lib_state;
  // The first source a host loaded (the main script): file modules are
  // also looked for in its directory (vm/lib/imports.cpp). Set by load().
  std::string main_file;

 private:
  RuntimeOptions opts_;
  sched::Counters counters_;
  Status ensure_sched_locked();      // sched_mu_ held
  void stop_world_locked();         // sched_mu_ held; start_the_world ends it
  Status wait_for(sched::Sched* s, const std::function<bool()>& finished);  // host thread
  bool deadlock_confirmed(sched::Sched* s, uint64_t* gen, const std::function<bool()>& finished);
  void stop_sched_locked();         // sched_mu_ held
  Value trampoline(int nargs);      // world stopped: the entry of a call with nargs arguments

  // The schedulers of finished runs, with their Gs. Declared before heap_
  // so they outlive it: its collector thread may still look at them until
  // the heap is gone. Guarded by sched_mu_.
  std::vector<std::unique_ptr<sched::Sched>> retired_scheds_;
  // The scheduler of the current run, started by the first host request
  // that needs goroutines. sched_mu_ guards starting, stopping and spawning
  // on it (never held while waiting for goroutines); live_sched_ mirrors it
  // for interrupt(), which must not wait for sched_mu_.
  Mutex sched_mu_{LockRank::HostSched};
  std::unique_ptr<sched::Sched> sched_;
  std::atomic<sched::Sched*> live_sched_{nullptr};
  std::string interrupted_traceback(sched::Sched* s);  // interrupt()'s, vm/api/host.cpp
  std::atomic<uint64_t> host_spawns_{0};  // goroutines host threads started (deadlock_confirmed)
  std::unique_ptr<gc::Heap> heap_;
  Mutex protos_mu_{LockRank::Leaf};  // guards protos_ against compiles on two goroutines
  std::vector<std::unique_ptr<Proto>> protos_;
  // String constants, one object per text (string_constant), with their
  // hashes computed: a field name compiled in two functions is one String,
  // so a map lookup by it matches by pointer at the first compare. Roots.
  Mutex constants_mu_{LockRank::Leaf};
  std::unordered_map<std::string_view, Value> constants_;  // views into the Strings
  std::vector<Value> constant_list_;
  std::unique_ptr<Thread> main_;
  // Handles, requests and natives of the embedding API. Shared with every
  // public Handle, which outlives the runtime safely (host_->rt is cleared).
  std::shared_ptr<detail::HostState> host_;
};

// Builtins (vm/lib/builtins.cpp) and value formatting (vm/interp/format.cpp).
void install_builtins(Runtime& rt);
// Ps when RuntimeOptions::procs is 0: env WEFT_PROCS, else the CPU count.
int default_procs();
// print's format: floats like Python's repr, strings raw at the top level and
// quoted inside arrays and maps. Shared substructure is written out each
// time it appears (a container inside itself as `[...]`/`{...}`), so the
// text of a small DAG can be exponentially long: the bounded form stops
// once out passes `max` bytes and returns false (out then holds a prefix).
void format_value(std::string& out, Value v, bool quote_strings);
bool format_value(std::string& out, Value v, bool quote_strings, uint64_t max);
const char* type_name(Value v);

// ---- the size of a builtin's result (vm/interp/alloc.cpp) ----
// The memory rule (docs/language.md#output-and-conversion): a builtin
// that builds a large result (a string, an array, a native buffer it
// fills first) checks the size it plans against the heap limit before it allocates, and fails with `out of
// memory` rather than allocate past it. The heap's own check comes too
// late for them: it runs after a collection, at a safe-point, and a
// builtin runs none (a 400 MB join would be built whole first). Text
// built piecewise (str, print, join, format) checks against string_budget
// as it grows, then calls string_room with the size it reached.
// Any goroutine, on its own Thread; each is a few loads.

// String::len is 32 bits: the longest string.
constexpr uint64_t kMaxStringLen = UINT32_MAX;
// The bytes a builtin may still add to the heap: what --heap-limit leaves
// above the live data the last collection counted; UINT64_MAX with no limit.
uint64_t heap_headroom(Runtime& rt);
// False, with `out of memory` raised on t, when `bytes` more would not fit
// in heap_headroom. Call it before allocating a result of about that size.
bool heap_room(Thread* t, uint64_t bytes);
// heap_room for a string of `len` bytes, which must also fit String::len
// (else `string too long`).
bool string_room(Thread* t, uint64_t len);
// The longest string a builtin may build now: min(headroom, kMaxStringLen).
uint64_t string_budget(Runtime& rt);

}  // namespace weft
