// The collector's per-goroutine costs (README.md#benchmarks).
//
// BM_SuspendG/<kind>: sched::suspendG + resumeG on each of N goroutines of
// one kind while the program runs, timed per call from a thread that is not
// an M (as the collector's), grouped by the status the G had just before:
// suspend_<status>_ns is the median per call. Kinds: chan (_Gwaiting),
// syscall (_Gsyscall, in a blocking native), calling (_Grunnable and
// _Grunning goroutines looping with calls: a running one is asked to stop
// at its next safe-point), callfree (the same without calls: needs
// asynchronous preemption).
//
// BM_ScanPerGoroutine/<kind>: the mark phase with 1,000 goroutines held in
// one state (bench/gc/scan.wf: stackless, deep, stackful, callfree) minus
// the mark phase with none, per goroutine (scan_ns_per_g).
#include <benchmark/benchmark.h>

#include <atomic>
#include <chrono>
#include <map>
#include <string>
#include <thread>

#include "bench/gc_probe.h"
#include "vm/sched/sched.h"

namespace weft::bench {
namespace {

// The handshake between the program and the measuring thread (one
// benchmark at a time): the program calls ready() once its goroutines are in
// place, then sleeps until released() is true.
std::atomic<bool> g_ready{false}, g_released{false};

Value b_ready(Thread*, Value*, int) {
  g_ready.store(true);
  return Value::nil();
}
Value b_released(Thread*, Value*, int) { return Value::boolean(g_released.load()); }

constexpr const char* kSuspendScript = R"(
let kind = args()[0]
let n = int(args()[1])
let stop = false
let go_on = chan(n + 1)
let never = chan()
let start = chan()
fn f(x) { return x + 1 }
fn g() {
    go_on <- true
    <-start
    let x = 0
    if kind == "chan" { <-never } else if kind == "syscall" { while !stop { block(1) } } else if kind == "calling" { while !stop { x = f(x) } } else { while !stop { x = x + 1 } }
}
for i in 0..n { go g() }
for i in 0..n { <-go_on }
close(start)
ready()
while !released() { sleep(1) }
stop = true
close(never)
)";

const char* status_name(uint32_t s) {
  switch (s) {
    case sched::_Grunnable: return "runnable";
    case sched::_Grunning: return "running";
    case sched::_Gsyscall: return "syscall";
    case sched::_Gwaiting: return "waiting";
    case sched::_Gpreempted: return "preempted";
    default: return "other";
  }
}

// suspendG/resumeG over every goroutine but main, `passes` times; ns per
// call, by the status seen just before.
std::map<std::string, std::vector<double>> suspend_all(int passes) {
  std::map<std::string, std::vector<double>> by_status;
  sched::Sched* s = sched::current_sched();
  if (s == nullptr) return by_status;
  std::vector<sched::G*> gs;
  sched::for_each_g(s, [&](sched::G* g) {
    if (!g->is_main && (sched::readgstatus(g) & ~sched::_Gscan) != sched::_Gdead) gs.push_back(g);
  });
  for (int p = 0; p < passes; p++) {
    for (sched::G* g : gs) {
      uint32_t status = sched::readgstatus(g) & ~sched::_Gscan;
      auto t0 = std::chrono::steady_clock::now();
      sched::SuspendGState st = sched::suspendG(g);
      auto dt = std::chrono::steady_clock::now() - t0;
      sched::resumeG(st);
      by_status[status_name(status)].push_back(double(std::chrono::nanoseconds(dt).count()));
    }
  }
  return by_status;
}

void suspend_bench(benchmark::State& state, const char* kind) {
  int64_t n = state.range(0);
  RuntimeOptions opts;
  opts.args = {kind, std::to_string(n)};
  std::map<std::string, std::vector<double>> all;
  for (auto _ : state) {
    g_ready = false;
    g_released = false;
    ScriptRun run(opts);
    define_block_native(run.rt());
    run.rt().define_native("ready", b_ready, 0, 0);
    run.rt().define_native("released", b_released, 0, 0);
    std::atomic<bool> ok{true}, finished{false};
    std::thread host([&] {
      ok = run.run(state, "suspend.wf", kSuspendScript);
      finished = true;
    });
    while (!g_ready.load() && !finished.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    auto got = suspend_all(5);
    g_released = true;
    host.join();
    if (!ok) return;
    for (auto& [status, v] : got) all[status].insert(all[status].end(), v.begin(), v.end());
  }
  for (auto& [status, v] : all) {
    state.counters["suspend_" + status + "_ns"] = percentile(v, 0.5);
    state.counters["n_" + status] = double(v.size());
  }
}

void BM_SuspendG_Chan(benchmark::State& state) { suspend_bench(state, "chan"); }
void BM_SuspendG_Syscall(benchmark::State& state) { suspend_bench(state, "syscall"); }
void BM_SuspendG_Calling(benchmark::State& state) { suspend_bench(state, "calling"); }
void BM_SuspendG_CallFree(benchmark::State& state) { suspend_bench(state, "callfree"); }
BENCHMARK(BM_SuspendG_Chan)->ArgName("goroutines")->Arg(1000)->Iterations(1)->UseRealTime();
BENCHMARK(BM_SuspendG_Syscall)->ArgName("goroutines")->Arg(100)->Iterations(1)->UseRealTime();
BENCHMARK(BM_SuspendG_Calling)->ArgName("goroutines")->Arg(100)->Iterations(1)->UseRealTime();
BENCHMARK(BM_SuspendG_CallFree)->ArgName("goroutines")->Arg(100)->Iterations(1)->UseRealTime();

// ---- scanning ----

constexpr int kScanG = 1000, kScanRounds = 50;

double mark_p50_us(benchmark::State& state, const char* kind, bool* ok) {
  RuntimeOptions opts;
  opts.args = {kind, std::to_string(kScanG), std::to_string(kScanRounds)};
  ScriptRun run(opts);
  *ok = run.run(state, "scan.wf", bench_file("gc/scan.wf"));
  std::vector<double> mark;
  for (const gc::Cycle& c : run.cycles()) mark.push_back(double(c.mark_ns) / 1e3);
  return percentile(mark, 0.5);
}

void scan_bench(benchmark::State& state, const char* kind) {
  double with = 0, without = 0;
  for (auto _ : state) {
    bool ok = true;
    without = mark_p50_us(state, "none", &ok);
    if (ok) with = mark_p50_us(state, kind, &ok);
    if (!ok) return;
  }
  state.counters["mark_p50_us"] = with;
  state.counters["baseline_mark_p50_us"] = without;
  state.counters["scan_ns_per_g"] = (with - without) * 1e3 / kScanG;
}

void BM_ScanPerGoroutine_Stackless(benchmark::State& state) { scan_bench(state, "stackless"); }
void BM_ScanPerGoroutine_Deep(benchmark::State& state) { scan_bench(state, "deep"); }
void BM_ScanPerGoroutine_Stackful(benchmark::State& state) { scan_bench(state, "stackful"); }
void BM_ScanPerGoroutine_CallFree(benchmark::State& state) { scan_bench(state, "callfree"); }
BENCHMARK(BM_ScanPerGoroutine_Stackless)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_ScanPerGoroutine_Deep)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_ScanPerGoroutine_Stackful)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_ScanPerGoroutine_CallFree)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace weft::bench
