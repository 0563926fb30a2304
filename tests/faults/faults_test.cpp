// Fault tests: the `vm` binary (path in env WEFT_VM) run as a child process
// with an external timeout, under inputs and events nobody planned for.
// Each test states the promise it keeps (README.md#reliability, docs/design.md#races):
//
//  - deep Weft recursion is the runtime error `stack overflow`, in main and
//    in a goroutine, on one P and on two;
//  - natives that recurse (printing, str, join of deeply nested values;
//    sort whose callback sorts) end normally or with a runtime error;
//  - sources nested far beyond the compiler's limit are compile errors;
//  - a SIGURG the VM did not send (kill -URG) changes nothing, during
//    sleeps, reads of standard input and a call-free loop: the VM preempts
//    with SIGURG, and its handler passes a signal it did not send to the
//    handler installed before it (docs/design.md#signal-handling);
//  - racy programs never crash: random ones (racy_script.h), each run with
//    --procs 2 and with --procs 2 --gc-stress (and --preempt-stress and
//    --gc-verify when the vm knows them), for WEFT_STRESS_SECONDS (default
//    20); a failure prints the seed and the command that reproduces it
//    (WEFT_STRESS_SEED=N runs that seed alone).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "tests/faults/racy_script.h"
#include "tests/runner/subprocess.h"

namespace fs = std::filesystem;
using weft::testing::ProcessResult;
using weft::testing::ProcessSpec;

