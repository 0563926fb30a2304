// Asynchronous preemption, tested from inside
// (docs/design.md#asynchronous-preemption): the unsafe-point table, the safe
// section's freedom from TLS, the register torture, the refusal paths, the
// restartable allocation path, conservative scanning of preempted and
// stackfully parked goroutines, and --gc-verify.
//
// Each test runs a Runtime in this process with test natives. ctest runs
// every test as its own process with a timeout (tests/CMakeLists.txt), so
// a hang fails the test instead of the suite. The script-level and
// subprocess tests are in tests/scripts/preempt and tests/runner.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdlib>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <regex>
#include <string>
#include <vector>

#include "vm/arch/async.h"
#include "vm/arch/context.h"
#include "vm/arch/stack.h"
#include "vm/interp/runtime.h"
#include "vm/sched/preempt.h"

extern "C" {
// tests/preempt/torture_<arch>.S: the loops the torture runs, and helpers.
struct TortureLoop {
  uint64_t (*run)(uint64_t iters, uint64_t seed);
  const char* name;
  int (*available)();  // whether this CPU has what the loop needs; nullptr: always
};
extern const TortureLoop torture_loops[];      // ends with a null run
extern const uint64_t torture_misaligned_sp;   // 1 iff some loop runs with sp % 16 != 0
uint64_t torture_gpr(uint64_t iters, uint64_t seed, uint64_t misalign);
uint64_t leaf_loop(uint64_t iters, uint64_t seed);  // outside the safe section: the tests register it
extern char leaf_loop_end[];
void* hold_in_register(void* p, uint64_t iters);
uint64_t spin_low_stack(uint64_t iters, uint64_t drop);
}

