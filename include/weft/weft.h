// Weft's public embedding API: the only installed header.
//
// A VM is one Weft runtime: its heap, globals and compiled code. Scripts are
// compiled and run in it; globals persist from one run to the next. Script
// errors (compile and runtime) come back as Result values, never as C++
// exceptions, and the VM stays usable after them. The VM prints nothing of
// its own: only the script's print() output goes to stdout.
//
// Threads: a VM is used by one thread at a time (the scheduler's issue will
// relax this), and until then only one VM may be running at any moment in a
// process, because all VMs share bdwgc's process-wide heap.
//
// This header includes no internal header (pimpl), so hosts compile against
// it alone and link the `weft` library.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace weft {

struct Config {
  int gc_percent = 100;           // Go's GOGC: next collection at live * (1 + p/100); < 0: off
  bool gc_stress = false;         // collect at every safe-point that allocates
  bool trace_gc = false;          // one line per collection to stderr
  bool trace_sched = false;       // a scheduler line a second to stderr (like GODEBUG=schedtrace)
  // Preemption. Asynchronous preemption (a signal stops a goroutine at any
  // instruction of the interpreter) is what stops call-free loops; off, it
  // is Go's GODEBUG=asyncpreemptoff=1 (for debuggers; Valgrind turns it off).
  bool async_preempt = true;
  bool preempt_stress = false;    // signal every running goroutine about every 50 us (testing)
  int64_t time_slice_ns = 10'000'000;  // a goroutine running this long is preempted
  bool gc_verify = false;         // after each collection, check every reachable object was marked
  uint64_t heap_limit = 0;        // bytes of live data; over it after a collection, the next
                                  // allocating goroutine raises `out of memory`. 0: no limit
  int procs = 0;                  // OS threads running Weft code at once; 0: env WEFT_PROCS,
                                  // else the number of CPUs
  std::vector<std::string> args;  // what the script's args() returns
};

struct Result {
  enum Kind {
    Ok,
    Compile,  // message: every diagnostic, formatted ("file.wf:L:C: error: ...", line, caret)
    Runtime,  // message: the error's message; traceback: "  at NAME (file.wf:LINE)" lines
    Io,       // the host's request failed (a file cannot be read); message says why
    Fatal,    // the program cannot go on; message: `all goroutines are asleep - deadlock!`
  } kind = Ok;
  std::string message;
  std::string traceback;
  bool ok() const { return kind == Ok; }
};

// Collector figures (the same as the script's gcstats()).
struct GcStats {
  uint64_t collections = 0;
  uint64_t heap_bytes = 0;
  uint64_t live_bytes = 0;
  uint64_t total_allocated = 0;
  uint64_t last_pause_ns = 0, max_pause_ns = 0, total_pause_ns = 0;
};

class VM {
 public:
  explicit VM(Config config = {});
  ~VM();
  VM(const VM&) = delete;
  VM& operator=(const VM&) = delete;

  // Compiles and runs a script to completion. `name` is the file name used
  // in diagnostics and tracebacks.
  Result run_file(const std::string& path);
  Result run_source(std::string_view name, std::string_view code);

  // Compiles only (vm --check).
  Result check_file(const std::string& path);
  Result check_source(std::string_view name, std::string_view code);

  // Compiles and lists the bytecode with lines and stack maps (vm --disasm)
  // into *listing.
  Result disassemble_file(const std::string& path, std::string* listing);
  Result disassemble_source(std::string_view name, std::string_view code, std::string* listing);

  GcStats gc_stats() const;

  // Reads a whole file as bytes (any content: the lexer judges it).
  static Result read_file(const std::string& path, std::string* contents);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// "weft 0.1.0"
const char* version();

}  // namespace weft
