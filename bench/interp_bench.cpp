// Interpreter benchmarks: each compiles a Weft snippet once, defining a
// global function `work`, then calls `work` once per iteration and reports
// items/s (the snippet's unit of work: calls, loop trips, elements) and the
// collector's counters (collections, pauses, live heap), so a change to the
// dispatch loop, the calling convention or the allocator shows up here.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <memory>
#include <string>

#include "vm/runtime.h"

namespace {

// One runtime with `work` compiled; Run() calls it.
class Snippet {
 public:
  explicit Snippet(const char* source) {
    RuntimeOptions opts;
    rt_ = std::make_unique<weft::Runtime>(opts);
    weft::Status s = rt_->run("bench.wf", source);
    if (!s.ok()) error_ = s.message + s.traceback;
    int slot = rt_->find_global("work");
    if (error_.empty() && slot < 0) error_ = "snippet defines no work()";
    if (slot >= 0) work_ = rt_->globals[size_t(slot)];
  }
  // Calls work(); false (with error()) when it raised.
  bool run() {
    weft::Thread* t = rt_->main_thread();
    if (t == nullptr) {
      error_ = "no main thread to call work() on";
      return false;
    }
    weft::Value r = rt_->call(t, work_, nullptr, 0);
    if (!r.is_empty()) return true;
    error_ = "work() raised a runtime error";
    return false;
  }
  const std::string& error() const { return error_; }
  weft::gc::Stats gc() const { return rt_->heap().stats(); }

 private:
  using RuntimeOptions = weft::RuntimeOptions;
  std::unique_ptr<weft::Runtime> rt_;
  weft::Value work_;
  std::string error_;
};

void report_gc(benchmark::State& state, const weft::gc::Stats& gc) {
  state.counters["collections"] = double(gc.collections);
  state.counters["max_pause_ms"] = double(gc.max_pause_ns) / 1e6;
  state.counters["avg_pause_ms"] =
      gc.collections == 0 ? 0.0 : double(gc.total_pause_ns) / 1e6 / double(gc.collections);
  state.counters["live_MiB"] = double(gc.live_bytes) / (1024.0 * 1024.0);
}

// Runs `source`'s work() per iteration; `items` units of work per call.
void run_snippet(benchmark::State& state, const char* source, int64_t items) {
  Snippet s(source);
  if (!s.error().empty()) {
    state.SkipWithError(s.error().c_str());
    return;
  }
  for (auto _ : state) {
    if (!s.run()) {
      state.SkipWithError(s.error().c_str());
      return;
    }
  }
  state.SetItemsProcessed(state.iterations() * items);
  report_gc(state, s.gc());
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
