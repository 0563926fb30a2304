// Weft's public embedding API. Include this header; it includes the rest of
// include/weft/ (value.h: Handle, Arg, Result; native.h: natives).
//
// A VM is one Weft runtime: its heap, globals, compiled code and natives.
// Scripts are loaded into it and their functions called from C++; globals
// persist from one request to the next. Every failure comes back as a
// Result (kind, message, traceback), never as a C++ exception, and the VM
// stays usable after it. The VM prints nothing of its own: only the
// script's print() output, to the configured sink.
//
// Goroutines. A call runs on the calling thread when one of the scheduler's
// Ps (Config::procs) is free, like a goroutine that thread runs itself: no
// thread hand-off, and no allocation once warm. When the call blocks (a
// channel, sleep, a collection stopping it), or no P is free, it continues
// as a goroutine on the scheduler's threads and the calling thread waits for
// its result. Goroutines a call starts always run on the scheduler's
// threads. While a call runs, its thread takes SIGURG (preemption; the
// thread gets an alternate signal stack once, and SIGURG unblocked). The
// scheduler starts with the first request that needs it and
// runs until the VM is destroyed, a program run ends (run_file and
// run_source, which behave as the `vm` binary: when main returns, every
// goroutine stops), a goroutine the host did not start fails (as in Go, the
// run ends: every waiting call gets that error), or interrupt() is called.
// The next request starts a fresh one; globals survive. A waiting call whose
// goroutines are all asleep (no timer pending, nothing runnable) gets a
// Deadlock result; an idle VM, or goroutines parked until a later call
// wakes them, are not a deadlock. Other host threads are invisible to the
// scheduler: the verdict waits Config::deadlock_grace_ns and holds only if
// no host request started meanwhile, so a call waiting for what another
// host thread sends after a longer pause may see a Deadlock.
//
// Threads: every VM method may be called from any number of host threads at
// once, except the constructor and destructor (destroy a VM only when no
// other thread uses it; the destructor waits for blocking natives in
// progress). Natives must not call VM methods that wait (run, load,
// wait_all, collect, define, call_for): they get Misuse. docs/embedding.md
// has the whole model: threads, lifetimes, what a native may call, and the
// sandbox (what scripts may reach outside the VM; Config below). A native may call(), on its
// own VM: it calls back into Weft on its goroutine, as NativeCall::call.
//
// How many VMs: any number, each with its own scheduler, may run goroutines
// at the same time, called from any host threads. They share no value (a
// handle of one is Misuse in another), and an error, a deadlock,
// interrupt() or heap_limit of one never affects another. They share the
// collector (bdwgc's heap is process-wide): a collection stops every VM's
// goroutines for its pause, and counts as a cycle of each (on_gc,
// gc_stats). A native may call() another VM: it leaves its own VM's P for
// the call, as a blocking native does (docs/embedding.md#many-vms).
//
// This header includes no internal header (pimpl): hosts compile against
// include/weft/ alone and link the weft library (CMake: Weft::weft).
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "weft/native.h"
#include "weft/value.h"

namespace weft {

struct Config {
  int procs = 0;                  // OS threads running Weft code at once; 0: env WEFT_PROCS,
                                  // else the number of CPUs
  int gc_percent = 100;           // Go's GOGC: next collection at max(16 MiB * p/100, live * (1 + p/100)); < 0: off
  bool async_preempt = true;      // signal-based preemption of call-free loops (Go's asyncpreemptoff=0)
  int64_t time_slice_ns = 10'000'000;  // a goroutine running this long is preempted (Go: 10 ms)
  size_t max_stack = 0;           // a goroutine's VM stack limit in values (8 bytes each);
                                  // 0: 4 Mi values (32 MiB). Beyond it: `stack overflow`.
                                  // Native stacks are fixed at build time (1 MiB each).
  // A waiting call whose goroutines are all asleep gets Deadlock only once
  // they stayed asleep this long with no other host request starting (other
  // host threads may be about to send what it waits for).
  int64_t deadlock_grace_ns = 100'000'000;
  bool gc_stress = false;         // collect at every safe-point that allocates
  bool gc_stress_minor = false;   // with gc_stress and generational collections: minor ones
                                  // (a full one every 256)
  bool gc_verify = false;         // after each collection, check every reachable object is marked
  uint64_t heap_limit = 0;        // bytes of live data; over it after a collection, the next
                                  // allocating goroutine raises `out of memory`. 0: no limit
  bool preempt_stress = false;    // signal every running thread about every 50 us (testing)
  bool trace_gc = false;          // one line per collection to the err sink
  bool trace_sched = false;       // a scheduler line a second to stderr (like GODEBUG=schedtrace)
  // Where print() writes: on_out if set (called with whole lines, from the
  // printing goroutine's thread), else the stream `out`. on_err/err take
  // the trace_gc lines.
  FILE* out = stdout;
  FILE* err = stderr;
  std::function<void(std::string_view)> on_out;
  std::function<void(std::string_view)> on_err;
  std::vector<std::string> args;  // what the script's args() returns
  // Top-level lets that no function reads or writes may live in registers
  // of the main chunk, as locals: faster top-level loops, but get() does
  // not see them. The vm binary sets it for scripts, not for the REPL.
  bool private_top_level = false;

