// Calls that run on the calling host thread (docs/design.md#host-calls):
// the call really runs there; a call that blocks finishes as a goroutine;
// a call made while a stop-the-world is in progress waits for it; calls
// from several host threads with goroutines and collections; calls from
// inside a native; and a call-free loop in a host call still stops for a
// collection. Script: hostcall.wf.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "tests/embed/embed_test.h"

namespace {

using weft::Arg;
using weft::NativeCall;
using weft::Result;

std::atomic<uint64_t> g_where{0};

uint64_t thread_tag() { return uint64_t(std::hash<std::thread::id>()(std::this_thread::get_id())); }

void setup(weft::VM& vm) {
  // where(): the thread the script runs on, as a tag the test compares.
  ASSERT_TRUE(vm.define({"where", [](NativeCall&) -> Arg {
                           g_where.store(thread_tag());
                           return 1;
                         }, 0, 0})
                  .ok());
  // again(x): VM::call from inside a native (runs re-entrantly), then
  // NativeCall::call.
  ASSERT_TRUE(vm.define({"again", [](NativeCall& c) -> Arg {
                           Result a = c.vm().call("twice", {c.int_arg(0)});
                           if (!a.ok()) c.raise("again: " + a.message);
                           Result f = c.vm().get("add");
                           Result b = c.call(f.value, {a.value, 1});
                           if (!b.ok()) c.raise("again: " + b.message);
                           return b.value;
                         }, 1, 1})
                  .ok());
  Result r = vm.load_file(weft::testing::script("hostcall.wf"));
  ASSERT_TRUE(r.ok()) << r.message;
}

TEST(HostCall, RunsOnTheCallingThread) {
  weft::Config config;
  config.procs = 2;
  weft::VM vm(config);
  setup(vm);
  // The first call after the load may find the P still busy; a few tries.
  bool here = false;
  for (int i = 0; i < 50 && !here; i++) {
    Result r = vm.call("here");
    ASSERT_TRUE(r.ok()) << r.message;
    here = g_where.load() == thread_tag();
  }
  EXPECT_TRUE(here);
  for (int i = 0; i < 1000; i++) {
    Result r = vm.call("add", {i, 1});
    ASSERT_TRUE(r.ok()) << r.message;
    ASSERT_EQ(r.value.to_int(), i + 1);
  }
}

TEST(HostCall, ErrorsAndResultsAsBefore) {
  weft::VM vm;
  setup(vm);
  for (int i = 0; i < 3; i++) {
    Result r = vm.call("fails", {5});
    ASSERT_EQ(r.kind, Result::Runtime);
    EXPECT_NE(r.traceback.find("at fails ("), std::string::npos) << r.traceback;
    EXPECT_EQ(r.traceback.find("<host>"), std::string::npos) << r.traceback;
    Result ok = vm.call("add", {"a", "b"});  // the cached goroutine is clean after an error
    ASSERT_TRUE(ok.ok()) << ok.message;
    EXPECT_EQ(ok.value.to_string(), "ab");
  }
  EXPECT_EQ(vm.call("add", {1}).message, "add expects 2 arguments, got 1");
  EXPECT_EQ(vm.call("nope").kind, Result::Misuse);
}

TEST(HostCall, ACallThatBlocksFinishesAsAGoroutine) {
  weft::VM vm;
  setup(vm);
  for (int i = 0; i < 20; i++) {
    Result r = vm.call("fan", {10});
    ASSERT_TRUE(r.ok()) << r.message;
    EXPECT_EQ(r.value.to_int(), 285);
  }
  EXPECT_TRUE(vm.wait_all().ok());
}

TEST(HostCall, FromInsideANative) {
  weft::VM vm;
  setup(vm);
  Result r = vm.call("through_native", {20});
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_EQ(r.value.to_int(), 42);  // 2 * 20 + 1 + 1
  // And from a goroutine on a scheduler thread.
  weft::Task t = vm.spawn("through_native", {1});
  Result w = t.wait();
  ASSERT_TRUE(w.ok()) << w.message;
  EXPECT_EQ(w.value.to_int(), 4);
}

// Without asynchronous preemption a call-free loop keeps its P: a
// collection then waits for it with the world half stopped. A call made
// meanwhile finds no P free and waits for the stop to end: it returns only
// after the loop did (with a free P it would have run at once).
TEST(HostCall, DuringAStopTheWorld) {
  weft::Config config;
  config.procs = 2;
  config.async_preempt = false;
  weft::VM vm(config);
  setup(vm);
  ASSERT_TRUE(vm.call("is_spun").ok());
  weft::Task spinner = vm.spawn("spin", {300'000'000});
  ASSERT_TRUE(spinner.valid());
  std::this_thread::sleep_for(std::chrono::milliseconds(30));  // it holds a P
  std::thread collector([&vm] { vm.collect(); });
  std::this_thread::sleep_for(std::chrono::milliseconds(30));  // the stop is waiting for the loop
  uint64_t before = vm.gc_stats().collections;
  Result r = vm.call("is_spun");
  ASSERT_TRUE(r.ok()) << r.message;
  bool spun_first = r.value.to_bool().value_or(false);
  collector.join();
  Result s = spinner.wait();
  ASSERT_TRUE(s.ok()) << s.message;
  if (vm.gc_stats().collections == before) GTEST_SKIP() << "the loop ended before the stop began (slow machine)";
  EXPECT_TRUE(spun_first);
}

// The host thread is an M like the others: a call stuck in a call-free
// loop is stopped by a signal for the collection (and then finishes on a
// scheduler thread).
TEST(HostCall, CallFreeLoopStopsForACollection) {
  weft::Config config;
  config.procs = 2;
  weft::VM vm(config);
  setup(vm);
  std::atomic<bool> call_done{false};
  uint64_t async_before = vm.gc_stats().preemptions_async;
  std::thread caller([&] {
    Result r = vm.call("spin", {100'000'000});
    EXPECT_TRUE(r.ok()) << r.message;
    EXPECT_EQ(r.value.to_int(), 100'000'000);
    call_done.store(true);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  uint64_t before = vm.gc_stats().collections;
  vm.collect();
  bool collected_during_call = !call_done.load();
  caller.join();
  EXPECT_GT(vm.gc_stats().collections, before);
  if (!collected_during_call) GTEST_SKIP() << "the loop ended before the collection (fast machine)";
  EXPECT_GT(vm.gc_stats().preemptions_async, async_before);
}

TEST(HostCall, SeveralHostThreadsWithGoroutinesAndCollections) {
  weft::Config config;
  config.gc_percent = 5;
  config.procs = 2;
  weft::VM vm(config);
  setup(vm);
  std::vector<weft::Task> churners;
  for (int i = 0; i < 2; i++) churners.push_back(vm.spawn("churn", {300}));
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; t++) {
    threads.emplace_back([&, t] {
      for (int c = 0; c < 300; c++) {
        Result r = vm.call("add", {t, c});
        if (!r.ok() || r.value.to_int() != t + c) failures++;
        Result s = vm.call("add", {"x" + std::to_string(c), Arg::array({})} );  // string + array: an error
        if (s.kind != Result::Runtime) failures++;
        if (c % 30 == 0) {
          Result f = vm.call("fan", {5});
          if (!f.ok() || f.value.to_int() != 30) failures++;
        }
        if (c % 100 == 0) vm.collect();
      }
    });
  }
  for (auto& th : threads) th.join();
  for (auto& ch : churners) EXPECT_TRUE(ch.wait().ok());
  EXPECT_EQ(failures.load(), 0);
  EXPECT_GT(vm.gc_stats().collections, 3u);
  EXPECT_TRUE(vm.wait_all().ok());
}

// Signals every ~50 us and collections all the time: calls stop anywhere,
// are handed over or go on here, and every result stays right.
TEST(HostCall, UnderPreemptAndGcStress) {
#if defined(WEFT_ASAN) || defined(WEFT_TSAN)
  constexpr int kCalls = 15;  // a collection per allocation costs ~10x more under a sanitizer
#else
  constexpr int kCalls = 60;
#endif
  weft::Config config;
  config.procs = 2;
  config.preempt_stress = true;
  config.gc_stress = true;
  weft::VM vm(config);
  setup(vm);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; t++) {
    threads.emplace_back([&, t] {
      for (int c = 0; c < kCalls; c++) {
        Result r = vm.call("add", {"s" + std::to_string(t), std::to_string(c)});
        if (!r.ok() || r.value.to_string() != "s" + std::to_string(t) + std::to_string(c)) failures++;
        Result k = vm.call("churn", {2});
        if (!k.ok() || k.value.to_int() != 2) failures++;
        if (c % 5 == 0) {
          Result f = vm.call("fan", {4});
          if (!f.ok() || f.value.to_int() != 14) failures++;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_TRUE(vm.wait_all().ok());
}

TEST(HostCall, InterruptStopsACallRunningHere) {
#ifdef WEFT_TSAN
  GTEST_SKIP() << "a WEFT_TSAN build has no asynchronous preemption: nothing stops spin's call-free loop";
#endif
  weft::VM vm;
  setup(vm);
  // Again and again until the call returns: on a loaded machine the first
  // interrupt may land before the call began (and then ends nothing).
  std::atomic<bool> returned{false};
  std::thread killer([&vm, &returned] {
    while (!returned.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      vm.interrupt();
    }
  });
  Result r = vm.call("spin", {4'000'000'000});
  returned.store(true);
  killer.join();
  EXPECT_EQ(r.kind, Result::Runtime);
  EXPECT_EQ(r.message, "interrupted");
  EXPECT_EQ(vm.call("add", {1, 2}).value.to_int(), 3);
}

}  // namespace