namespace weft {
namespace {

// A "threadsafe" death test re-executes the test binary, which a binary
// emulated by qemu-user cannot do without binfmt_misc; there
// (WEFT_TESTS_EMULATED, tests/CMakeLists.txt) it only forks. ctest runs
// each test in a process of its own, so no other thread exists at the fork.
#ifdef WEFT_TESTS_EMULATED
constexpr const char* kDeathTestStyle = "fast";
#else
constexpr const char* kDeathTestStyle = "threadsafe";
#endif


// The process-wide counters, as plain numbers.
struct PreemptCountersSnapshot {
  uint64_t injected, restarted, migrated, sp_aligned, sp_misaligned;
  uint64_t refused_pc, refused_state, refused_locks, refused_stack, foreign;
};
PreemptCountersSnapshot snapshot() {
  sched::PreemptCounters& c = sched::preempt_counters();
  return {c.injected.load(),      c.restarted.load(),     c.migrated.load(),      c.sp_aligned.load(),
          c.sp_misaligned.load(), c.refused_pc.load(),    c.refused_state.load(), c.refused_locks.load(),
          c.refused_stack.load(), c.foreign.load()};
}

// A C++ loop for the torture: the compiler keeps these in whichever
// registers it likes (integer, vector, and on amd64 x87 for the long double).
WEFT_ASYNC_SAFE uint64_t torture_cxx(uint64_t iters, uint64_t seed) {
  uint64_t a = seed * 0x9e3779b97f4a7c15ull + 1, b = a ^ 0x5bd1e995, c = b * 3, d = c + 7;
  double x = double(seed % 1000) + 0.25, y = 1.0 / 3.0, z = 2.5;
  long double w = 1.0L + (long double)seed / 7.0L;
  for (uint64_t i = 0; i < iters; i++) {
    a += b ^ (c >> 3);
    b = (b << 5 | b >> 59) + d;
    c ^= a * 0x100000001b3ull;
    d += c + i;
    x = x * 1.000001 + y;
    y = y * 0.999999 + z * 1e-9;
    z = std::fma(z, 1.0000001, x * 1e-12);
    w = w * 1.0000000001L + (long double)(a & 0xff) * 1e-12L;
  }
  uint64_t bits[3];
  std::memcpy(&bits[0], &x, 8);
  std::memcpy(&bits[1], &y, 8);
  std::memcpy(&bits[2], &z, 8);
  double wd = double(w);
  uint64_t wb;
  std::memcpy(&wb, &wd, 8);
  return a ^ (b << 1) ^ (c << 2) ^ (d << 3) ^ bits[0] ^ (bits[1] << 5) ^ (bits[2] << 7) ^ (wb << 11);
}

// The torture's loops: this architecture's assembly, then the C++ loop
// and the leaf the test registers as a safe range.
std::vector<TortureLoop> torture_kinds() {
  std::vector<TortureLoop> k;
  for (const TortureLoop* l = torture_loops; l->run != nullptr; l++) k.push_back(*l);
  k.push_back({torture_cxx, "C++", nullptr});
  k.push_back({leaf_loop, "leaf", nullptr});
  return k;
}

// Iterations per loop run; WEFT_TORTURE_ITERS overrides (tools/ci-arm64.sh
// lowers it for single-stepped emulation).
uint64_t torture_iters() {
  const char* env = std::getenv("WEFT_TORTURE_ITERS");
  return env != nullptr && std::atoll(env) > 0 ? uint64_t(std::atoll(env)) : 2'000'000;
}
const uint64_t kIters = torture_iters();
constexpr int kSeeds = 2;
std::vector<TortureLoop> g_kinds;
std::vector<bool> g_available;
std::vector<std::array<uint64_t, kSeeds>> g_expected;  // the quiet runs, computed before the Runtime starts

// torture(kind, seed): runs one loop on this goroutine; true iff its
// checksum equals the quiet run's.
Value n_torture(Thread*, Value* args, int) {
  size_t kind = size_t(args[0].as_inline_int());
  int seed = int(args[1].as_inline_int());
  if (!g_available[kind]) return Value::boolean(true);
  uint64_t got = g_kinds[kind].run(kIters, uint64_t(seed));
  if (got == g_expected[kind][seed]) return Value::boolean(true);
  // The difference's bits hint at the register (the checksums rotate each
  // register by its own amount).
  std::fprintf(stderr, "torture: %s, seed %d: %016llx, quiet run %016llx (xor %016llx)\n", g_kinds[kind].name, seed,
               (unsigned long long)got, (unsigned long long)g_expected[kind][seed],
               (unsigned long long)(got ^ g_expected[kind][seed]));
  return Value::boolean(false);
}

struct Output {
  char* buf = nullptr;
  size_t len = 0;
  FILE* f = open_memstream(&buf, &len);
  ~Output() {
    if (f) std::fclose(f);
    std::free(buf);
  }
  std::string text() {
    std::fflush(f);
    return std::string(buf, len);
  }
};

// Runs `src` on a fresh Runtime with `natives`; returns print's output, or
// the error.
std::string run(RuntimeOptions o, const std::vector<std::pair<const char*, NativeFn>>& natives, const char* src) {
  Output out;
  o.out = out.f;
  Runtime rt(o);
  for (auto& [name, fn] : natives) rt.define_native(name, fn, 0, -1);
  Status st = rt.run("test.wf", src);
  if (!st.ok()) return "error: " + st.message + "\n" + st.traceback;
  return out.text();
}

RuntimeOptions stress(int procs) {
  RuntimeOptions o;
  o.procs = procs;
  o.preempt_stress = true;
  return o;
}

TEST(PreemptTable, SafeRestartAndUnsafePcs) {
  sched::preempt_init(true);
  ASSERT_TRUE(sched::async_preempt_enabled()) << "async preemption is off (amd64: no XSAVE)";
  uintptr_t resume = 0;
  // The interpreter's loop and our safe test loops are safe, resuming in place.
  uintptr_t pc = reinterpret_cast<uintptr_t>(&torture_gpr) + 8;
  EXPECT_TRUE(sched::async_pc(pc, &resume));
  EXPECT_EQ(resume, pc);
  // Inside the allocation fast path: restart at its start.
  arch::CodeRange a = arch::alloc_fast_range();
  EXPECT_TRUE(sched::async_pc(a.lo + 4, &resume));
  EXPECT_EQ(resume, a.lo);
  // ...but not after its commit.
  EXPECT_FALSE(sched::async_pc(a.hi, &resume));
  // libc, the runtime, the trampoline, the context switch: never.
  EXPECT_FALSE(sched::async_pc(reinterpret_cast<uintptr_t>(&memcpy) + 4, &resume));
  EXPECT_FALSE(sched::async_pc(reinterpret_cast<uintptr_t>(&sched::gopark) + 4, &resume));
  EXPECT_FALSE(sched::async_pc(reinterpret_cast<uintptr_t>(&weft_async_preempt) + 4, &resume));
  EXPECT_FALSE(sched::async_pc(reinterpret_cast<uintptr_t>(&weft_switch) + 4, &resume));
  // A registered range.
  uintptr_t lo = reinterpret_cast<uintptr_t>(&leaf_loop), hi = reinterpret_cast<uintptr_t>(leaf_loop_end);
  EXPECT_FALSE(sched::async_pc(lo + 4, &resume));
  sched::register_async_range(lo, hi, 0);
  EXPECT_TRUE(sched::async_pc(lo + 4, &resume));
  EXPECT_FALSE(sched::async_pc(hi, &resume));
}

// The safe section may resume on another M, and is interrupted anywhere:
// by disassembly of the linked binary, it reads no thread-local storage
// (amd64 %fs/%gs, arm64 tpidr_el0, TLS descriptor and __tls_get_addr
// calls), uses no arm64 x18 (the register the trampoline returns through,
// vm/arch/arm64/async.S) and no SVE z or p register (the trampoline saves
// only q0-q31). Each pattern is one no other architecture's objdump prints.
#ifndef WEFT_OBJDUMP
#define WEFT_OBJDUMP "objdump"
#endif
void lint_safe_section(const std::string& binary) {
  std::string objdump = WEFT_OBJDUMP[0] != 0 ? WEFT_OBJDUMP : "objdump";
  std::string cmd = objdump + " -d --no-show-raw-insn --section=weft_async_safe '" + binary + "' 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  const std::pair<const char*, std::regex> rules[] = {
      {"TLS", std::regex(R"(%fs:|%gs:|tpidr_el0|__tls_get_addr|tlsdesc|getm|getg|__errno_location|_ZTW)")},
      {"the reserved register x18", std::regex(R"(\b[xw]18\b)")},
      {"SVE", std::regex(R"(\bz([0-9]|[12][0-9]|3[01])\.|\bp([0-9]|1[0-5])(/|\.)|\bffr\b)")},
  };
  // An instruction line: "  addr:\tmnemonic operands" (GNU), "  addr:   \tmnemonic" (LLVM, which
  // CMake picks for clang builds when it is installed).
  const std::regex instruction(R"(^\s*[0-9a-f]+:\s)");
  char line[4096];
  int instructions = 0;
  std::vector<std::string> bad;
  while (std::fgets(line, sizeof line, p) != nullptr) {
    std::string l = line;
    if (!std::regex_search(l, instruction)) continue;
    instructions++;
    for (const auto& [what, re] : rules) {
      if (std::regex_search(l, re)) bad.push_back(std::string(what) + ": " + l);
    }
  }
  EXPECT_EQ(pclose(p), 0) << cmd;
  EXPECT_GT(instructions, 1000) << "the safe section of " << binary << " looks empty";
  for (const std::string& l : bad) ADD_FAILURE() << binary << ": in the async-safe section, " << l;
}

TEST(PreemptSafeSection, Lint) {
  lint_safe_section(WEFT_VM_BINARY);
  char self[4096];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  ASSERT_GT(n, 0);
  self[n] = 0;
  lint_safe_section(self);
}

TEST(PreemptTorture, BitExactUnderStress) {
  g_kinds = torture_kinds();
  g_available.assign(g_kinds.size(), true);
  g_expected.assign(g_kinds.size(), {});
  for (size_t k = 0; k < g_kinds.size(); k++) {
    g_available[k] = g_kinds[k].available == nullptr || g_kinds[k].available();
    if (!g_available[k]) continue;
    for (int s = 0; s < kSeeds; s++) g_expected[k][s] = g_kinds[k].run(kIters, uint64_t(s));
  }
  sched::preempt_init(true);
  sched::register_async_range(reinterpret_cast<uintptr_t>(&leaf_loop), reinterpret_cast<uintptr_t>(leaf_loop_end), 0);
  PreemptCountersSnapshot before = snapshot();
  std::string n = std::to_string(g_kinds.size());
  std::string src = R"(
    let results = chan(64)
    fn worker(kind, seed) {
      let ok = true
      for r in 0..4 { if !torture(kind, seed) { ok = false } }
      results <- [kind, seed, ok]
    }
    for kind in 0..)" + n + R"( { for seed in 0..2 { go worker(kind, seed) } }
    let bad = []
    for i in 0..)" + std::to_string(g_kinds.size() * kSeeds) + R"( {
      let r = <-results
      if !r[2] { push(bad, r) }
    }
    print(bad)
  )";
  auto t0 = std::chrono::steady_clock::now();
  std::string out = run(stress(2), {{"torture", n_torture}}, src.c_str());
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(out, "[]\n") << "[kind, seed, false] for each loop whose checksum changed; kinds:";
  for (size_t k = 0; k < g_kinds.size(); k++) std::printf("kind %zu: %s%s\n", k, g_kinds[k].name, g_available[k] ? "" : " (not on this CPU)");
  PreemptCountersSnapshot after = snapshot();
  uint64_t injected = after.injected - before.injected;
  EXPECT_GT(injected, kIters >= 1'000'000 ? 1000u : 100u) << "too few async preemptions to mean anything";
  EXPECT_GT(after.migrated - before.migrated, 0u) << "no preemption resumed on another M";
  EXPECT_GT(after.sp_aligned - before.sp_aligned, 0u);
  if (torture_misaligned_sp) {
    EXPECT_GT(after.sp_misaligned - before.sp_misaligned, 0u);
  }
  std::printf("async preemptions: %llu (%llu restarted, %llu resumed on another M, sp%%16: %llu aligned, %llu not)\n",
              (unsigned long long)injected, (unsigned long long)(after.restarted - before.restarted),
              (unsigned long long)(after.migrated - before.migrated),
              (unsigned long long)(after.sp_aligned - before.sp_aligned),
              (unsigned long long)(after.sp_misaligned - before.sp_misaligned));
  std::printf("%.0f async preemptions per second over %.1f s (a sanity check, not a benchmark)\n",
              double(injected) / seconds, seconds);
}

