// Unit tests of the scheduler core's pieces that need no running
// scheduler: the G status machine, the run queues under concurrent
// stealing, the futex notes, and the context switch (vm/arch).
#include <gtest/gtest.h>

#include <atomic>
#include <cfenv>
#include <thread>
#include <vector>

#include "vm/arch/context.h"
#include "vm/arch/stack.h"
#include "vm/interp/runtime.h"
#include "vm/sched/sched.h"

namespace weft::sched {
namespace {

// A "threadsafe" death test re-executes the test binary, which a binary
// emulated by qemu-user cannot do without binfmt_misc; there
// (WEFT_TESTS_EMULATED, tests/CMakeLists.txt) it only forks. ctest runs
// each test in a process of its own, so no other thread exists at the fork.
#ifdef WEFT_TESTS_EMULATED
constexpr const char* kDeathTestStyle = "fast";
#else
constexpr const char* kDeathTestStyle = "threadsafe";
#endif


TEST(Casgstatus, AcceptsGoTransitions) {
  G g;
  casgstatus(&g, _Gidle, _Gdead);
  casgstatus(&g, _Gdead, _Grunnable);
  casgstatus(&g, _Grunnable, _Grunning);
  casgstatus(&g, _Grunning, _Gsyscall);
  casgstatus(&g, _Gsyscall, _Grunning);
  casgstatus(&g, _Grunning, _Gwaiting);
  casgstatus(&g, _Gwaiting, _Grunnable);
  casgstatus(&g, _Grunnable, _Grunning);
  casgstatus(&g, _Grunning, _Gpreempted);
  EXPECT_TRUE(casGFromPreempted(&g, _Gpreempted, _Gwaiting));
  EXPECT_TRUE(castogscanstatus(&g, _Gwaiting, _Gwaiting | _Gscan));
  casfrom_Gscanstatus(&g, _Gwaiting | _Gscan, _Gwaiting);
  EXPECT_EQ(readgstatus(&g), uint32_t(_Gwaiting));
}

TEST(Casgstatus, TransitionTable) {
  EXPECT_TRUE(legal_transition(_Grunning, _Gwaiting));
  EXPECT_FALSE(legal_transition(_Gwaiting, _Grunning));  // must go through _Grunnable
  EXPECT_FALSE(legal_transition(_Gdead, _Grunning));
  EXPECT_FALSE(legal_transition(_Grunnable, _Gwaiting));
  EXPECT_FALSE(legal_transition(_Gpreempted, _Grunning));
}

TEST(Pstatus, StateMachine) {
  EXPECT_TRUE(legal_ptransition(_Pidle, _Prunning));
  EXPECT_TRUE(legal_ptransition(_Psyscall, _Pgcstop));
  EXPECT_TRUE(legal_ptransition(_Pgcstop, _Pidle));
  EXPECT_FALSE(legal_ptransition(_Pgcstop, _Prunning));  // a stopped P is made idle first
  EXPECT_FALSE(legal_ptransition(_Pidle, _Psyscall));    // only a running P enters a syscall
  EXPECT_FALSE(legal_ptransition(_Pidle, _Pidle));
}

TEST(CaspDeathTest, RejectsWrongAndIllegalTransitions) {
  GTEST_FLAG_SET(death_test_style, kDeathTestStyle);
  EXPECT_DEATH(
      {
        P p;
        p.id = 0;
        casp(&p, _Prunning, _Psyscall);  // p is idle
      },
      "P 0 from running to syscall, status is idle");
  EXPECT_DEATH(
      {
        P p;
        p.id = 1;
        casp(&p, _Pidle, _Psyscall);
      },
      "illegal transition");
  P p;
  p.id = 2;
  EXPECT_FALSE(trycasp(&p, _Psyscall, _Prunning));  // lost the race: nothing changes
  EXPECT_EQ(p.status.load(), uint32_t(_Pidle));
}

TEST(CasgstatusDeathTest, RejectsIllegalTransition) {
  GTEST_FLAG_SET(death_test_style, kDeathTestStyle);
  EXPECT_DEATH(
      {
        G g;
        casgstatus(&g, _Gidle, _Gdead);
        casgstatus(&g, _Gdead, _Gwaiting);
      },
      "illegal transition");
}

TEST(CasgstatusDeathTest, RejectsWrongFrom) {
  GTEST_FLAG_SET(death_test_style, kDeathTestStyle);
  EXPECT_DEATH(
      {
        G g;
        casgstatus(&g, _Grunnable, _Grunning);  // g is _Gidle
      },
      "bad from status");
}

TEST(Casgstatus, WaitsForScanBit) {
  G g;
  casgstatus(&g, _Gidle, _Gdead);
  casgstatus(&g, _Gdead, _Grunnable);
  ASSERT_TRUE(castogscanstatus(&g, _Grunnable, _Grunnable | _Gscan));
  std::atomic<bool> moved{false};
  std::thread t([&] {
    casgstatus(&g, _Grunnable, _Grunning);  // spins until the scan bit goes
    moved = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_FALSE(moved.load());
  casfrom_Gscanstatus(&g, _Grunnable | _Gscan, _Grunnable);
  t.join();
  EXPECT_TRUE(moved.load());
  EXPECT_EQ(readgstatus(&g), uint32_t(_Grunning));
}

// One owner pushes and pops; three thieves steal into their own Ps and
// drain them. Every G must come out exactly once (the overflow goes to the
// global queue, drained at the end).
TEST(Runq, ConcurrentStealing) {
  constexpr int kThieves = 3;
  constexpr int kGs = 200000;
  Sched s;
  s.nprocs = kThieves + 1;
  std::vector<P> ps(kThieves + 1);
  std::vector<G> gs(kGs);
  std::vector<std::atomic<int>> seen(kGs);
  auto index = [&](G* g) { return int(g - gs.data()); };
  std::atomic<bool> done{false};
  std::vector<std::thread> thieves;
  for (int k = 1; k <= kThieves; k++) {
    thieves.emplace_back([&, k] {
      P* me = &ps[size_t(k)];
      while (!done.load()) {
        if (G* g = runqsteal(me, &ps[0], true)) {
          seen[size_t(index(g))]++;
          while (G* h = runqget(me)) seen[size_t(index(h))]++;
        }
      }
      while (G* h = runqget(me)) seen[size_t(index(h))]++;
    });
  }
  for (int i = 0; i < kGs; i++) {
    runqput(&s, &ps[0], &gs[size_t(i)], i % 7 == 0);
    if (i % 3 == 0) {
      if (G* g = runqget(&ps[0])) seen[size_t(index(g))]++;
    }
  }
  while (G* g = runqget(&ps[0])) seen[size_t(index(g))]++;
  done = true;
  for (auto& t : thieves) t.join();
  {
    std::lock_guard lk(s.lock);
    while (G* g = globrunqget(&s, &ps[0], 1)) seen[size_t(index(g))]++;
  }
  int missing = 0, twice = 0;
  for (auto& n : seen) {
    if (n == 0) missing++;
    if (n > 1) twice++;
  }
  EXPECT_EQ(missing, 0);
  EXPECT_EQ(twice, 0);
  for (auto& p : ps) EXPECT_TRUE(runqempty(&p));
}

TEST(Runq, OverflowGoesToGlobalQueue) {
  Sched s;
  s.nprocs = 1;
  P p;
  std::vector<G> gs(300);
  for (auto& g : gs) runqput(&s, &p, &g, false);
  EXPECT_EQ(s.runqsize.load(), 129);  // half of 256, plus the one that did not fit
  int n = 0;
  while (runqget(&p)) n++;
  EXPECT_EQ(n, 300 - 129);
}

TEST(Note, SleepTimesOutAndWakes) {
  std::atomic<uint32_t> note{0};
  int64_t t0 = nanotime();
  EXPECT_FALSE(notesleep(&note, 2'000'000));
  EXPECT_GE(nanotime() - t0, 2'000'000);
  std::thread t([&] { notewakeup(&note); });
  EXPECT_TRUE(notesleep(&note, -1));
  t.join();
}

// ---- the context switch ----

struct Ping {
  arch::Context main, coro;
  int counter = 0;
  int coro_round = 0;
};

// The rounding mode is the part of the FP control register (MXCSR and the
// x87 control word on amd64, FPCR on arm64) weft_switch keeps per context.
void coro_entry(void* arg) {
  auto* p = static_cast<Ping*>(arg);
  std::fesetround(FE_DOWNWARD);  // in this context only
  for (;;) {
    p->counter++;
    p->coro_round = std::fegetround();
    weft_switch(&p->coro, &p->main);
  }
}

TEST(Context, RoundTripKeepsRegistersAndRoundingMode) {
  arch::StackPool pool;
  arch::NativeStack* st = pool.get();
  Ping p;
  arch::make_context(&p.coro, st->lo, st->size, coro_entry, &p);
  int before = std::fegetround();
  ASSERT_NE(before, FE_DOWNWARD);
  volatile double x = 1.5;  // lives across the switches
  for (int i = 1; i <= 1000; i++) {
    weft_switch(&p.main, &p.coro);
    ASSERT_EQ(p.counter, i);
    ASSERT_EQ(std::fegetround(), before);  // the coroutine's rounding mode stayed there
  }
  EXPECT_EQ(p.coro_round, FE_DOWNWARD);
  EXPECT_EQ(x, 1.5);
  pool.put(st);
}

TEST(Context, FreshStackIsAligned) {
  arch::StackPool pool;
  arch::NativeStack* st = pool.get();
  struct Probe {
    arch::Context main, coro;
    uintptr_t sp = 0;
  } probe;
  arch::make_context(&probe.coro, st->lo, st->size, [](void* a) {
    auto* pr = static_cast<Probe*>(a);
    alignas(16) char local[16];
    pr->sp = reinterpret_cast<uintptr_t>(local);
    weft_switch(&pr->coro, &pr->main);
  }, &probe);
  weft_switch(&probe.main, &probe.coro);
  EXPECT_EQ(probe.sp % 16, 0u);
  EXPECT_GT(probe.sp, reinterpret_cast<uintptr_t>(st->lo));
  EXPECT_LT(probe.sp, reinterpret_cast<uintptr_t>(st->lo) + st->size);
  pool.put(st);
}

// ---- whole runs (Runtime::run on the scheduler) ----

Value blocking_native(Thread*, Value*, int) {
  std::this_thread::sleep_for(std::chrono::milliseconds(60));  // no P held meanwhile
  return Value::inline_int(7);
}

// A kNativeBlocking native runs as a syscall: on one P, sysmon hands the
// P to another M and a ticking goroutine keeps running while it blocks.
TEST(Syscall, BlockingNativeHandsOffItsP) {
  RuntimeOptions o;
  o.procs = 1;
  Runtime rt(o);
  rt.define_native("blocking", blocking_native, 0, 0);
  Value fn = rt.globals[size_t(rt.find_global("blocking"))];
  fn.as_obj()->flags |= kNativeBlocking;
  Status st = rt.run("t.wf",
                     "let ticks = 0\n"
                     "go fn() { while true { ticks = ticks + 1; sleep(1) } }()\n"
                     "sleep(2)\n"
                     "let before = ticks\n"
                     "let r = blocking()\n"
                     "let during = ticks - before\n");
  ASSERT_TRUE(st.ok()) << st.message;
  EXPECT_EQ(rt.globals[size_t(rt.find_global("r"))], Value::inline_int(7));
  EXPECT_GT(rt.globals[size_t(rt.find_global("during"))].as_inline_int(), 10);
}

TEST(Run, DeadlockIsAFatalStatusAndTheRuntimeRunsAgain) {
  RuntimeOptions o;
  o.procs = 2;
  Runtime rt(o);
  Status st = rt.run("t.wf", "let c = chan()\ngo fn() { <-c }()\n<-c\n");
  EXPECT_EQ(st.kind, Status::Fatal);
  EXPECT_EQ(st.message, "all goroutines are asleep - deadlock!");
  st = rt.run("u.wf", "let x = 0\nfor i in 0..100 { go fn() { x = x + 1 }() }\nsleep(10)\n");
  EXPECT_TRUE(st.ok()) << st.message;
  EXPECT_EQ(current_sched(), nullptr);
}

}  // namespace
}  // namespace weft::sched
