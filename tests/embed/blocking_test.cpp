// A native flagged blocking runs as a system call: while it sleeps 2 s,
// other goroutines keep running on its P and the collector collects (a
// stop-the-world does not wait for it). Script: blocking.wf.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <chrono>
#include <thread>

#include "tests/embed/embed_test.h"

namespace {

using weft::Arg;
using weft::NativeCall;
using weft::Result;
using Clock = std::chrono::steady_clock;

TEST(Blocking, CollectionsCompleteWhileANativeSleeps) {
  weft::Config config;
  config.procs = 1;          // the sleeping native's P must be handed off
  config.gc_percent = 10;    // collect often
  weft::VM vm(config);
  std::atomic<Clock::time_point> begin{}, end{};
  std::atomic<int> during{0};
  vm.on_gc([&](const weft::GcCycle&) {
    auto now = Clock::now();
    if (begin.load() != Clock::time_point() && end.load() == Clock::time_point() && now > begin.load()) during++;
  });
  ASSERT_TRUE(vm.define({"block_ms",
                         [&](NativeCall& c) -> Arg {
                           int64_t ms = c.int_arg(0);
                           begin = Clock::now();
                           std::this_thread::sleep_for(std::chrono::milliseconds(ms));
                           end = Clock::now();
                           return ms;
                         },
                         1, 1, /*blocking=*/true})
                  .ok());
  ASSERT_TRUE(vm.load_file(weft::testing::script("blocking.wf")).ok());
  uint64_t before = vm.gc_stats().collections;
  Result r = vm.call("run", {2000});
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_EQ(r.value.to_int(), 2000);
  EXPECT_GE(during.load(), 3) << "collections while the native slept";
  std::printf("collections during the 2 s native: %d\n", during.load());
  EXPECT_GE(vm.gc_stats().collections - before, 3u);
  EXPECT_GT(vm.get("churned").value.to_int().value_or(0), 10);
  EXPECT_TRUE(vm.wait_all().ok());
}

// Blocking natives get their arguments as handles made before the call and
// may not call back into Weft.
TEST(Blocking, ArgumentsAndLimits) {
  weft::VM vm;
  Result inner;
  ASSERT_TRUE(vm.define({"inspect",
                         [&](NativeCall& c) -> Arg {
                           inner = c.call(c.arg(1));
                           std::string s = c.string_arg(0);
                           return s + ":" + std::to_string(c.array_arg(2).size().value_or(0));
                         },
                         3, 3, true})
                  .ok());
  ASSERT_TRUE(vm.load_source("b.wf", "fn f() { return inspect(\"s\", fn() {}, [1, 2, 3]) }\n"
                                     "fn g() { return inspect(1, nil, nil) }")
                  .ok());
  Result r = vm.call("f");
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_EQ(r.value.to_string(), "s:3");
  EXPECT_EQ(inner.kind, Result::Misuse);
  r = vm.call("g");
  EXPECT_EQ(r.kind, Result::Runtime);
  EXPECT_EQ(r.message, "inspect: expected string, got int");
}

}  // namespace
