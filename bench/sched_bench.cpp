// Scheduler benchmarks (README.md#benchmarks): spawn, channel ping-pong, Go's
// concurrent prime sieve, select fan-in, and fairness (how late a goroutine
// sleeping 1 ms wakes while others spin). Each runs a Weft program in a
// fresh Runtime (bench/gc_probe.h) and reports items per second plus the
// collector's counters; the Go versions of spawn and ping-pong are in
// bench/sched/.
#include <benchmark/benchmark.h>

#include <string>

#include "bench/gc_probe.h"

namespace weft::bench {
namespace {

// 100,000 goroutines that each send once on a buffered channel.
void BM_Spawn(benchmark::State& state) {
  run_program(state, "spawn.wf", R"(
let n = 100000
let done = chan(n)
for i in 0..n { go fn() { done <- 1 }() }
for i in 0..n { <-done }
)", {}, 100000);
}
BENCHMARK(BM_Spawn)->Unit(benchmark::kMillisecond)->UseRealTime();

// 200,000 round trips over two unbuffered channels (items: messages).
void BM_PingPong(benchmark::State& state) {
  run_program(state, "pingpong.wf", R"(
let n = 200000
let ping = chan()
let pong = chan()
go fn() { for i in 0..n { pong <- (<-ping) + 1 } }()
let v = 0
for i in 0..n { ping <- v; v = <-pong }
assert(v == n, "lost messages")
)", {}, 400000);
}
BENCHMARK(BM_PingPong)->Unit(benchmark::kMillisecond)->UseRealTime();

// Go's concurrent prime sieve: a chain of filter goroutines, one per prime
// found, the first 1,000 primes (items: primes).
void BM_PrimeSieve(benchmark::State& state) {
  run_program(state, "sieve.wf", R"(
fn generate(ch) { let i = 2; while true { ch <- i; i += 1 } }
fn filter(src, dst, p) { while true { let i = <-src; if i % p != 0 { dst <- i } } }
let ch = chan()
go generate(ch)
let last = 0
for i in 0..1000 {
    let p = <-ch
    last = p
    let next = chan()
    go filter(ch, next, p)
    ch = next
}
assert(last == 7919, "wrong 1000th prime")
)", {}, 1000);
}
BENCHMARK(BM_PrimeSieve)->Unit(benchmark::kMillisecond)->UseRealTime();

// Select fan-in: 4 producers each send 50,000 values on their own channel;
// one consumer selects over the 4 (items: values received).
void BM_SelectFanIn(benchmark::State& state) {
  run_program(state, "fanin.wf", R"(
let n = 50000
let cs = [chan(16), chan(16), chan(16), chan(16)]
for k in 0..4 { go fn(c) { for i in 0..n { c <- i } }(cs[k]) }
let a = cs[0]
let b = cs[1]
let c = cs[2]
let d = cs[3]
let sum = 0
for i in 0..4 * n {
    select {
    case let v = <-a: sum += v
    case let v = <-b: sum += v
    case let v = <-c: sum += v
    case let v = <-d: sum += v
    }
}
assert(sum == 4 * (n * (n - 1) / 2), "lost values")
)", {}, 200000);
}
BENCHMARK(BM_SelectFanIn)->Unit(benchmark::kMillisecond)->UseRealTime();

// Fairness on one P: the main goroutine sleeps 1 ms 50 times while two
// goroutines spin (with calls, or call-free: only asynchronous preemption
// stops those); wake_*_us is how
// much later than 1 ms each sleep returned. Go's bound is its 10 ms time
// slice.
void fairness(benchmark::State& state, const char* body) {
  std::string source = std::string(R"(
let stop = false
fn f(x) { return x + 1 }
fn spin() { let x = 0; while !stop { )") + body + R"( } }
go spin()
go spin()
sleep(5)
let late = []
for i in 0..50 {
    let t0 = now()
    sleep(1)
    push(late, now() - t0 - 1000000)
}
stop = true
)";
  RuntimeOptions opts;
  opts.procs = 1;
  std::vector<double> late;
  GcCounters counters;
  for (auto _ : state) {
    ScriptRun run(opts);
    if (!run.run(state, "fairness.wf", source)) return;
    counters.add(run);
    std::vector<double> l = run.global_numbers("late");
    late.insert(late.end(), l.begin(), l.end());
  }
  counters.report(state);
  state.counters["wake_p50_us"] = percentile(late, 0.5) / 1e3;
  state.counters["wake_p99_us"] = percentile(late, 0.99) / 1e3;
  state.counters["wake_max_us"] = percentile(late, 1.0) / 1e3;
}
void BM_Fairness_Calling(benchmark::State& state) { fairness(state, "x = f(x)"); }
void BM_Fairness_CallFree(benchmark::State& state) { fairness(state, "x = x + 1"); }
BENCHMARK(BM_Fairness_Calling)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Fairness_CallFree)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace weft::bench
