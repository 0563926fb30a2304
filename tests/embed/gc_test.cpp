// The collector through the API: statistics, tuning at run time, a full
// collection on demand, a callback per collection; and the print sinks.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "tests/embed/embed_test.h"

namespace {

using weft::Result;

constexpr const char* kChurn =
    "fn churn(n) {\n"
    "    let keep = nil\n"
    "    for i in 0..n { keep = [i, str(i), {\"k\": i}] }\n"
    "    return keep[0]\n"
    "}\n";

TEST(Gc, StatsTuningAndCallback) {
  weft::VM vm;
  std::atomic<uint64_t> cycles{0}, last_seq{0}, live{0};
  vm.on_gc([&](const weft::GcCycle& c) {
    cycles++;
    last_seq = c.seq;
    live = c.live_after;
    EXPECT_GE(c.pause_ns, c.stw_ns);
  });
  ASSERT_TRUE(vm.load_source("churn.wf", kChurn).ok());
  ASSERT_TRUE(vm.collect().ok());
  weft::GcStats s = vm.gc_stats();
  EXPECT_GE(s.collections, 1u);
  EXPECT_EQ(cycles.load(), s.collections);
  EXPECT_EQ(last_seq.load(), s.collections);
  EXPECT_GT(s.live_bytes, 0u);
  EXPECT_EQ(live.load(), s.live_bytes);

  vm.set_gc_percent(-1);  // off: a lot of garbage, no collection
  uint64_t before = vm.gc_stats().collections;
  ASSERT_TRUE(vm.call("churn", {200000}).ok());
  EXPECT_EQ(vm.gc_stats().collections, before);
  vm.set_gc_percent(5);   // on again, eagerly; collections run on their own thread
  ASSERT_TRUE(vm.call("churn", {200000}).ok());
  for (int i = 0; i < 200 && vm.gc_stats().collections == before; i++)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_GT(vm.gc_stats().collections, before);
  EXPECT_GT(vm.gc_stats().total_allocated, 10u << 20);

  vm.on_gc(nullptr);
  uint64_t seen = cycles.load();
  ASSERT_TRUE(vm.collect().ok());
  EXPECT_EQ(cycles.load(), seen);
}

TEST(Sinks, PrintGoesToTheCallback) {
  std::mutex mu;
  std::string out;
  weft::Config config;
  config.on_out = [&](std::string_view s) {
    std::lock_guard<std::mutex> lk(mu);
    out.append(s);
  };
  weft::VM vm(config);
  ASSERT_TRUE(vm.run_source("p.wf", "print(\"hello\", 1, [2.5, \"x\"])\nprint(\"second\")").ok());
  ASSERT_TRUE(vm.load_source("m.wf", "fn say(x) { print(\"said\", x) }").ok());
  ASSERT_TRUE(vm.call("say", {42}).ok());
  std::lock_guard<std::mutex> lk(mu);
  EXPECT_EQ(out, "hello 1 [2.5, \"x\"]\nsecond\nsaid 42\n");
}

TEST(Sinks, PrintGoesToAFile) {
  FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  weft::Config config;
  config.out = f;
  {
    weft::VM vm(config);
    ASSERT_TRUE(vm.run_source("p.wf", "print(\"to a file\")").ok());
  }
  std::rewind(f);
  char buf[64] = {};
  ASSERT_NE(std::fgets(buf, sizeof buf, f), nullptr);
  EXPECT_STREQ(buf, "to a file\n");
  std::fclose(f);
}

TEST(Config, StackLimitAndProcs) {
  weft::Config config;
  config.max_stack = 2000;
  config.procs = 1;
  weft::VM vm(config);
  Result r = vm.run_source("deep.wf", "fn down(n) { return down(n + 1) }\ndown(0)\n");
  EXPECT_EQ(r.kind, Result::Runtime);
  EXPECT_EQ(r.message, "stack overflow");
}

}  // namespace