namespace {

std::string vm_path() {
  const char* p = std::getenv("WEFT_VM");
  return p != nullptr ? p : "vm";
}

// A scratch directory for the scripts these tests write, kept after a
// failure so the script can be run again.
fs::path scratch() {
  static const fs::path dir = [] {
    fs::path d = fs::temp_directory_path() / ("weft-faults-" + std::to_string(::getpid()));
    fs::create_directories(d);
    return d;
  }();
  return dir;
}

std::string write_script(const std::string& name, const std::string& text) {
  fs::path p = scratch() / name;
  std::ofstream(p, std::ios::binary) << text;
  return p.string();
}

// Removes a script once the test that wrote it has passed.
void forget_script(const std::string& path) {
  if (!::testing::Test::HasFailure()) fs::remove(path);
}

// The scratch directory goes at exit if nothing failed in it.
class ScratchCleanup : public ::testing::Environment {
 public:
  void TearDown() override {
    std::error_code ec;
    fs::remove(scratch(), ec);  // fails, keeping the scripts, unless empty
  }
};
const ::testing::Environment* const kScratchCleanup = ::testing::AddGlobalTestEnvironment(new ScratchCleanup);

ProcessResult run_vm(std::vector<std::string> args, double timeout_s = 60, const std::string& input = "") {
  ProcessSpec spec;
  spec.argv.push_back(vm_path());
  for (std::string& a : args) spec.argv.push_back(std::move(a));
  spec.input = input;
  spec.timeout_s = timeout_s;
  return weft::testing::run_process(spec);
}

std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

// The child exited by itself (no signal, no timeout) with `code`.
::testing::AssertionResult exited(const ProcessResult& r, int code, double timeout_s = 60) {
  if (!r.signaled && !r.timed_out && r.exit_code == code) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << weft::testing::describe_exit(r, timeout_s) << ", expected exit "
                                       << code << "; stderr: " << first_line(r.err);
}

// Whether this vm accepts a flag (flags of later issues are used once they exist).
bool vm_knows(const std::string& flag) {
  ProcessResult r = run_vm({flag, "-e", ""}, 20);
  return !r.signaled && !r.timed_out && r.exit_code == 0;
}

std::string repeat(const std::string& s, int n) {
  std::string out;
  for (int i = 0; i < n; i++) out += s;
  return out;
}

// ---- stack overflow

const char* const kRecursion = "fn f(n) { return f(n + 1) + 1 }\n";

TEST(StackOverflow, DeepWeftRecursionInMain) {
  for (const char* procs : {"1", "2"}) {
    ProcessResult r = run_vm({"--procs", procs, "-e", std::string(kRecursion) + "f(0)\n"});
    EXPECT_TRUE(exited(r, 2)) << "--procs " << procs;
    EXPECT_EQ(first_line(r.err), "runtime error: stack overflow");
  }
}

TEST(StackOverflow, DeepWeftRecursionInGoroutine) {
  std::string code = std::string(kRecursion) + "let done = chan()\ngo fn() { f(0); done <- 1 }()\n<-done\n";
  for (const char* procs : {"1", "2"}) {
    ProcessResult r = run_vm({"--procs", procs, "-e", code});
    EXPECT_TRUE(exited(r, 2)) << "--procs " << procs;
    EXPECT_EQ(first_line(r.err), "runtime error: stack overflow");
  }
}

TEST(StackOverflow, CaughtManyTimesUnderGcStress) {
  ProcessResult r = run_vm({"--gc-stress", "-e",
                            std::string(kRecursion) + "let k = 0\nfor i in 0..20 { if !pcall(f, 0)[0] { k += 1 } }\nprint(k)\n"},
                           240);
  EXPECT_TRUE(exited(r, 0, 240));
  EXPECT_EQ(r.out, "20\n");
}

// ---- natives that recurse

TEST(NativeRecursion, DeeplyNestedValuesFormat) {
  // print, str, join and error messages all format nested values; 200,000
  // levels deep, far past any native stack if the formatter recursed freely.
  std::string code =
      "let a = []\nlet m = {}\nfor i in 0..200000 { a = [a]; m = {k: m} }\n"
      "print(len(str(a)) > 0, len(str(m)) > 0, len(join([a, m], \",\")) > 0)\n"
      "print(pcall(error, a)[0])\n"
      "gc()\nprint(len(a))\n";
  ProcessResult r = run_vm({"-e", code});
  EXPECT_TRUE(exited(r, 0));
  EXPECT_EQ(r.out, "true true true\nfalse\n1\n");
}

TEST(NativeRecursion, SortInsideSortCallbacks) {
  // Each level is a native (sort) calling back into Weft on the goroutine's
  // native stack: the nesting limit must end it before the stack does.
  std::string code =
      "fn f(n) { sort([2, 1], fn(x, y) { f(n + 1); return x < y }) }\n"
      "let done = chan()\ngo fn() { f(0); done <- 1 }()\n<-done\n";
  for (const char* procs : {"1", "2"}) {
    ProcessResult r = run_vm({"--procs", procs, "-e", code});
    EXPECT_TRUE(exited(r, 2)) << "--procs " << procs;
    EXPECT_EQ(first_line(r.err), "runtime error: stack overflow");
  }
}

TEST(NativeRecursion, PcallOfSortInsideCallbacks) {
  std::string code =
      "fn f(n) { pcall(sort, [2, 1], fn(x, y) { f(n + 1); return x < y }) }\n"
      "f(0)\nprint(\"survived\")\n";
  ProcessResult r = run_vm({"-e", code});
  EXPECT_TRUE(exited(r, 0));
  EXPECT_EQ(r.out, "survived\n");
}

// ---- the compiler on absurd nesting (tests/fuzz/regressions/compile has more)

TEST(DeepSource, NestingFarPastTheLimitIsACompileError) {
  const int n = 200000;
  const std::vector<std::string> sources = {
      "let x = " + repeat("(", n) + "1" + repeat(")", n),
      "let x = " + repeat("-", n) + "1",
      "let x = " + repeat("[", n) + repeat("]", n),
      repeat("if true {\n", n) + repeat("}\n", n),
      "let x = nil" + repeat("()", n),
      "let x = {}" + repeat(".k", n),
  };
  for (size_t i = 0; i < sources.size(); i++) {
    std::string path = write_script("deep" + std::to_string(i) + ".wf", sources[i] + "\n");
    ProcessResult r = run_vm({"--check", path});
    EXPECT_TRUE(exited(r, 1)) << path;
    EXPECT_NE(r.err.find("error: nesting too deep"), std::string::npos) << path << ": " << first_line(r.err);
    forget_script(path);
  }
}

// A flat chain is not nesting (docs/language.md#limits): 200,000 terms compile and run.
TEST(DeepSource, FlatChainOfAnyLengthRuns) {
  const int n = 200000;
  std::string path = write_script("flat.wf", "let x = 1" + repeat(" + 1", n) + "\nprint(x)\n");
  ProcessResult r = run_vm({path});
  EXPECT_TRUE(exited(r, 0)) << path << ": " << first_line(r.err);
  EXPECT_EQ(r.out, std::to_string(n + 1) + "\n");
  forget_script(path);
}

// ---- signals the VM did not send

TEST(ForeignSignals, SigurgStormChangesNothing) {
  std::string script = write_script("sigurg.wf",
      "let ch = chan()\n"
      "go fn() { let s = 0; for i in 0..300 { sleep(1); s += i }; ch <- s }()\n"
      "let lines = []\nlet l = readline()\n"
      "while l != nil { push(lines, l); l = readline() }\n"
      "let busy = 0\nfor i in 0..2000000 { busy += i % 7 }\n"
      "print(lines, <-ch, busy)\n");
  for (const char* procs : {"1", "2"}) {
    // Standard input arrives slowly, so reads block; the storm lasts past
    // the end of the program (a signal to the exited vm just fails).
    std::string sh =
        "(sleep 0.2; echo one; sleep 0.2; echo two) | \"$0\" --procs " + std::string(procs) + " \"$1\" &\n"
        "pid=$!\ni=0\n"
        "while [ $i -lt 400 ]; do kill -URG $pid 2>/dev/null || break; sleep 0.002; i=$((i+1)); done\n"
        "wait $pid\n";
    ProcessSpec spec;
    spec.argv = {"/bin/sh", "-c", sh, vm_path(), script};
    spec.timeout_s = 60;
    ProcessResult r = weft::testing::run_process(spec);
    EXPECT_TRUE(exited(r, 0)) << "--procs " << procs;
    EXPECT_EQ(r.out, "[\"one\", \"two\"] 44850 5999995\n") << "--procs " << procs;
    EXPECT_EQ(r.err, "") << "--procs " << procs;
  }
  forget_script(script);
}

// ---- a stop of the world that ends while a goroutine leaves a blocking call

// A goroutine returning from a blocking native (here fs.exists) while a
// collection stops the world finds no P and queues itself; if the stop
// ended in between, its restart had counted the queue without it and the
// whole program slept with the goroutine runnable (once in ~1,200 runs of
// an import under ASan). The test hook holds the returning goroutine in
// that window for 2 ms, long past a --gc-stress collection of a tiny heap.
TEST(StopTheWorld, EndsWhileAGoroutineLeavesABlockingCall) {
  std::string code =
      "let fs = import(\"fs\")\nlet keep = []\n"
      "for i in 0..1000 { fs.exists(\"/\"); push(keep, [i, str(i)]) }\nprint(len(keep))\n";
  for (int run = 0; run < 4; run++) {
    ProcessSpec spec;
    spec.argv = {vm_path(), "--procs", "1", "--gc-stress", "-e", code};
    spec.env = {"WEFT_TEST_EXITSYSCALL_DELAY_US=2000"};
    spec.timeout_s = 30;
    ProcessResult r = weft::testing::run_process(spec);
    ASSERT_TRUE(exited(r, 0, 30)) << "run " << run;
    EXPECT_EQ(r.out, "1000\n");
  }
}

// ---- racy programs

double stress_seconds() {
  const char* s = std::getenv("WEFT_STRESS_SECONDS");
  return s != nullptr ? std::atof(s) : 20.0;
}

TEST(RacyScripts, NeverCrash) {
  std::vector<std::vector<std::string>> modes = {{"--procs", "2"}, {"--procs", "2", "--gc-stress"}};
  for (const char* later : {"--preempt-stress", "--gc-verify"}) {
    if (!vm_knows(later)) continue;
    for (auto& m : modes) m.push_back(later);
  }
  uint32_t seed = uint32_t(std::random_device{}());
  bool one = false;
  if (const char* s = std::getenv("WEFT_STRESS_SEED")) {
    seed = uint32_t(std::strtoul(s, nullptr, 10));
    one = true;
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(stress_seconds());
  int runs = 0, failures = 0;
  do {
    std::string path = write_script("racy_" + std::to_string(seed) + ".wf", weft::testing::racy_script(seed));
    for (const auto& mode : modes) {
      std::vector<std::string> args = mode;
      args.push_back(path);
      ProcessResult r = run_vm(args, 120);
      runs++;
      if (exited(r, 0, 120) && r.out == "ok\n" && r.err.empty()) continue;
      failures++;
      std::string cmd = "vm";
      for (const std::string& a : args) cmd += " " + a;
      ADD_FAILURE() << "seed " << seed << " failed: " << weft::testing::describe_exit(r, 120)
                    << "\n  stderr: " << first_line(r.err) << "\n  reproduce: WEFT_STRESS_SEED=" << seed
                    << " fault_tests --gtest_filter=RacyScripts.*   or   " << cmd;
    }
    if (failures == 0) forget_script(path);
    seed++;
  } while (!one && failures == 0 && std::chrono::steady_clock::now() < deadline);
  std::printf("racy scripts: %d runs, first seed %u, %d failures\n", runs, seed - uint32_t(runs / int(modes.size())), failures);
}

}  // namespace
