// Stop-the-world under load (README.md#benchmarks): time-to-stop and pause
// while N goroutines (N = 2, 100, 1,000; 10,000 with WEFT_BENCH_LARGE=1) run
// bench/gc/stw.wf's loads: loops without calls (BM_TimeToStop_CallFree:
// only asynchronous preemption stops them; without it the run hangs and the
// Watchdog ends the suite, so exclude it with --benchmark_filter=-CallFree),
// loops with calls, goroutines blocked on a channel, and goroutines in a
// blocking native. The main goroutine calls gc() `rounds` times; besides
// bench/gc_probe.h's counters (over every collection, 200 per run) each
// reports the gc() call's wall time (gc_call_p50_ms, gc_call_max_ms).
// Targets: time-to-stop p99 < 1 ms at every N; gc() < 50 ms with 100
// call-free spinners.
#include <benchmark/benchmark.h>

#include <string>

#include "bench/gc_probe.h"

namespace weft::bench {
namespace {

void stw_under_load(benchmark::State& state, const char* kind) {
  int64_t n = state.range(0);
  int64_t rounds = n >= 10000 ? 50 : 200;
  RuntimeOptions opts;
  opts.args = {kind, std::to_string(n), std::to_string(rounds)};
  std::string source = bench_file("gc/stw.wf");
  GcCounters counters;
  std::vector<double> calls;
  for (auto _ : state) {
    ScriptRun run(opts);
    define_block_native(run.rt());
    if (!run.run(state, "stw.wf", source)) return;
    counters.add(run);
    std::vector<double> c = run.global_numbers("calls");
    calls.insert(calls.end(), c.begin(), c.end());
  }
  counters.report(state);
  state.counters["gc_call_p50_ms"] = percentile(calls, 0.5) / 1e6;
  state.counters["gc_call_max_ms"] = percentile(calls, 1.0) / 1e6;
}

void BM_TimeToStop_CallFree(benchmark::State& state) { stw_under_load(state, "callfree"); }
void BM_TimeToStop_Calling(benchmark::State& state) { stw_under_load(state, "calling"); }
void BM_TimeToStop_Blocked(benchmark::State& state) { stw_under_load(state, "chan"); }
void BM_TimeToStop_Syscall(benchmark::State& state) { stw_under_load(state, "syscall"); }

void stw_args(benchmark::internal::Benchmark* b) {
  b->ArgName("goroutines")->Arg(2)->Arg(100)->Arg(1000);
  if (large_enabled()) b->Arg(10000);
  b->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();
}
BENCHMARK(BM_TimeToStop_CallFree)->Apply(stw_args);
BENCHMARK(BM_TimeToStop_Calling)->Apply(stw_args);
BENCHMARK(BM_TimeToStop_Blocked)->Apply(stw_args);
BENCHMARK(BM_TimeToStop_Syscall)->Apply(stw_args);

}  // namespace
}  // namespace weft::bench