  // ---- the sandbox (docs/embedding.md#sandboxes) ----
  // What scripts may reach outside the VM. By default an embedded VM
  // offers the pure library: math, strings, the array builtins, format,
  // print and io.write/io.eprint to its sinks. Refusals are runtime errors
  // the script can catch with pcall: `import: module "fs" is disabled in
  // this VM`, `readline: standard input is disabled in this VM`.
  bool enable_fs = false;         // the fs module
  bool enable_os = false;         // the os module (env, os.run, os.time, os.exit)
  bool enable_stdin = false;      // readline, io.read, io.read_all
  // Which file modules import() may load (standard and host modules are
  // always importable): Any; None (`import: file modules are disabled in
  // this VM (importing "NAME")`); or Directory: only files whose real path
  // is under import_dir (`import: "PATH" is outside this VM's module directory`).
  enum class FileImports : uint8_t { Any, None, Directory };
  FileImports file_imports = FileImports::Any;
  std::string import_dir;         // FileImports::Directory's root ("" = the current directory)
  // os.exit(code): false ends the run (every goroutine stops, the waiting
  // request returns Result::Exit with exit_code, the VM stays usable);
  // true ends the process, as exit(3) (the `vm` binary).
  bool exit_ends_process = false;
  // A write to standard output whose reader has gone (EPIPE): true ends the
  // process quietly with status 141 (the `vm` binary); false lets the
  // write fail (the output is lost, the script goes on). The host decides
  // what SIGPIPE does to its process.
  bool broken_pipe_exits = false;
  // Everything on: the `vm` binary's sandbox (none).
  void enable_all() {
    enable_fs = enable_os = enable_stdin = exit_ends_process = broken_pipe_exits = true;
    file_imports = FileImports::Any;
  }
};

// Collector figures (the script's gcstats() and more).
struct GcStats {
  uint64_t collections = 0;
  uint64_t heap_bytes = 0;        // bdwgc's heap
  uint64_t live_bytes = 0;        // exact, after the last collection
  uint64_t total_allocated = 0;
  uint64_t last_pause_ns = 0, max_pause_ns = 0, total_pause_ns = 0;
  uint64_t stw_ns = 0;            // time to stop the world, last collection
  uint64_t mark_ns = 0;           // last collection
  uint64_t preemptions_sync = 0, preemptions_async = 0;
};

// One collection, as the on_gc callback sees it.
struct GcCycle {
  uint64_t seq = 0;               // 1 for the first collection
  uint64_t at_ns = 0;             // start, ns since the VM was made
  uint64_t stw_ns = 0, mark_ns = 0, pause_ns = 0;
  uint64_t heap_before = 0, heap_after = 0, live_after = 0;
  uint64_t goroutines = 0;        // scanned
};

// A goroutine started by VM::spawn. wait() returns its result (or error)
// once; later calls return the same Result. Dropping a Task without waiting
// lets the goroutine run on unobserved. One thread at a time uses a Task.
class Task {
 public:
  Task();  // empty (valid() is false); out of line, where Impl is complete
  Task(Task&&) noexcept;
  Task& operator=(Task&&) noexcept;
  ~Task();
  Result wait();
  bool valid() const;  // a goroutine was started

 private:
  friend class VM;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

class VM {
 public:
  explicit VM(Config config = {});
  ~VM();
  VM(const VM&) = delete;
  VM& operator=(const VM&) = delete;
  // Moving hands the runtime over (natives' NativeCall::vm() then names the
  // new object); only while no other thread uses either VM, as for the
  // destructor. A moved-from VM answers every request with Misuse.
  VM(VM&& other) noexcept;
  VM& operator=(VM&& other) noexcept;

  // Programs, as the `vm` binary runs them: the top level is the main
  // goroutine; when it returns, every goroutine stops. `name` is the file
  // name used in diagnostics and tracebacks.
  Result run_file(const std::string& path);
  Result run_source(std::string_view name, std::string_view code);
  // Modules: runs the top level to completion (in a goroutine);
  // goroutines it started live on (serving later calls, say).
  Result load_file(const std::string& path);
  Result load_source(std::string_view name, std::string_view code);
  // Compiles only (vm --check).
  Result check_file(const std::string& path);
  Result check_source(std::string_view name, std::string_view code);
  // Compiles and lists the bytecode with lines and stack maps (vm --disasm)
  // into *listing.
  Result disassemble_file(const std::string& path, std::string* listing);
  Result disassemble_source(std::string_view name, std::string_view code, std::string* listing);

  // Globals: get's value is in Result::value (Misuse if undefined).
  Result get(std::string_view name);
  Result set(std::string_view name, Arg value);

