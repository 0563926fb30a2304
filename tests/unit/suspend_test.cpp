// suspendG / resumeG (vm/sched/suspend.cpp) against each G status, the
// _Gscan bit holding off casgstatus, and a running goroutine driven to a
// synchronous safe-point from another thread. The test thread is not an M,
// so it may suspend anything. Anything that could hang runs under a
// watchdog that kills the process (alarm).
#include <gtest/gtest.h>

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "vm/interp/runtime.h"
#include "vm/sched/sched.h"

namespace weft::sched {
namespace {

using namespace std::chrono_literals;

struct Watchdog {
  explicit Watchdog(unsigned seconds) { alarm(seconds); }
  ~Watchdog() { alarm(0); }
};

// A G that is not running, with a VM state whose guard we can watch.
struct FakeG {
  explicit FakeG(uint32_t status) {
    t.stack = stack;
    t.stack_size = sizeof stack / sizeof stack[0];
    t.set_guard();
    g.vm = &t;
    g.atomicstatus.store(status);
  }
  Value stack[64];
  Thread t;
  G g;
};

TEST(SuspendG, DeadIsNotSuspended) {
  FakeG f(_Gdead);
  SuspendGState st = suspendG(&f.g);
  EXPECT_TRUE(st.dead);
  EXPECT_EQ(readgstatus(&f.g), uint32_t(_Gdead));
  resumeG(st);  // nothing to undo
  EXPECT_EQ(readgstatus(&f.g), uint32_t(_Gdead));
}

// _Grunnable, _Gsyscall, _Gwaiting: already at a safe-point; suspendG takes
// the scan bit, drops a pending request and un-poisons the guard.
class SuspendAtSafePoint : public ::testing::TestWithParam<uint32_t> {};

TEST_P(SuspendAtSafePoint, ClaimsTheScanBitAndClearsTheRequest) {
  uint32_t s = GetParam();
  FakeG f(s);
  f.g.preempt = true;
  f.g.preemptStop = true;
  f.t.stackguard.store(kStackPoison);
  SuspendGState st = suspendG(&f.g);
  EXPECT_FALSE(st.dead);
  EXPECT_FALSE(st.stopped);
  EXPECT_EQ(st.g, &f.g);
  EXPECT_EQ(readgstatus(&f.g), s | _Gscan);
  EXPECT_FALSE(f.g.preempt.load());
  EXPECT_FALSE(f.g.preemptStop.load());
  EXPECT_EQ(f.t.stackguard.load(), f.t.stack_limit());
  resumeG(st);
  EXPECT_EQ(readgstatus(&f.g), s);
}

INSTANTIATE_TEST_SUITE_P(Statuses, SuspendAtSafePoint,
                         ::testing::Values(uint32_t(_Grunnable), uint32_t(_Gsyscall), uint32_t(_Gwaiting)));

// While the scan bit is held, a status change spins; it completes after
// resumeG.
TEST(SuspendG, ScanBitHoldsOffCasgstatus) {
  Watchdog w(30);
  FakeG f(_Gwaiting);
  SuspendGState st = suspendG(&f.g);
  std::atomic<bool> done{false};
  std::thread waker([&] {
    casgstatus(&f.g, _Gwaiting, _Grunnable);
    done = true;
  });
  std::this_thread::sleep_for(20ms);
  EXPECT_FALSE(done.load());
  EXPECT_EQ(readgstatus(&f.g), uint32_t(_Gwaiting | _Gscan));
  resumeG(st);
  waker.join();
  EXPECT_TRUE(done.load());
  EXPECT_EQ(readgstatus(&f.g), uint32_t(_Grunnable));
}

// Two suspenders serialize: the second waits until the first resumes.
TEST(SuspendG, ConcurrentSuspendsSerialize) {
  Watchdog w(30);
  FakeG f(_Grunnable);
  SuspendGState first = suspendG(&f.g);
  std::atomic<bool> got{false};
  std::thread other([&] {
    SuspendGState second = suspendG(&f.g);
    got = true;
    resumeG(second);
  });
  std::this_thread::sleep_for(20ms);
  EXPECT_FALSE(got.load());
  resumeG(first);
  other.join();
  EXPECT_TRUE(got.load());
  EXPECT_EQ(readgstatus(&f.g), uint32_t(_Grunnable));
}

// The whole protocol on a live goroutine: the main G spins in a loop that
// calls a function; suspendG (from this thread) poisons its guard, the G
// parks itself _Gpreempted at its next call, suspendG claims it
// (stopped = true, frames still at a CALL), and resumeG readies it.
TEST(SuspendG, DrivesARunningGoroutineToASafePoint) {
  Watchdog w(60);
  Runtime rt;
  std::thread host([&] {
    Status st = rt.run("spin.wf",
                       "let stop = false\nlet n = 0\nfn f(x) { return x + 1 }\n"
                       "while !stop { n = f(n) }\n");
    EXPECT_TRUE(st.ok()) << st.message;
  });
  // Wait for the main goroutine to be running.
  G* main_g = nullptr;
  while (main_g == nullptr) {
    if (Sched* s = running_sched_of(&rt)) {  // (current_sched() is a goroutine's only)
      for_each_g(s, [&](G* g) {
        // The status first: its acquire orders newproc's write of is_main.
        if (readgstatus(g) == _Grunning && g->is_main) main_g = g;
      });
    }
    std::this_thread::yield();
  }
  int n_slot = rt.find_global("n");
  ASSERT_GE(n_slot, 0);
  auto n = [&] {
    Value v = rt.globals[size_t(n_slot)];
    return v.is_inline_int() ? v.as_inline_int() : 0;
  };
  while (n() < 1000) std::this_thread::yield();

  SuspendGState st = suspendG(main_g);
  EXPECT_FALSE(st.dead);
  EXPECT_TRUE(st.stopped);  // it was running: it parked _Gpreempted for us
  EXPECT_EQ(readgstatus(main_g), uint32_t(_Gwaiting | _Gscan));
  EXPECT_FALSE(main_g->preemptStop.load());
  EXPECT_NE(main_g->vm->stackguard.load(), kStackPoison);
  const Frame& top = thread_of(main_g)->frames.back();
  ASSERT_NE(top.closure, nullptr);
  EXPECT_NE(top.closure->proto->live_at(uint32_t(top.pc - top.closure->proto->code.data())), nullptr)
      << "stopped off a safe-point";
  int64_t frozen = n();
  std::this_thread::sleep_for(10ms);
  EXPECT_EQ(n(), frozen);  // it really is stopped

  resumeG(st);  // readies it
  while (n() <= frozen) std::this_thread::yield();
  rt.globals[size_t(rt.find_global("stop"))] = Value::boolean(true);
  host.join();
}

}  // namespace
}  // namespace weft::sched
