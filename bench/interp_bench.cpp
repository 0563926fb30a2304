// Interpreter benchmarks: each compiles a Weft snippet once, defining a
// global function `work`, then calls `work` once per iteration and reports
// items/s (the snippet's unit of work: calls, loop trips, elements) and the
// collector's counters (bench/gc_probe.h), so a change to the
// dispatch loop, the calling convention or the allocator shows up here.
#include <benchmark/benchmark.h>

#include <chrono>

#include "bench/gc_probe.h"

namespace {

using weft::bench::GcCounters;
using weft::bench::ScriptRun;

// Runs `source` once (it defines work()), then calls work() once per
// iteration on the main thread, off the scheduler; `items` units of work
// per call.
void run_snippet(benchmark::State& state, const char* source, int64_t items) {
  ScriptRun run;
  if (!run.run(state, "bench.wf", source)) return;
  weft::Runtime& rt = run.rt();
  int slot = rt.find_global("work");
  weft::Thread* t = rt.main_thread();
  if (slot < 0 || t == nullptr) {
    state.SkipWithError("the snippet defines no work(), or there is no main thread");
    return;
  }
  weft::Value work = rt.globals[size_t(slot)];
  auto t0 = std::chrono::steady_clock::now();
  for (auto _ : state) {
    if (rt.call(t, work, nullptr, 0).is_empty()) {
      state.SkipWithError("work() raised a runtime error");
      return;
    }
  }
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  state.SetItemsProcessed(state.iterations() * items);
  GcCounters counters;
  counters.add(run, wall);
  counters.report(state);
}

// fib(25) makes 242,785 calls.
void BM_Fib25(benchmark::State& state) {
  run_snippet(state, R"(
fn fib(n) { if n < 2 { return n } return fib(n - 1) + fib(n - 2) }
fn work() { return fib(25) }
)", 242785);
}
BENCHMARK(BM_Fib25)->Unit(benchmark::kMillisecond);

void BM_ArithLoop(benchmark::State& state) {
  run_snippet(state, R"(
fn work() {
    let s = 0
    for i in 0..1000000 { s += i * i % 7 }
    return s
}
)", 1000000);
}
BENCHMARK(BM_ArithLoop)->Unit(benchmark::kMillisecond);

// Pushes 100,000 ints, then reads and rewrites each by index.
void BM_ArrayPushIndex(benchmark::State& state) {
  run_snippet(state, R"(
fn work() {
    let a = []
    for i in 0..100000 { push(a, i) }
    let s = 0
    for i in 0..len(a) { a[i] = a[i] + 1; s += a[i] }
    return s
}
)", 100000);
}
BENCHMARK(BM_ArrayPushIndex)->Unit(benchmark::kMillisecond);

// 50,000 inserts with int keys and 50,000 with string keys, then lookups.
void BM_MapInsertLookup(benchmark::State& state) {
  run_snippet(state, R"(
fn work() {
    let m = {}
    for i in 0..50000 { m[i] = i; m["k" + str(i)] = i }
    let s = 0
    for i in 0..50000 { s += m[i] + m["k" + str(i)] }
    return s
}
)", 100000);
}
BENCHMARK(BM_MapInsertLookup)->Unit(benchmark::kMillisecond);

// Concatenation into a growing string, and join of many small strings.
void BM_StringBuild(benchmark::State& state) {
  run_snippet(state, R"(
fn work() {
    let s = ""
    for i in 0..2000 { s = s + str(i) + "," }
    let parts = []
    for i in 0..20000 { push(parts, "x" + str(i)) }
    return len(s) + len(join(parts, ","))
}
)", 22000);
}
BENCHMARK(BM_StringBuild)->Unit(benchmark::kMillisecond);

// Allocation churn: short-lived arrays, so the pacer and collections show.
void BM_AllocChurn(benchmark::State& state) {
  run_snippet(state, R"(
let keep = []
fn work() {
    for i in 0..100000 {
        let a = [i, i + 1, i + 2]
        if i % 1000 == 0 { push(keep, a) }
        if len(keep) > 100 { keep = [] }
    }
    return len(keep)
}
)", 100000);
}
BENCHMARK(BM_AllocChurn)->Unit(benchmark::kMillisecond);

}  // namespace