// ---- refusals: each is retried, and the program still makes progress ----

constexpr uint64_t kSpin = 6'000'000;

// Spins in safe code while holding a runtime "lock" (m->locks).
Value n_spin_locked(Thread*, Value*, int) {
  sched::M* m = sched::getm();
  m->locks.fetch_add(1);
  torture_gpr(kSpin, 1, 0);
  m->locks.fetch_sub(1);  // still the same M: nothing could move the G
  return Value::nil();
}

// Spins in safe code with less stack left than the spill area needs.
Value n_spin_low_stack(Thread* t, Value*, int) {
  uintptr_t sp = reinterpret_cast<uintptr_t>(__builtin_frame_address(0));
  uintptr_t lo = reinterpret_cast<uintptr_t>(t->g->stack->lo);
  spin_low_stack(kSpin, sp - lo - 1024);
  return Value::nil();
}

// Spins in libc.
Value n_spin_libc(Thread*, Value*, int) {
  static char buf[1 << 16];
  for (int i = 0; i < 4000; i++) std::memset(buf, i, sizeof buf);
  return Value::inline_int(buf[17]);
}

TEST(PreemptRefusal, LocksLowStackAndLibcAreRetried) {
  sched::preempt_init(true);
  PreemptCountersSnapshot before = snapshot();
  // gc() must complete each time: the stop waits out each refusal.
  std::string out = run(stress(2), {{"spin_locked", n_spin_locked}, {"spin_low_stack", n_spin_low_stack},
                                    {"spin_libc", n_spin_libc}}, R"(
    let done = chan(3)
    go fn() { for i in 0..5 { spin_locked() } done <- 1 }()
    go fn() { for i in 0..5 { spin_low_stack() } done <- 1 }()
    go fn() { for i in 0..5 { spin_libc() } done <- 1 }()
    for i in 0..10 { gc() }
    for i in 0..3 { <-done }
    print("done")
  )");
  EXPECT_EQ(out, "done\n");
  PreemptCountersSnapshot after = snapshot();
  EXPECT_GT(after.refused_locks - before.refused_locks, 0u);
  EXPECT_GT(after.refused_stack - before.refused_stack, 0u);
  EXPECT_GT(after.refused_pc - before.refused_pc, 0u);
}

