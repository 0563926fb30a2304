// Many VMs at once (docs/embedding.md#many-vms): each VM has its own
// scheduler and they share the collector. These tests run VMs side by side
// on their own host threads and check that they stay apart: results,
// globals, errors, deadlocks, interrupt() and heap limits of one never
// reach another, and that destroying VMs gives their memory back while
// another keeps running. Run under TSan (build-tsan) and ASan as well.
// Script: multivm.wf.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "tests/embed/embed_test.h"

namespace {

using weft::Arg;
using weft::Result;

#if defined(WEFT_ASAN) || defined(WEFT_TSAN)
constexpr int kScale = 4;  // a sanitizer runs 2-15x slower: fewer rounds
#else
constexpr int kScale = 1;
#endif

// A VM with multivm.wf loaded, `tenant` set and the natives host_add and
// ask (`ask`: asks another VM, when the test gives it) defined.
std::unique_ptr<weft::VM> make_vm(int tenant, weft::Config config = {}, weft::NativeFunction ask = nullptr) {
  auto vm = std::make_unique<weft::VM>(std::move(config));
  Result d = vm->define({"host_add", [](weft::NativeCall& c) -> Arg { return c.int_arg(0) + c.int_arg(1); }, 2, 2});
  EXPECT_TRUE(d.ok()) << d.message;
  if (!ask) ask = [](weft::NativeCall& c) -> Arg { c.raise("ask: no other VM"); };
  d = vm->define({"ask", std::move(ask), 1, 1});
  EXPECT_TRUE(d.ok()) << d.message;
  Result r = vm->load_file(weft::testing::script("multivm.wf"));
  EXPECT_TRUE(r.ok()) << r.message;
  EXPECT_TRUE(vm->set("tenant", tenant).ok());
  return vm;
}

// The expected total of work(tag, n): sum over i of host_add(i, 20).
int64_t work_total(int n) { return int64_t(n) * (n - 1) / 2 + 20 * int64_t(n); }

TEST(MultiVM, EightVMsOnEightHostThreads) {
  constexpr int kVMs = 8;
  const int kCalls = 120 / kScale;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kVMs; t++) {
    threads.emplace_back([&, t] {
      weft::Config config;
      config.procs = 2;
      config.gc_percent = 10;  // collections all along
      auto vm = make_vm(t, config);
      for (int c = 0; c < kCalls; c++) {
        std::string tag = "v" + std::to_string(t) + "c" + std::to_string(c);
        int n = 1 + c % 12;
        Result r = vm->call("work", {tag, n});
        bool good = r.ok() && r.value.get("tag")->to_string() == tag &&
                    r.value.get("total")->to_int() == work_total(n) && r.value.get("tenant")->to_int() == t;
        if (!good) {
          failures++;
          ADD_FAILURE() << "vm " << t << " call " << c << ": " << r.message;
        }
        if (c % 40 == 0) vm->collect();
      }
      if (vm->get("tenant").value.to_int() != t) failures++;  // nobody else's globals
      if (vm->gc_stats().collections == 0) failures++;
      if (!vm->wait_all().ok()) failures++;
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST(MultiVM, HandlesDoNotCrossVMs) {
  auto a = make_vm(1);
  auto b = make_vm(2);
  Result r = a->call("work", {"a", 3});
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_EQ(b->call("double", {r.value}).kind, Result::Misuse);  // a's value in b
  EXPECT_EQ(b->set("x", r.value).kind, Result::Misuse);
  EXPECT_EQ(b->call(a->get("double").value, {1}).kind, Result::Misuse);
}

// A native of VM a calls a function of VM b, from goroutines on a's
// scheduler threads and from a call running on the host thread.
TEST(MultiVM, NativeCallsIntoAnotherVM) {
  weft::Config config;
  config.procs = 2;
  auto b = make_vm(2, config);
  weft::Handle twice = b->get("double").value;
  weft::VM* other = b.get();
  auto a = make_vm(1, config, [other, twice](weft::NativeCall& c) -> Arg {
    Result r = other->call(twice, {c.int_arg(0)});
    if (!r.ok()) c.raise("ask: " + r.message);
    return *r.value.to_int();
  });
  for (int round = 0; round < 20; round++) {
    int n = 1 + round;
    Result r = a->call("ask_many", {n});
    ASSERT_TRUE(r.ok()) << r.message << r.traceback;
    EXPECT_EQ(r.value.to_int(), int64_t(n) * (n - 1));  // sum of 2 * i
  }
  Result direct = a->call("ask", {21});  // the native runs on this (host) thread
  ASSERT_TRUE(direct.ok()) << direct.message;
  EXPECT_EQ(direct.value.to_int(), 42);
  // A script function run by a host call (on this thread) whose native calls b.
  Result here = a->call("ask_here", {10});
  ASSERT_TRUE(here.ok()) << here.message;
  EXPECT_EQ(here.value.to_int(), 21);
  EXPECT_EQ(b->call("double", {5}).value.to_int(), 10);  // b is fine
  EXPECT_EQ(a->call("double", {6}).value.to_int(), 12);
}

// A host call of VM b from a native of VM a that is itself running in a
// host call of a (on the host's thread), and from a's goroutines, with
// both VMs under preemption stress: b's function calls back into a through
// a native of its own (a -> b -> a), so every hop leaves one VM's P and
// takes another's while the signals land. a.ask_here(x) = b.ask_here(x) + 1
// = a.double(x) + 2.
TEST(MultiVM, NativeInAHostCallCallsAnotherVMUnderPreemptStress) {
  weft::Config config;
  config.procs = 2;
  config.preempt_stress = true;
  std::atomic<weft::VM*> a_vm{nullptr};
  weft::Handle a_double;  // set before any call reaches b's ask
  auto b = make_vm(2, config, [&a_vm, &a_double](weft::NativeCall& c) -> Arg {
    Result r = a_vm.load()->call(a_double, {c.int_arg(0)});
    if (!r.ok()) c.raise("ask a: " + r.message);
    return *r.value.to_int();
  });
  weft::Handle b_ask_here = b->get("ask_here").value;
  weft::VM* other = b.get();
  auto a = make_vm(1, config, [other, b_ask_here](weft::NativeCall& c) -> Arg {
    Result r = other->call(b_ask_here, {c.int_arg(0)});
    if (!r.ok()) c.raise("ask b: " + r.message);
    return *r.value.to_int();
  });
  a_double = a->get("double").value;
  a_vm = a.get();
  const int kRounds = 1000 / kScale;
  std::atomic<int> failures{0};
  std::vector<std::thread> callers;
  for (int t = 0; t < 2; t++) {
    callers.emplace_back([&, t] {
      for (int i = 0; i < kRounds; i++) {
        int x = t * 1000 + i;
        Result r = a->call("ask_here", {x});  // runs on this thread: the native is in a host call
        if (!r.ok() || r.value.to_int() != 2 * x + 2) {
          failures++;
          ADD_FAILURE() << "caller " << t << " round " << i << ": " << r.message << r.traceback;
        }
      }
    });
  }
  callers.emplace_back([&] {
    for (int i = 0; i < kRounds / 10; i++) {
      int n = 1 + i % 8;
      Result r = a->call("ask_many", {n});  // a's goroutines: sum of b.ask_here(i) = 2i + 1
      if (!r.ok() || r.value.to_int() != int64_t(n) * n) {
        failures++;
        ADD_FAILURE() << "ask_many(" << n << "): " << r.message << r.traceback;
      }
    }
  });
  for (auto& th : callers) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(b->call("double", {5}).value.to_int(), 10);  // both still answer
  EXPECT_EQ(a->call("double", {6}).value.to_int(), 12);
}

// new_object, set_slot (a string: made on b's heap) and function on VM b
// from natives of VM a, on a's goroutines and in a host call on the host's
// thread: each is made as a host thread's request of b, as a call across
// is (docs/embedding.md#many-vms). They were Misuse. b collects all along;
// every Box made is finalized once, by b's destruction at the latest.
// a.ask(x) = use(box, unbox) + 1 = 2x + 1.
TEST(MultiVM, NativeMakesObjectsAndFunctionsInAnotherVM) {
  weft::Config config;
  config.procs = 2;
  config.gc_percent = 10;
  auto b = make_vm(2, config);
  std::atomic<int> made{0}, finalized{0};
  weft::HostType box;
  weft::HostTypeDef def;
  def.name = "Box";
  def.finalizer = [&finalized](void* p) {
    delete static_cast<int64_t*>(p);
    finalized++;
  };
  ASSERT_TRUE(b->define_type(def, &box).ok());
  ASSERT_TRUE(b->load_source("use.wf", "fn use(box, f) { return f(box) }\n").ok());
  weft::Handle use = b->get("use").value;
  weft::VM* other = b.get();
  auto a = make_vm(1, config, [other, box, use, &made](weft::NativeCall& c) -> Arg {
    int64_t x = c.int_arg(0);
    Result o = other->new_object(box, new int64_t(x), 1);
    if (!o.ok()) c.raise("new_object: " + o.message);
    made++;
    std::string text = "slot " + std::to_string(x);
    Result s = other->set_slot(o.value, 0, text);
    if (!s.ok()) c.raise("set_slot: " + s.message);
    Result f = other->function(
        {"unbox", [box](weft::NativeCall& u) -> Arg { return *u.object_arg<int64_t>(0, box) * 2; }, 1, 1});
    if (!f.ok()) c.raise("function: " + f.message);
    Result r = other->call(use, {o.value, f.value});
    if (!r.ok()) c.raise("use: " + r.message);
    if (o.value.slot(0).value_or(weft::Handle()).to_string() != text) c.raise("slot 0 lost");
    return *r.value.to_int() + 1;
  });
  for (int round = 0; round < 20 / kScale; round++) {
    int n = 1 + round % 8;
    Result many = a->call("ask_many", {n});  // on a's goroutines
    ASSERT_TRUE(many.ok()) << many.message << many.traceback;
    EXPECT_EQ(many.value.to_int(), int64_t(n) * n);
    Result here = a->call("ask_here", {round});  // in a host call, on this thread
    ASSERT_TRUE(here.ok()) << here.message << here.traceback;
    EXPECT_EQ(here.value.to_int(), 2 * round + 2);
    if (round % 5 == 0) {
      ASSERT_TRUE(b->collect().ok());
    }
  }
  EXPECT_EQ(b->call("double", {5}).value.to_int(), 10);
  a.reset();
  b.reset();
  EXPECT_GT(made.load(), 0);
  EXPECT_EQ(finalized.load(), made.load());
}

// A host call of VM b made while a stop-the-world is in progress: a's
// collection waits for a call-free loop of a's (async_preempt off, so only
// the loop's end stops it), b's goroutines already stopped. b's call finds
// the world stopping and waits for the stop to end: it returns, with its
// result, only after a's loop did. b, started after a with async_preempt
// on, leaves a's setting alone (it is per VM: else the loop would be
// preempted at once and the test skipped).
TEST(MultiVM, HostCallWhileAnotherVMStopsTheWorld) {
  weft::Config off;
  off.procs = 2;
  off.async_preempt = false;
  auto a = make_vm(1, off);
  auto b = make_vm(2);
  ASSERT_EQ(b->call("double", {1}).value.to_int(), 2);  // b's scheduler runs
  weft::Task spinner = a->spawn("spin_for", {900'000'000 / kScale});
  ASSERT_TRUE(spinner.valid());
  std::this_thread::sleep_for(std::chrono::milliseconds(30));  // it holds a P
  std::thread collector([&a] { a->collect(); });
  // The stop waits for the loop. Long enough for the collector thread to
  // have begun it on a loaded machine (at 100 ms, a TSan run once called b
  // before the stop began: spun_first false); the loop runs for 3-4 s.
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  Result r = b->call("double", {21});
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_EQ(r.value.to_int(), 42);
  bool spun_first = a->get("spun").value.to_bool().value_or(false);
  collector.join();
  Result s = spinner.wait();
  ASSERT_TRUE(s.ok()) << s.message;
  EXPECT_TRUE(spun_first);  // (true also when the loop ended first: no false failure)
}

// VM a deadlocks while VM b keeps running and collecting: only a's call
// reports it, and b's work is undisturbed (deadlock detection is per VM).
TEST(MultiVM, DeadlockOfOneVMWhileAnotherRuns) {
  weft::Config config;
  config.procs = 2;
  config.gc_percent = 5;
  auto b = make_vm(2, config);
  std::atomic<bool> done{false};
  std::atomic<int> b_failures{0}, b_calls{0};
  std::thread busy([&] {
    while (!done.load()) {
      Result r = b->call("churn", {20});
      if (!r.ok() || r.value.to_int() != 20 * 200) b_failures++;
      b_calls++;
    }
  });
  auto a = make_vm(1, config);
  for (int i = 0; i < 3; i++) {
    Result r = a->run_source("dead.wf", "let c = chan()\ngo fn() { <-c }()\n<-c\n");
    EXPECT_EQ(r.kind, Result::Deadlock) << r.message;
    EXPECT_EQ(r.message, "all goroutines are asleep - deadlock!");
    EXPECT_NE(r.traceback.find("[chan receive]"), std::string::npos) << r.traceback;
  }
  EXPECT_EQ(a->call("double", {4}).value.to_int(), 8);  // a runs again
  done = true;
  busy.join();
  EXPECT_EQ(b_failures.load(), 0);
  EXPECT_GT(b_calls.load(), 0);
}

// a's goroutine spins on a scheduler thread of a's: b's program, whose
// goroutines all block, is still a deadlock (of b alone).
TEST(MultiVM, ABusyVMDoesNotHideAnotherVMsDeadlock) {
  auto a = make_vm(1);
  weft::Task spinning = a->spawn("churn", {1000000000});
  ASSERT_TRUE(spinning.valid());
  auto b = make_vm(2);
  Result r = b->run_source("d.wf", "let c = chan()\n<-c\n");
  EXPECT_EQ(r.kind, Result::Deadlock) << r.message;
  EXPECT_EQ(b->call("double", {3}).value.to_int(), 6);
  a->interrupt();
  EXPECT_EQ(spinning.wait().kind, Result::Runtime);
}

// interrupt() of a stops a's call-free loop; b's call in progress and
// later ones go on.
TEST(MultiVM, InterruptOfOneVMLeavesAnotherRunning) {
#ifdef WEFT_TSAN
  GTEST_SKIP() << "a call-free loop needs asynchronous preemption, off under TSan";
#endif
  auto a = make_vm(1);
  auto b = make_vm(2);
  std::thread spinner([&] {
    Result r = a->call("spin");
    EXPECT_EQ(r.kind, Result::Runtime);
    EXPECT_EQ(r.message, "interrupted");
  });
  std::atomic<bool> stop{false};
  std::atomic<int> b_ok{0}, b_bad{0};
  std::thread worker([&] {
    while (!stop.load()) {
      Result r = b->call("work", {"b", 5});
      if (r.ok() && r.value.get("total")->to_int() == work_total(5)) b_ok++;
      else b_bad++;
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  a->interrupt();
  spinner.join();
  int before = b_ok.load();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  stop = true;
  worker.join();
  EXPECT_EQ(b_bad.load(), 0);
  EXPECT_GT(b_ok.load(), before);  // b kept answering after a's interrupt
  EXPECT_EQ(a->call("double", {2}).value.to_int(), 4);
}

// A goroutine of a fails (the run ends, as Go's program would): b is
// untouched.
TEST(MultiVM, ErrorOfOneVMLeavesAnotherRunning) {
  auto a = make_vm(1);
  auto b = make_vm(2);
  Result w = b->call("work", {"b", 4});
  ASSERT_TRUE(w.ok());
  Result r = a->run_source("fail.wf", "go fn() { let x = nil + 1 }()\nsleep(1000)\n");
  EXPECT_EQ(r.kind, Result::Runtime);
  Result w2 = b->call("work", {"b", 4});
  ASSERT_TRUE(w2.ok()) << w2.message;
  EXPECT_EQ(w2.value.get("total")->to_int(), work_total(4));
}

// Heap limits are per VM: b's 48 MiB of live data does not count against
// a's 16 MiB limit; a's allocation bomb runs out of memory, b's data stays.
TEST(MultiVM, HeapLimitIsPerVM) {
  auto b = make_vm(2);
  Result kept = b->call("keep", {48});
  ASSERT_TRUE(kept.ok()) << kept.message;
  weft::Config limited;
  limited.heap_limit = 16u << 20;
  auto a = make_vm(1, limited);
  for (int i = 0; i < 5; i++) {
    Result r = a->call("churn", {50});  // collects, a few KiB live
    ASSERT_TRUE(r.ok()) << r.message;
    ASSERT_TRUE(a->collect().ok());
  }
  EXPECT_LT(a->gc_stats().live_bytes, limited.heap_limit);
  EXPECT_GT(b->gc_stats().live_bytes, 45u << 20);  // 48 * 64 strings of 16,000 bytes
  Result bomb = a->call("bomb");
  EXPECT_EQ(bomb.kind, Result::Runtime);
  EXPECT_EQ(bomb.message, "out of memory");
  EXPECT_EQ(b->call("keep", {0}).value.to_int(), 48 * 64);  // b's hoard is whole
  EXPECT_TRUE(b->call("work", {"b", 3}).ok());
}

// Stops and joins a helper thread however the test ends (an ASSERT returns early).
struct StopAndJoin {
  std::atomic<bool>& done;
  std::thread& thread;
  ~StopAndJoin() {
    done = true;
    if (thread.joinable()) thread.join();
  }
};

long resident_bytes() {
  FILE* f = std::fopen("/proc/self/statm", "r");
  long pages = 0, resident = 0;
  if (f == nullptr) return 0;
  if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
  std::fclose(f);
  return resident * sysconf(_SC_PAGESIZE);
}

// 1,000 VMs made, run (goroutines, collections, host calls) and destroyed
// one after another while another VM keeps running: the process's resident
// memory after the last is within 10% of what it was after the first 100
// (a leak of a VM's heap, scheduler, threads or natives would grow it by
// the cycle).
// RSS is read with the keeper quiet (its calls paused) after 8 collections:
// bdwgc returns a free heap block to the OS once it has stayed free through
// 6 collections (GC_unmap_threshold). Read while the keeper allocated, or
// after only 2 collections, RSS was the heap's high-water mark (13-27 MiB
// with 0.1 MiB live), and the check failed 4 runs in 8 with nothing leaked.
TEST(MultiVM, ThousandCreateDestroyCyclesKeepMemoryBounded) {
  const int kCycles = 1000, kWarm = 100;
  weft::Config config;
  config.procs = 2;
  auto keeper = make_vm(0, config);
  std::atomic<bool> done{false}, pause{false}, paused{false};
  std::atomic<int> keeper_bad{0};
  std::thread busy([&] {
    while (!done.load()) {
      if (pause.load()) {
        paused = true;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        continue;
      }
      paused = false;
      Result r = keeper->call("work", {"k", 4});
      if (!r.ok() || r.value.get("total")->to_int() != work_total(4)) keeper_bad++;
    }
  });
  StopAndJoin stop_busy{done, busy};
  auto quiet_resident = [&] {
    pause = true;
    while (!paused.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    for (int k = 0; k < 8; k++) EXPECT_TRUE(keeper->collect().ok());
    long rss = resident_bytes();
    pause = false;
    return rss;
  };
  long warm = 0, peak = 0;
  for (int i = 0; i < kCycles; i++) {
    {
      auto vm = make_vm(i, config);
      Result r = vm->call("work", {"t", 8});
      ASSERT_TRUE(r.ok()) << r.message;
      ASSERT_EQ(r.value.get("total")->to_int(), work_total(8));
      ASSERT_TRUE(vm->call("churn", {10}).ok());
      if (i % 10 == 0) {
        ASSERT_TRUE(vm->collect().ok());
      }
    }
    if (i == kWarm) warm = quiet_resident();
    if (i > kWarm) peak = std::max(peak, resident_bytes());
  }
  long end = quiet_resident();  // the last VMs' objects go
  done = true;
  busy.join();  // (StopAndJoin's join is for an early return)
  EXPECT_EQ(keeper_bad.load(), 0);
  ASSERT_GT(warm, 0);
  std::printf("resident: %.1f MiB after %d cycles, %.1f MiB after %d (peak %.1f MiB)\n", double(warm) / (1 << 20),
              kWarm, double(end) / (1 << 20), kCycles, double(peak) / (1 << 20));
#ifdef WEFT_ASAN
  // ASan's quarantine keeps freed memory resident (256 MiB by default):
  // RSS grew 129 -> 334 MiB over the cycles with no leak; LSan, at exit,
  // is the leak check there.
  (void)end;
#else
  EXPECT_LE(end, warm + warm / 10);
#endif
}

}  // namespace