  // Calls a function (a global's name, or a handle) in a new goroutine and
  // waits for its result, in Result::value.
  Result call(std::string_view function, std::vector<Arg> args = {});
  Result call(const Handle& function, std::vector<Arg> args = {});
  // As call, with a deadline: if the call has not returned after
  // timeout_ns, its goroutine raises `deadline exceeded` at its next
  // safe-point (a call, an allocation, a channel operation; again at every
  // later one, so pcall cannot outlive it) and this call returns that
  // Runtime result with the goroutine's traceback. The rest of the run
  // goes on: goroutines the call started, other calls. A goroutine that
  // reaches no safe-point within 100 ms more (a call-free loop, one
  // blocked on a channel or in sleep) is stopped by interrupting the whole
  // run instead (as interrupt(); the traceback is then where the oldest
  // host goroutine stood). Runs as a goroutine (never on the calling
  // thread) with a watchdog thread: tens of microseconds per call. Not
  // from a native (Misuse).
  Result call_for(int64_t timeout_ns, std::string_view function, std::vector<Arg> args = {});
  Result call_for(int64_t timeout_ns, const Handle& function, std::vector<Arg> args = {});
  // Starts a goroutine and returns at once; Task::wait() gets its result.
  // An error in it goes to its Task only. Check with Task::valid(): an
  // invalid Task's wait() returns the Misuse that prevented the start.
  Task spawn(std::string_view function, std::vector<Arg> args = {});
  Task spawn(const Handle& function, std::vector<Arg> args = {});
  // Waits until every goroutine has finished (Ok) or all are asleep (Deadlock).
  Result wait_all();

  // Natives: one, a table of globals, or a host module: a map of natives
  // that import(name) returns (and, as before, a global `name`). A module
  // name of the standard library (math, strings, io, fs, os; offered by
  // this VM or not) or of another host module is a Misuse.
  Result define(NativeDef native);
  Result define(std::vector<NativeDef> natives);
  Result define_module(std::string_view name, std::vector<NativeDef> natives);
  // A function value backed by def.fn, made now (Result::value, a Handle of
  // type Function): pass it to scripts as an argument, a result, a global
  // or a field; scripts call it like any function and type() says
  // "function". def.fn may carry state, also move-only state
  // (weft::move_only_native). Any thread, also a native of this VM (which
  // may return the handle). The callable is destroyed (with what it
  // captured) once the value is unreachable, on the finalizer thread (see
  // HostTypeDef), or when the VM is destroyed, whichever comes first.
  // Blocking function values are refused (Misuse): define those.
  Result function(NativeDef def);

  // Host objects (docs/embedding.md#host-objects; HostTypeDef in
  // weft/native.h). define_type registers a type for this VM's objects in
  // *type (Misuse: no name, a bad method). new_object makes an object of it
  // holding `data` and `slots` nil slots (Result::value): on failure the
  // data stays the host's and no finalizer runs. set_slot stores a value in
  // slot i; scripts cannot reach slots, but what they hold is traced, so a
  // cycle through host objects and script data is collected. Any thread,
  // also a native of this VM (which may return the object); new_object,
  // and set_slot of a value that must be made (a string, an array, a map,
  // an int beyond 2^48), stop the world briefly when called off a goroutine.
  Result define_type(HostTypeDef def, HostType* type);
  Result new_object(const HostType& type, void* data, size_t slots = 0);
  Result set_slot(const Handle& object, size_t i, Arg value);

  // Ends the current run from any thread: every goroutine stops at its next
  // safe-point and every waiting call returns a Runtime result
  // `interrupted`. The VM stays usable.
  void interrupt();

  // The collector: figures, tuning at run time, a full collection now, and
  // a callback after each collection (on the collector's thread: it must
  // not call this VM or block; nullptr removes it).
  GcStats gc_stats() const;
  void set_gc_percent(int percent);
  Result collect();
  void on_gc(std::function<void(const GcCycle&)> callback);

  // Reads a whole file as bytes (any content: the lexer judges it).
  static Result read_file(const std::string& path, std::string* contents);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// How many threads mark each collection (bdwgc's parallel markers: the
// collecting thread and n - 1 helpers). Process-wide, and fixed when the
// first VM is made: set it before. 0 (unset): env WEFT_GC_MARKERS, else
// the number of CPUs. Returns false, changing nothing, once a VM has been
// made or for n outside 1..16.
bool set_gc_markers(int n);
// The marker count in effect (or, before the first VM, the one it will get).
int gc_markers();
// Generational collections: minor collections of the objects made since
// the last collection between full ones (docs/design.md#collection).
// Process-wide and fixed when the first VM is made, like the marker count;
// unset: on wherever this build's bdwgc can (the one tools/bdwgc.sh
// builds; the system's libgc cannot), unless env WEFT_GC_GENERATIONAL=0.
// Returns false, changing nothing, once a VM has been made, or when asked
// to turn them on and this build's bdwgc cannot.
bool set_gc_generational(bool on);
bool gc_generational();  // in effect (or, before the first VM, what it will get)

// "weft 0.1.0"
const char* version();

}  // namespace weft
