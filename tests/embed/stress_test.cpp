// Stress: 8 host threads call into one VM at once, each checking every
// result, while goroutines allocate in the background and the collector
// runs (gc_percent 20). Run under the ASan build as well (build-asan).
// Script: stress.wf.
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "tests/embed/embed_test.h"

namespace {

using weft::Arg;
using weft::Result;

TEST(Stress, EightHostThreadsCallWhileGoroutinesAllocate) {
  weft::Config config;
  config.gc_percent = 20;
  weft::VM vm(config);
  ASSERT_TRUE(vm.load_file(weft::testing::script("stress.wf")).ok());
  constexpr int kChurners = 3, kThreads = 8, kCalls = 150;
  for (int i = 0; i < kChurners; i++) ASSERT_TRUE(vm.spawn("churn", {i}).valid());
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; t++) {
    threads.emplace_back([&, t] {
      for (int c = 0; c < kCalls; c++) {
        std::string tag = "t" + std::to_string(t) + "c" + std::to_string(c);
        int n = 1 + (c % 40);
        Result r = vm.call("work", {tag, n, Arg::array({t, c, 1})});
        auto last = r.ok() ? r.value.get("last") : std::nullopt;
        bool good = r.ok() && last && last->to_string() == tag + ":" + std::to_string(n - 1) &&
                    r.value.get("total")->to_int() == t + c + 1 && r.value.get("count")->to_int() == n;
        if (!good) failures++;
        if (c % 50 == 0) {  // some handles outlive a collection
          weft::Handle kept = r.value;
          vm.collect();
          if (kept.get("tag")->to_string() != tag) failures++;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  Result stop = vm.call("stop_churn", {kChurners});
  ASSERT_TRUE(stop.ok()) << stop.message;
  EXPECT_GT(stop.value.to_int().value_or(0), 0);
  EXPECT_GT(vm.gc_stats().collections, 5u);
  EXPECT_TRUE(vm.wait_all().ok());
}

}  // namespace
