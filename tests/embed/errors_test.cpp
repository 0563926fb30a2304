// Every failure comes back as a Result: compile errors, runtime errors with
// their traceback, deadlocks, a goroutine the host did not start failing,
// and host misuse (another VM running goroutines, handles of other or
// destroyed VMs). Script: errors.wf.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "tests/embed/embed_test.h"

namespace {

using weft::Result;

class Errors : public ::testing::Test {
 protected:
  void SetUp() override {
    Result r = vm.load_file(weft::testing::script("errors.wf"));
    ASSERT_TRUE(r.ok()) << r.message;
  }
  weft::VM vm;
};

TEST_F(Errors, CompileErrors) {
  Result r = vm.load_source("bad.wf", "let x = \nfn (");
  EXPECT_EQ(r.kind, Result::Compile);
  EXPECT_NE(r.message.find("bad.wf:"), std::string::npos) << r.message;
  EXPECT_EQ(vm.check_source("ok.wf", "let y = 1").kind, Result::Ok);
  EXPECT_EQ(vm.load_file("/no/such/file.wf").kind, Result::Io);
}

TEST_F(Errors, RuntimeErrorsCarryTheTraceback) {
  Result r = vm.call("outer");
  ASSERT_EQ(r.kind, Result::Runtime);
  EXPECT_EQ(r.message, "index out of range [10] with length 2");
  EXPECT_NE(r.traceback.find("  at inner (" + weft::testing::script("errors.wf") + ":2)\n  at outer ("),
            std::string::npos)
      << r.traceback;
  EXPECT_EQ(r.traceback.find("<host>"), std::string::npos);
  EXPECT_EQ(vm.call("sum2", {1}).message, "sum2 expects 2 arguments, got 1");
  Result n = vm.call("sum2", {1, 2});  // usable after errors
  EXPECT_EQ(n.value.to_int(), 3);
}

TEST_F(Errors, DeadlockIsAResultAndTheVMGoesOn) {
  Result r = vm.call("stuck");
  EXPECT_EQ(r.kind, Result::Deadlock);
  EXPECT_EQ(r.message, "all goroutines are asleep - deadlock!");
  EXPECT_EQ(vm.call("sum2", {2, 2}).value.to_int(), 4);
  // The stuck goroutine is still parked: waiting for all of them is a deadlock too.
  EXPECT_EQ(vm.wait_all().kind, Result::Deadlock);
  Result prog = vm.run_source("p.wf", "let c = chan()\n<-c\n");
  EXPECT_EQ(prog.kind, Result::Deadlock);
}

// Another host thread may be about to send: within the grace period a
// waiting call is not declared deadlocked; past it, it is.
TEST(ErrorsGrace, OtherHostThreadsGetTheGracePeriod) {
  weft::Config config;
  config.deadlock_grace_ns = 200'000'000;
  weft::VM vm(config);
  ASSERT_TRUE(vm.load_file(weft::testing::script("errors.wf")).ok());
  for (int pause_ms : {0, 20, 60}) {
    std::thread sender([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms));
      vm.call("send", {pause_ms});
    });
    Result r = vm.call("receive");
    sender.join();
    ASSERT_TRUE(r.ok()) << pause_ms << ": " << r.message;
    EXPECT_EQ(r.value.to_int(), pause_ms);
  }
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(vm.call("receive").kind, Result::Deadlock);  // nobody sends
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(200));
}

TEST(ErrorsIdle, AnIdleVMIsNotDeadlocked) {
  weft::VM vm;
  EXPECT_TRUE(vm.wait_all().ok());
  ASSERT_TRUE(vm.load_source("a.wf", "fn f() { return 1 }").ok());
  EXPECT_TRUE(vm.wait_all().ok());
  EXPECT_EQ(vm.call("f").value.to_int(), 1);
}

// As in Go, an error in a goroutine nobody waits for ends the run: the
// call waiting meanwhile gets it; the next call starts afresh.
TEST_F(Errors, AFailingScriptGoroutineEndsTheRun) {
  Result r = vm.call("background_failure");
  ASSERT_EQ(r.kind, Result::Runtime);
  EXPECT_EQ(r.message, "a goroutine failed");
  EXPECT_EQ(vm.call("sum2", {1, 1}).value.to_int(), 2);
}

TEST_F(Errors, ProgramsEndTheirGoroutines) {
  Result r = vm.run_source("prog.wf", "let done = chan()\ngo fn() { sleep(100000) }()\nlet z = 7\n");
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_TRUE(vm.wait_all().ok());  // the sleeper is gone with the program
  EXPECT_EQ(vm.get("z").value.to_int(), 7);
}

TEST_F(Errors, AnotherVMRunsWhileThisOnesSchedulerIsUp) {
  ASSERT_TRUE(vm.call("sum2", {1, 1}).ok());  // this VM's scheduler is up
  weft::VM other;
  EXPECT_TRUE(other.run_source("o.wf", "let x = 1\ngo fn() { x = 2 }()\nsleep(1)").ok());
  EXPECT_EQ(other.get("x").value.to_int(), 2);
  EXPECT_EQ(vm.call("sum2", {2, 3}).value.to_int(), 5);  // undisturbed
}

TEST_F(Errors, HandlesOfOtherAndDestroyedVMs) {
  weft::Handle arr;
  {
    weft::VM other;
    // set() needs no scheduler (this VM's is running): it stops the world.
    ASSERT_TRUE(other.set("a", weft::Arg::array({1, 2})).ok());
    arr = other.get("a").value;
    EXPECT_EQ(arr.repr(), "[1, 2]");
    EXPECT_EQ(vm.call("sum2", {arr, 1}).kind, Result::Misuse);  // another VM's handle
  }
  EXPECT_TRUE(arr.expired());
  EXPECT_FALSE(arr.to_array());
  EXPECT_EQ(arr.repr(), "");
  EXPECT_EQ(vm.call("sum2", {arr, 1}).kind, Result::Misuse);
  weft::Handle copy = arr;  // copying and dropping stay safe
  EXPECT_TRUE(copy.expired());
}

}  // namespace
