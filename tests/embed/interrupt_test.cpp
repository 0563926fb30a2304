// interrupt() from another host thread stops running Weft code at its next
// safe-point: the waiting calls get a Runtime result `interrupted` and the
// VM goes on. Script: interrupt.wf.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "tests/embed/embed_test.h"

namespace {

using weft::Result;

void interrupt_after(weft::VM& vm, int ms, std::thread* t) {
  *t = std::thread([&vm, ms] {
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    vm.interrupt();
  });
}

// The result carries the interrupted goroutine's traceback: `in` is a
// line of it.
void expect_interrupted(weft::VM& vm, const char* fn, const std::string& in) {
  ASSERT_TRUE(vm.load_file(weft::testing::script("interrupt.wf")).ok());
  std::thread killer;
  interrupt_after(vm, 100, &killer);
  auto start = std::chrono::steady_clock::now();
  Result r = vm.call(fn);
  auto took = std::chrono::steady_clock::now() - start;
  killer.join();
  EXPECT_EQ(r.kind, Result::Runtime);
  EXPECT_EQ(r.message, "interrupted");
  EXPECT_NE(r.traceback.find(in), std::string::npos) << r.traceback;
  EXPECT_EQ(r.traceback.find("<host>"), std::string::npos) << r.traceback;  // no trampoline frames
  EXPECT_LT(took, std::chrono::seconds(5));
  EXPECT_EQ(vm.call("quick").value.to_int(), 1);  // a fresh run
}

TEST(Interrupt, StopsALoopWithCalls) {
  weft::VM vm;
  expect_interrupted(vm, "spin", "  at spin (");
}

// The loop never reaches a synchronous safe-point: asynchronous preemption
// stops it.
TEST(Interrupt, StopsACallFreeLoop) {
  weft::VM vm;
  expect_interrupted(vm, "spin_call_free", "  at spin_call_free (");
}

TEST(Interrupt, StopsAProgramAndEveryGoroutine) {
  weft::VM vm;
  std::thread killer;
  interrupt_after(vm, 100, &killer);
  Result r = vm.run_source("busy.wf",
                           "fn f(x) { return x }\n"
                           "for i in 0..4 { go fn() { while true { f(1) } }() }\n"
                           "while true { f(2) }\n");
  killer.join();
  EXPECT_EQ(r.kind, Result::Runtime);
  EXPECT_EQ(r.message, "interrupted");
  EXPECT_NE(r.traceback.find("  at main (busy.wf:3)\n"), std::string::npos) << r.traceback;
  EXPECT_TRUE(vm.wait_all().ok());
}

TEST(Interrupt, IdleVMIgnoresIt) {
  weft::VM vm;
  vm.interrupt();
  EXPECT_TRUE(vm.run_source("ok.wf", "let x = 1").ok());
}

}  // namespace
