// Collector benchmarks (README.md#benchmarks): allocation throughput by object kind and
// size, Hans Boehm's GCBench and binary-trees, and pause against live heap
// size next to bdwgc's own collection of the same heap (bench/bdwgc_floor).
// Every benchmark runs a program from bench/ in a fresh Runtime per
// iteration and reports the counters of bench/gc_probe.h.
//
// Filters: --benchmark_filter=Alloc|GCBench|BinaryTrees|LiveHeap. The 1 GiB
// live heap is registered only with WEFT_BENCH_LARGE=1. WEFT_GC_MARKERS sets
// the marker count of the process (and of bdwgc_floor): compare 1 and 2.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <string>
#include <vector>

#include "bench/gc_probe.h"

namespace weft::bench {
namespace {

// ---- allocation throughput ----

// Objects per run, chosen so one run takes about 0.1-0.3 s.
int64_t alloc_count(const std::string& kind, int64_t size) {
  if (kind == "map") return 4'000'000 / (size + 4);
  if (kind == "string") return size >= 1024 ? 100'000 : size >= 64 ? 500'000 : 2'000'000;
  return size >= 64 ? 500'000 : 2'000'000;
}

// args: size (elements, entries or bytes); goroutines (0: procs)
void alloc_bench(benchmark::State& state, const std::string& kind) {
  int64_t size = state.range(0);
  int64_t workers = state.range(1) == 0 ? default_procs() : state.range(1);
  int64_t count = alloc_count(kind, size);
  RuntimeOptions opts;
  opts.args = {kind, std::to_string(size), std::to_string(count), std::to_string(workers)};
  run_program(state, "alloc.wf", bench_file("gc/alloc.wf"), opts, count);
}

void BM_AllocArray(benchmark::State& state) { alloc_bench(state, "array"); }
void BM_AllocMap(benchmark::State& state) { alloc_bench(state, "map"); }
void BM_AllocString(benchmark::State& state) { alloc_bench(state, "string"); }

void alloc_args(benchmark::internal::Benchmark* b, std::vector<int64_t> sizes) {
  b->ArgNames({"size", "goroutines"})->Unit(benchmark::kMillisecond)->UseRealTime();
  for (int64_t s : sizes) {
    b->Args({s, 1});
    b->Args({s, 0});  // one per P
  }
}
BENCHMARK(BM_AllocArray)->Apply([](auto* b) { alloc_args(b, {1, 8, 64}); });
BENCHMARK(BM_AllocMap)->Apply([](auto* b) { alloc_args(b, {1, 8, 64}); });
BENCHMARK(BM_AllocString)->Apply([](auto* b) { alloc_args(b, {8, 64, 1024}); });

// ---- whole programs ----

// bench/compare/gcbench.wf, stretch depth 18 (as Boehm's).
void BM_GCBench(benchmark::State& state) {
  RuntimeOptions opts;
  opts.args = {"18"};
  run_program(state, "gcbench.wf", bench_file("compare/gcbench.wf"), opts);
}
BENCHMARK(BM_GCBench)->Unit(benchmark::kMillisecond)->UseRealTime();

// bench/compare/binary_trees.wf at depth range(0).
void BM_BinaryTrees(benchmark::State& state) {
  RuntimeOptions opts;
  opts.args = {std::to_string(state.range(0))};
  run_program(state, "binary_trees.wf", bench_file("compare/binary_trees.wf"), opts);
}
BENCHMARK(BM_BinaryTrees)->ArgName("depth")->Arg(16)->Arg(18)->Unit(benchmark::kMillisecond)->UseRealTime();

// ---- live heap scaling ----

constexpr int kLiveRounds = 10;

// The floor: bdwgc_floor's median and fastest GC_gcollect times (µs) for
// the same heap; false if it could not run.
bool bdwgc_floor_us(int64_t mib, double* p50, double* min) {
  std::string cmd = std::string(WEFT_BDWGC_FLOOR) + " " + std::to_string(mib) + " " +
                    std::to_string(kLiveRounds);
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return false;
  bool ok = std::fscanf(p, "pause_p50_us %lf pause_min_us %lf", p50, min) == 2;
  pclose(p);
  return ok;
}

// 10 and 100 MiB, and 1 GiB with WEFT_BENCH_LARGE: one run each, wall time.
void live_heap_sizes(benchmark::internal::Benchmark* b) {
  b->ArgName("MiB")->Arg(10)->Arg(100);
  if (large_enabled()) b->Arg(1024);
  b->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();
}

// Pause against live heap: range(0) MiB of live trees (bench/gc/live_heap.wf),
// kLiveRounds collections with the pacer off, then bdwgc alone on the same
// heap shape (bdwgc_pause_p50_us). `overhead` is our fastest pause over
// bdwgc's fastest: on a shared machine the least disturbed collection of
// each is the fairest pair (p50s are reported too).
void BM_LiveHeap(benchmark::State& state) {
  int64_t mib = state.range(0);
  RuntimeOptions opts;
  opts.gc_percent = -1;
  opts.args = {std::to_string(mib), std::to_string(kLiveRounds)};
  GcCounters counters;
  for (auto _ : state) {
    ScriptRun run(opts);
    if (!run.run(state, "live_heap.wf", bench_file("gc/live_heap.wf"))) return;
    counters.add(run);
  }
  counters.report(state);
  double ours_min = 0;
  for (const gc::Cycle& c : counters.cycles()) {
    double us = double(c.pause_ns) / 1e3;
    if (ours_min == 0 || us < ours_min) ours_min = us;
  }
  double floor_p50 = 0, floor_min = 0;
  if (!bdwgc_floor_us(mib, &floor_p50, &floor_min)) {
    state.SkipWithError("bdwgc_floor did not run");
    return;
  }
  state.counters["markers"] = gc::markers();  // --gc-markers / WEFT_GC_MARKERS, also bdwgc_floor's
  state.counters["pause_min_us"] = ours_min;
  state.counters["bdwgc_pause_p50_us"] = floor_p50;
  state.counters["bdwgc_pause_min_us"] = floor_min;
  state.counters["overhead"] = floor_min > 0 ? ours_min / floor_min : 0;
}
BENCHMARK(BM_LiveHeap)->Apply(live_heap_sizes);

// Minor collections against live heap (issue 19): the forest of BM_LiveHeap
// built and made old by a gc(), then kMinorRounds nurseries of short-lived
// trees with a few old-to-young stores (live_heap.wf's `minor` mode), the
// pacer on. Reports the minors after the build (pause_p50_us etc. count
// every collection, the build's included). Needs generational collections,
// which are process-wide: the default with the bdwgc of tools/bdwgc.sh
// (the full rows of the same process are gc()'s full collections either way).
constexpr int kMinorRounds = 40;

void BM_LiveHeapMinor(benchmark::State& state) {
  if (!gc::generational()) {
    state.SkipWithError("needs generational collections (the bdwgc of tools/bdwgc.sh, no WEFT_GC_GENERATIONAL=0)");
    return;
  }
  int64_t mib = state.range(0);
  RuntimeOptions opts;
  opts.args = {std::to_string(mib), std::to_string(kMinorRounds), "minor"};
  GcCounters counters;
  std::vector<double> minor_us;
  for (auto _ : state) {
    ScriptRun run(opts);
    if (!run.run(state, "live_heap.wf", bench_file("gc/live_heap.wf"))) return;
    counters.add(run);
    std::vector<double> built = run.global_numbers("built");
    uint64_t after = built.empty() ? 0 : uint64_t(built[0]);
    for (const gc::Cycle& c : run.cycles()) {
      if (c.minor && c.seq > after) minor_us.push_back(double(c.pause_ns) / 1e3);
    }
  }
  counters.report(state);
  state.counters["markers"] = gc::markers();
  state.counters["minors"] = double(minor_us.size());
  state.counters["minor_pause_p50_us"] = percentile(minor_us, 0.5);
  state.counters["minor_pause_p99_us"] = percentile(minor_us, 0.99);
  state.counters["minor_pause_max_us"] = percentile(minor_us, 1.0);
}
BENCHMARK(BM_LiveHeapMinor)->Apply(live_heap_sizes);

}  // namespace
}  // namespace weft::bench