// ---- the restartable allocation sequence ----

TEST(PreemptRestart, AllocationFastPathRestarts) {
  sched::preempt_init(true);
  PreemptCountersSnapshot before = snapshot();
  std::string out = run(stress(2), {}, R"(
    fn churn(n) {
      let total = 0
      for i in 0..n {
        let a = [i, i + 1]
        let m = {k: a}
        total = total + m.k[1] - m.k[0]
      }
      return total
    }
    let results = chan(4)
    for g in 0..4 { go fn() { results <- churn(300000) }() }
    let sum = 0
    for g in 0..4 { sum = sum + <-results }
    print(sum)
  )");
  EXPECT_EQ(out, "1200000\n");
  PreemptCountersSnapshot after = snapshot();
  EXPECT_GT(after.restarted - before.restarted, 0u) << "no preemption landed inside weft_alloc_fast";
}

// ---- conservative scanning ----

// hold(n): a new string held only in a register of safe code while other
// goroutines collect and allocate; returns whether it is intact.
Value n_hold(Thread* t, Value* args, int) {
  char text[32];
  std::snprintf(text, sizeof text, "held-%06lld", (long long)args[0].as_inline_int());
  String* s = t->rt->new_string(text);
  s = static_cast<String*>(hold_in_register(s, 200'000'000));
  return Value::boolean(s->view() == text);
}

