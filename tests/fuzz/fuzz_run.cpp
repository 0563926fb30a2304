// libFuzzer target: whole programs, compiled and run on the scheduler.
//
// Each input runs in a fresh Runtime on one P (deterministic enough for
// coverage feedback; WEFT_PROCS in the environment overrides it) with its
// output discarded and standard input at end of file. Any outcome is fine
// (success, compile error, runtime error, deadlock); a crash, a sanitizer
// report or a broken invariant (fatal) is a bug.
//
// Budgets. The VM has no step or memory budget yet (the hooks wanted: a
// time limit and a heap limit in RuntimeOptions, each ending the run with a
// runtime error). Until then legitimately endless or huge programs are left
// to libFuzzer's fork mode, which drops a job that exceeds -timeout or
// -rss_limit_mb and goes on:
//   fuzz_run -fork=1 -ignore_timeouts=1 -ignore_ooms=1 -timeout=5 ...
// A program in a loop without calls or allocations cannot even be stopped
// at the end of a run before asynchronous preemption exists: its M is
// detached (Runtime::run), which only the process exit ends.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "vm/interp/runtime.h"

namespace {

FILE* null_file() {
  static FILE* f = std::fopen("/dev/null", "w");
  return f;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (std::freopen("/dev/null", "r", stdin) == nullptr) std::abort();  // readline() sees EOF
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  weft::RuntimeOptions opts;
  opts.out = null_file();
  opts.err = null_file();
  opts.procs = std::getenv("WEFT_PROCS") != nullptr ? 0 : 1;
  weft::Runtime rt(opts);
  (void)rt.run("fuzz.wf", std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
