// Shared benchmark plumbing (bench/gc_probe.h has the model).
#include "bench/gc_probe.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <unistd.h>

namespace weft::bench {

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t rank = size_t(p * double(v.size()));
  return v[std::min(v.size() - 1, rank)];
}

Watchdog::Watchdog(std::string what, std::chrono::seconds limit)
    : thread_([this, what = std::move(what), limit] {
        std::unique_lock<std::mutex> lock(mu_);
        if (cv_.wait_for(lock, limit, [this] { return done_; })) return;
        std::fprintf(stderr,
                     "\nweft_bench: %s did not finish within %lld s; a goroutine that cannot be "
                     "stopped (a call-free loop needs asynchronous preemption) hangs "
                     "the stop-the-world. Exclude it with --benchmark_filter=-CallFree.\n",
                     what.c_str(), static_cast<long long>(limit.count()));
        std::fflush(stderr);
        _exit(3);
      }) {}

Watchdog::~Watchdog() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    done_ = true;
  }
  cv_.notify_one();
  thread_.join();
}

std::string bench_file(std::string_view rel) {
  std::ifstream in(std::string(WEFT_BENCH_DIR) + "/" + std::string(rel));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

namespace {

// What programs print goes nowhere: the benchmark's report owns stdout.
RuntimeOptions quiet(RuntimeOptions opts) {
  static FILE* devnull = std::fopen("/dev/null", "w");
  if (opts.out == stdout && devnull != nullptr) opts.out = devnull;
  return opts;
}

}  // namespace

ScriptRun::ScriptRun(RuntimeOptions opts) : rt_(std::make_unique<Runtime>(quiet(std::move(opts)))) {
  rt_->heap().set_cycle_hook([this](const gc::Cycle& c) {
    std::lock_guard<std::mutex> lock(mu_);
    cycles_.push_back(c);
  });
}

ScriptRun::~ScriptRun() { rt_->heap().set_cycle_hook(nullptr); }

bool ScriptRun::run(benchmark::State& state, std::string_view file, std::string_view source,
                    std::chrono::seconds limit) {
  if (source.empty()) {
    state.SkipWithError("empty program (a bench/ file missing?)");
    return false;
  }
  Watchdog dog(std::string(file), limit);
  auto t0 = std::chrono::steady_clock::now();
  Status st = rt_->run(file, source);
  wall_s_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (st.ok()) return true;
  std::string msg = st.message + "\n" + st.traceback;
  state.SkipWithError(msg.c_str());
  return false;
}

std::vector<double> ScriptRun::global_numbers(std::string_view name) {
  std::vector<double> out;
  int slot = rt_->find_global(name);
  if (slot < 0) return out;
  Value v = rt_->globals[size_t(slot)];
  if (!is_type(v, ObjType::Array)) return out;
  Array* a = as_array(v);
  for (uint32_t i = 0; i < a->len; i++) {
    Value x = a->items().items[i];
    if (is_number(x)) out.push_back(number_of(x));
  }
  return out;
}

std::vector<gc::Cycle> ScriptRun::cycles() const {
  std::lock_guard<std::mutex> lock(mu_);
  return cycles_;
}

void GcCounters::add(const ScriptRun& run, double wall_s) {
  const std::vector<gc::Cycle> cycles = run.cycles();
  const gc::Stats stats = run.stats();
  cycles_.insert(cycles_.end(), cycles.begin(), cycles.end());
  for (const gc::Cycle& c : cycles) heap_peak_ = std::max({heap_peak_, c.heap_before, c.heap_after});
  if (!cycles.empty()) live_after_ = cycles.back().live_after;
  heap_peak_ = std::max(heap_peak_, stats.heap_bytes);
  allocated_ += stats.total_allocated;
  preempt_sync_ += run.counters().preemptions_sync.load();
  preempt_async_ += run.counters().preemptions_async.load();
  wall_s_ += wall_s;
}

void GcCounters::report(benchmark::State& state) const {
  std::vector<double> stw, pause, mark;
  for (const gc::Cycle& c : cycles_) {
    stw.push_back(double(c.stw_ns) / 1e3);
    pause.push_back(double(c.pause_ns) / 1e3);
    mark.push_back(double(c.mark_ns) / 1e3);
  }
  constexpr double kMiB = 1024.0 * 1024.0;
  auto& k = state.counters;
  k["collections"] = double(cycles_.size());
  k["stw_p50_us"] = percentile(stw, 0.5);
  k["stw_p99_us"] = percentile(stw, 0.99);
  k["stw_max_us"] = percentile(stw, 1.0);
  k["pause_p50_us"] = percentile(pause, 0.5);
  k["pause_p99_us"] = percentile(pause, 0.99);
  k["pause_max_us"] = percentile(pause, 1.0);
  k["mark_p50_us"] = percentile(mark, 0.5);
  k["heap_peak_MiB"] = double(heap_peak_) / kMiB;
  k["live_after_MiB"] = double(live_after_) / kMiB;
  k["alloc_MiB_s"] = wall_s_ > 0 ? double(allocated_) / kMiB / wall_s_ : 0;
  k["preempt_sync"] = double(preempt_sync_);
  k["preempt_async"] = double(preempt_async_);
}

void run_program(benchmark::State& state, std::string_view file, const std::string& source,
                 RuntimeOptions opts, int64_t items) {
  GcCounters counters;
  for (auto _ : state) {
    ScriptRun run(opts);
    if (!run.run(state, file, source)) return;
    counters.add(run);
  }
  if (items > 0) state.SetItemsProcessed(state.iterations() * items);
  counters.report(state);
}

namespace {

Value block_ms(Thread*, Value* args, int) {
  double ms = is_number(args[0]) ? number_of(args[0]) : 0;
  timespec ts{time_t(ms / 1e3), long(std::fmod(ms, 1e3) * 1e6)};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
  return Value::nil();
}

}  // namespace

void define_block_native(Runtime& rt) {
  rt.define_native("block", block_ms, 1, 1);
  rt.globals[size_t(rt.find_global("block"))].as_obj()->flags |= kNativeBlocking;
}

bool large_enabled() {
  const char* v = std::getenv("WEFT_BENCH_LARGE");
  return v != nullptr && v[0] == '1';
}

}  // namespace weft::bench
