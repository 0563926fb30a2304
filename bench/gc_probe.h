// What every GC-stress benchmark shares: running a Weft program in a fresh
// Runtime while recording each collection (gc::Heap::set_cycle_hook), and
// turning the recorded cycles into the counters a GC engineer asks for.
//
// Model. A benchmark iteration is one ScriptRun: a Runtime, a program run on
// its scheduler (Runtime::run), the collections seen by the cycle hook, the
// final gc::Stats and the wall time. GcCounters accumulates runs over the
// iterations and reports, as Google Benchmark counters:
//   collections; stw_{p50,p99,max}_us (time to stop the world);
//   pause_{p50,p99,max}_us (world stopped, start to end); mark_p50_us;
//   heap_peak_MiB (bdwgc's heap, the largest seen); live_after_MiB (exact
//   live bytes after the last collection); alloc_MiB_s (bytes allocated
//   over wall time); preempt_sync / preempt_async (sched::Counters).
// Percentiles are nearest-rank over every collection of every iteration.
//
// Hangs: a program that cannot be stopped (a call-free loop before
// asynchronous preemption) would stall the suite forever, so every run is
// under a Watchdog that ends the process with a message after its limit.
#pragma once

#include <benchmark/benchmark.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "vm/interp/runtime.h"

namespace weft::bench {

// p in [0, 1], nearest rank; 0 for no samples. Sorts a copy.
double percentile(std::vector<double> v, double p);

// Quits the process (status 3, a message on stderr naming `what`) unless
// destroyed within `limit`. For runs that may never finish.
class Watchdog {
 public:
  Watchdog(std::string what, std::chrono::seconds limit);
  ~Watchdog();
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;  // under mu_
  std::thread thread_;
};

// The source of a file under bench/ (e.g. "compare/gcbench.wf"); empty if
// it cannot be read.
std::string bench_file(std::string_view rel);

// One Runtime running one program, its collections recorded.
class ScriptRun {
 public:
  explicit ScriptRun(RuntimeOptions opts = {});
  ~ScriptRun();
  ScriptRun(const ScriptRun&) = delete;
  ScriptRun& operator=(const ScriptRun&) = delete;

  // Define natives etc. here before run().
  Runtime& rt() { return *rt_; }
  // Runs the program under a Watchdog; false (and state.SkipWithError) if
  // it failed.
  bool run(benchmark::State& state, std::string_view file, std::string_view source,
           std::chrono::seconds limit = std::chrono::seconds(120));
  // The numbers in global array `name` (ints and floats), in order.
  std::vector<double> global_numbers(std::string_view name);

  std::vector<gc::Cycle> cycles() const;  // a copy, under the hook's lock
  gc::Stats stats() const { return rt_->heap().stats(); }
  const sched::Counters& counters() const { return rt_->counters(); }
  double wall_s() const { return wall_s_; }

 private:
  std::unique_ptr<Runtime> rt_;
  mutable std::mutex mu_;           // guards cycles_ (the hook runs on the collector thread)
  std::vector<gc::Cycle> cycles_;
  double wall_s_ = 0;               // of the last run()
};

// The counters above, accumulated over runs.
class GcCounters {
 public:
  void add(const ScriptRun& run) { add(run, run.wall_s()); }
  void add(const ScriptRun& run, double wall_s);  // timed by the caller
  void report(benchmark::State& state) const;
  const std::vector<gc::Cycle>& cycles() const { return cycles_; }

 private:
  std::vector<gc::Cycle> cycles_;
  uint64_t allocated_ = 0, heap_peak_ = 0, live_after_ = 0;
  uint64_t preempt_sync_ = 0, preempt_async_ = 0;
  double wall_s_ = 0;
};

// The common body: `iterations` fresh runs of `source` with `opts`,
// reported with GcCounters and items per second (`items` per run).
void run_program(benchmark::State& state, std::string_view file, const std::string& source,
                 RuntimeOptions opts = {}, int64_t items = 0);

// Defines block(ms): a blocking native (kNativeBlocking) that sleeps ms
// milliseconds off the P, standing for a host call that blocks.
void define_block_native(Runtime& rt);

// True when WEFT_BENCH_LARGE=1: the sizes that take minutes (1 GiB heaps,
// 10,000 goroutines) are registered only then.
bool large_enabled();

}  // namespace weft::bench
