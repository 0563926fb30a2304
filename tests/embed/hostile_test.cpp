// Budgets against hostile scripts: per-call deadlines (VM::call_for) and
// the per-VM heap limit (Config::heap_limit) and stack limit. gtest's
// discovery runs each test as its own ctest process with a timeout, so a
// hang fails one test. Script: hostile.wf.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "tests/embed/embed_test.h"

namespace {

using weft::Result;
constexpr int64_t kDeadline = 300'000'000;  // 300 ms: long against a call, short against ctest's timeout

weft::VM make(weft::Config c = {}) {
  weft::VM vm(std::move(c));
  Result r = vm.load_file(weft::testing::script("hostile.wf"));
  EXPECT_TRUE(r.ok()) << r.message;
  return vm;
}

TEST(Hostile, DeadlineStopsACallFreeLoop) {
#ifdef WEFT_TSAN
  GTEST_SKIP() << "a WEFT_TSAN build has no asynchronous preemption";
#endif
  weft::VM vm = make();
  auto start = std::chrono::steady_clock::now();
  Result r = vm.call_for(kDeadline, "spin");
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.kind, Result::Runtime);
  EXPECT_EQ(r.message, "deadline exceeded");
  EXPECT_NE(r.traceback.find("  at spin ("), std::string::npos) << r.traceback;
  EXPECT_LT(took, std::chrono::seconds(5));
  EXPECT_EQ(vm.call_for(kDeadline, "quick", {21}).value.to_int(), 42);  // the VM goes on
  EXPECT_EQ(vm.call("quick", {1}).value.to_int(), 2);
}

TEST(Hostile, DeadlineStopsAGoroutineBomb) {
  weft::VM vm = make();
  Result r = vm.call_for(kDeadline, "goroutine_bomb");
  EXPECT_EQ(r.kind, Result::Runtime);
  EXPECT_EQ(r.message, "deadline exceeded");
  EXPECT_EQ(vm.call("quick", {3}).value.to_int(), 6);
}

TEST(Hostile, HeapLimitStopsAnAllocationBomb) {
  weft::Config c;
  c.heap_limit = 64 << 20;
  weft::VM vm = make(c);
  // The limit ends it; the deadline only keeps a broken limit from hanging
  // the test. It is far off: the bomb takes up to 6 s under TSan.
  Result r = vm.call_for(200 * kDeadline, "alloc_bomb");
  EXPECT_EQ(r.kind, Result::Runtime);
  EXPECT_EQ(r.message, "out of memory");
  EXPECT_EQ(vm.call("quick", {4}).value.to_int(), 8);
}

TEST(Hostile, DeepRecursionIsAStackOverflow) {
  weft::Config c;
  c.max_stack = 1 << 16;
  weft::VM vm = make(c);
  Result r = vm.call_for(20 * kDeadline, "recurse", {0});
  EXPECT_EQ(r.kind, Result::Runtime);
  EXPECT_EQ(r.message, "stack overflow");
  EXPECT_EQ(vm.call("quick", {5}).value.to_int(), 10);
}

TEST(Hostile, DeadlineMetIsAnOrdinaryResult) {
  weft::VM vm = make();
  Result r = vm.call_for(kDeadline, "quick", {"ab"});
  EXPECT_EQ(r.kind, Result::Runtime);  // the script's own error, not the deadline's
  EXPECT_NE(r.message, "deadline exceeded");
  EXPECT_EQ(vm.call_for(kDeadline, "nosuch").kind, Result::Misuse);
}

}  // namespace

namespace {

// A deadline ends the call's goroutine alone, at a safe-point, with its
// traceback: a goroutine the script started before keeps serving.
TEST(HostileDeadline, EndsOnlyTheCallsGoroutine) {
  weft::VM vm = make();
  ASSERT_TRUE(vm.call("start_server").ok());
  EXPECT_EQ(vm.call("ask", {1}).value.to_int(), 2);
  auto start = std::chrono::steady_clock::now();
  Result r = vm.call_for(kDeadline, "busy");
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.kind, Result::Runtime);
  EXPECT_EQ(r.message, "deadline exceeded");
  EXPECT_NE(r.traceback.find("  at busy ("), std::string::npos) << r.traceback;
  EXPECT_GE(took, std::chrono::nanoseconds(kDeadline));
  EXPECT_LT(took, std::chrono::seconds(5));
  Result again = vm.call_for(kDeadline, "ask", {21});  // the server survived
  EXPECT_TRUE(again.ok()) << again.message;
  EXPECT_EQ(again.value.to_int(), 42);
}

TEST(HostileDeadline, PcallCannotOutliveIt) {
  weft::VM vm = make();
  ASSERT_TRUE(vm.call("start_server").ok());
  Result r = vm.call_for(kDeadline, "stubborn");
  EXPECT_EQ(r.kind, Result::Runtime);
  EXPECT_EQ(r.message, "deadline exceeded");
  EXPECT_EQ(vm.call("ask", {4}).value.to_int(), 8);
}

// Two calls with deadlines at once on two host threads: the short one
// expires while the long one waits; the long one then finishes.
TEST(HostileDeadline, OtherCallsAreUntouched) {
  weft::VM vm = make();
  ASSERT_TRUE(vm.call("start_server").ok());
  Result slow;
  std::thread other([&] { slow = vm.call_for(30 * kDeadline, "ask_later", {50}); });
  Result r = vm.call_for(kDeadline, "busy");
  EXPECT_TRUE(vm.call("open_gate").ok());
  other.join();
  EXPECT_EQ(r.message, "deadline exceeded");
  EXPECT_TRUE(slow.ok()) << slow.message;
  EXPECT_EQ(slow.value.to_int(), 100);
}

}  // namespace
