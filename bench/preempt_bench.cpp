// Preemption costs (README.md#benchmarks).
//
// BM_AsyncPreemptCost: one goroutine runs a call-free loop of a fixed trip
// count (it ends on its own, with or without asynchronous preemption), once
// quietly and once with RuntimeOptions::preempt_stress (a signal to every
// running M about every 50 µs). The cost of one preemption (signal,
// trampoline, asyncPreempt2's yield, resume) is the extra wall time over
// the preemptions counted: async_cost_ns = (t_stress - t_quiet) /
// preempt_async, from the fastest of 5 runs of each (the least disturbed on
// a shared machine). With asynchronous preemption off no preemption
// happens: async_cost_ns = 0.
//
// BM_SyncGuard_*: the synchronous guard is the stack-limit compare every
// VM call makes anyway (poisoning it is how a stop is requested), plus one
// compare per allocating instruction. These report the time per call and
// per allocation (ns_per_item). What the guard costs is the difference
// against an interpreter built without it (-DWEFT_NO_GUARD=ON, which this
// binary cannot link next to the normal one): bench/guard/run.sh builds both
// and runs the same kind of programs under each, alternating.
#include <benchmark/benchmark.h>

#include <string>

#include "bench/gc_probe.h"

namespace weft::bench {
namespace {

constexpr const char* kSpin = R"(
let done = chan()
go fn() {
    let x = 0
    for i in 0..30000000 { x = x + i }
    done <- x
}()
<-done
)";

void BM_AsyncPreemptCost(benchmark::State& state) {
  double quiet = 0, stress = 0, preemptions = 0;  // the fastest run of each (least disturbed)
  for (auto _ : state) {
    RuntimeOptions opts;
    opts.procs = 1;
    ScriptRun q(opts);
    if (!q.run(state, "spin.wf", kSpin)) return;
    opts.preempt_stress = true;
    ScriptRun s(opts);
    if (!s.run(state, "spin.wf", kSpin)) return;
    if (quiet == 0 || q.wall_s() < quiet) quiet = q.wall_s();
    if (stress == 0 || s.wall_s() < stress) {
      stress = s.wall_s();
      preemptions = double(s.counters().preemptions_async.load());
    }
  }
  state.counters["quiet_ms"] = quiet * 1e3;
  state.counters["stress_ms"] = stress * 1e3;
  state.counters["preempt_async"] = preemptions;
  state.counters["async_cost_ns"] = preemptions > 0 ? (stress - quiet) * 1e9 / preemptions : 0;
}
BENCHMARK(BM_AsyncPreemptCost)->Iterations(5)->Unit(benchmark::kMillisecond)->UseRealTime();

// fib(27): 317,810 calls, each passing the guard.
void BM_SyncGuard_Calls(benchmark::State& state) {
  state.SetLabel("per call");
  run_program(state, "calls.wf", R"(
fn fib(n) { if n < 2 { return n } return fib(n - 1) + fib(n - 2) }
assert(fib(27) == 196418)
)", {}, 317811);
}
BENCHMARK(BM_SyncGuard_Calls)->Unit(benchmark::kMillisecond)->UseRealTime();

// 1,000,000 allocating instructions (a 2-element array literal each).
void BM_SyncGuard_Allocs(benchmark::State& state) {
  state.SetLabel("per allocation");
  run_program(state, "allocs.wf", R"(
let x = nil
for i in 0..1000000 { x = [i, i] }
)", {}, 1000000);
}
BENCHMARK(BM_SyncGuard_Allocs)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace weft::bench