TEST(PreemptScan, RegistersOfAPreemptedGoroutineAreRoots) {
  sched::preempt_init(true);
  PreemptCountersSnapshot before = snapshot();
  RuntimeOptions o = stress(2);
  o.gc_verify = true;
  std::string out = run(o, {{"hold", n_hold}}, R"(
    let stop = false
    let results = chan(2)
    go fn() { results <- hold(1) }()
    go fn() { results <- hold(2) }()
    go fn() {
      let junk = []
      while !stop {
        for i in 0..1000 { junk = [str(i) + "-junk-xx", junk] }
        junk = []
        gc()
      }
    }()
    let a = <-results
    let b = <-results
    stop = true
    print(a, b)
  )");
  EXPECT_EQ(out, "true true\n");
  EXPECT_GT(snapshot().injected - before.injected, 0u);
}

// across(f): a new string held in this native's frame while f (Weft)
// collects: the G parks stackfully inside gc(), and its native frames are
// scanned conservatively.
Value n_across(Thread* t, Value* args, int) {
  String* s = t->rt->new_string("kept-across-callback");
  Value r = t->rt->call(t, args[0], nullptr, 0);
  if (r.is_empty()) return r;
  return Value::boolean(s->view() == "kept-across-callback");
}

TEST(PreemptScan, NativeFramesOfAStackfullyParkedGoroutineAreRoots) {
  RuntimeOptions o;
  o.procs = 1;
  o.gc_verify = true;
  std::string out = run(o, {{"across", n_across}}, R"(
    print(across(fn() {
      for i in 0..5 {
        let junk = []
        for j in 0..2000 { junk = [str(j) + "-junk-junk-junk", junk] }
        gc()
      }
    }))
  )");
  EXPECT_EQ(out, "true\n");
}

// ---- a native stack overflow ----

// recurse(): C++ recursion without end on the goroutine's native stack.
__attribute__((noinline)) uint64_t deeper(uint64_t n) {
  volatile char pad[512];
  pad[0] = char(n);
  if (n == UINT64_MAX) return 0;             // never: the stack ends long before
  return deeper(n + 1) + uint64_t(pad[0]);  // not a tail call
}
Value n_recurse(Thread*, Value*, int) { return Value::inline_int(int64_t(deeper(0) & 1)); }

TEST(NativeStackOverflowDeathTest, IsARuntimeErrorWithTraceback) {
  GTEST_FLAG_SET(death_test_style, kDeathTestStyle);
  EXPECT_EXIT(run(RuntimeOptions{}, {{"recurse", n_recurse}}, R"(
    fn inner() { return recurse() }
    go fn() { inner() }()
    sleep(10000)
  )"), ::testing::ExitedWithCode(2), "runtime error: stack overflow\n  at inner \\(test.wf:2\\)");
}

// ---- --gc-verify fails loudly ----

void corrupt_and_collect() {
  RuntimeOptions o;
  o.gc_verify = true;
  Runtime rt(o);
  // An array whose store was allocated pointer-free by mistake: bdwgc does
  // not scan it, so the string only it references is not marked.
  Store* st = static_cast<Store*>(rt.heap().alloc(sizeof(Store) + sizeof(Value), true));
  st->init(ObjType::Store);
  st->capacity = 1;
  st->items[0] = Value::object(rt.new_string("reachable through a pointer-free store"));
  Array* a = rt.new_array(0, 0);
  a->store = st;
  a->len = 1;
  rt.globals[size_t(rt.define_global("victim"))] = Value::object(a);
  rt.heap().collect();
}

TEST(GcVerifyDeathTest, ReportsAnUnmarkedReachableObject) {
  GTEST_FLAG_SET(death_test_style, kDeathTestStyle);
  EXPECT_DEATH(corrupt_and_collect(), "gc-verify: string object .*reachable but not marked.*found in array store");
}

TEST(GcVerify, PassesOnACorrectHeap) {
  RuntimeOptions o;
  o.gc_verify = true;
  o.procs = 2;
  EXPECT_EQ(run(o, {}, R"(
    let keep = []
    for i in 0..20000 { keep = [str(i), {k: [i]}, keep] }
    gc()
    print(keep[1].k[0])
  )"), "19999\n");
}

}  // namespace
}  // namespace weft
