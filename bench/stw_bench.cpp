// Stop-the-world benchmarks (issue 3): time-to-stop with N goroutines that
// make calls in a loop (N = 2, 100, 1000), and the cost of one gc() call
// while they run. Each run starts a Runtime whose main goroutine calls gc()
// kRounds times and records gcstats().stw_ns, last_pause_ns and the gc()
// call's wall time (now()); the figures are read back from its globals.
// Counters: p50/p99/max of time-to-stop (µs), p50 pause (µs), p50/max gc()
// call (ms). Targets (issue 3): time-to-stop p99 < 1 ms; gc() < 50 ms with
// 100 looping goroutines.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <string>
#include <vector>

#include "vm/runtime.h"

namespace {

constexpr int kRounds = 200;

std::string script(int64_t n) {
  return "let stop = false\n"
         "fn f(x) { return x + 1 }\n"
         "fn spin() {\n  let n = 0\n  while !stop { n = f(n) }\n}\n"
         "for i in 0.." + std::to_string(n) + " { go spin() }\n"
         "sleep(20)\n"
         "let stw = []\nlet pause = []\nlet call = []\n"
         "for r in 0.." + std::to_string(kRounds) + " {\n"
         "  let t0 = now()\n  gc()\n  push(call, now() - t0)\n"
         "  let s = gcstats()\n  push(stw, s.stw_ns)\n  push(pause, s.last_pause_ns)\n}\n"
         "stop = true\n";
}

std::vector<double> read_ints(weft::Runtime& rt, const char* name) {
  std::vector<double> out;
  weft::Value v = rt.globals[size_t(rt.find_global(name))];
  if (!weft::is_type(v, weft::ObjType::Array)) return out;
  weft::Array* a = weft::as_array(v);
  for (uint32_t i = 0; i < a->len; i++) {
    weft::Value x = a->store->items[i];
    if (x.is_inline_int()) out.push_back(double(x.as_inline_int()));
  }
  std::sort(out.begin(), out.end());
  return out;
}

double pct(const std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  return v[std::min(v.size() - 1, size_t(p * double(v.size())))];
}

void BM_TimeToStop(benchmark::State& state) {
  std::vector<double> stw, pause, call;
  for (auto _ : state) {
    weft::Runtime rt;
    weft::Status st = rt.run("stw_bench.wf", script(state.range(0)));
    if (!st.ok()) {
      state.SkipWithError(st.message.c_str());
      return;
    }
    stw = read_ints(rt, "stw");
    pause = read_ints(rt, "pause");
    call = read_ints(rt, "call");
  }
  state.counters["stw_p50_us"] = pct(stw, 0.5) / 1e3;
  state.counters["stw_p99_us"] = pct(stw, 0.99) / 1e3;
  state.counters["stw_max_us"] = stw.empty() ? 0 : stw.back() / 1e3;
  state.counters["pause_p50_us"] = pct(pause, 0.5) / 1e3;
  state.counters["gc_call_p50_ms"] = pct(call, 0.5) / 1e6;
  state.counters["gc_call_max_ms"] = call.empty() ? 0 : call.back() / 1e6;
}
BENCHMARK(BM_TimeToStop)->Arg(2)->Arg(100)->Arg(1000)->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace
