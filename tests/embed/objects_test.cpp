// Host objects (VM::define_type, new_object, set_slot): type names, printing,
// identity, map keys, methods, traced slots, and finalizers that run exactly
// once (after the object died, on the finalizer thread; or at the VM's
// destruction). Script: objects.wf.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/embed/embed_test.h"

namespace {

using weft::Arg;
using weft::NativeCall;
using weft::Result;

struct Counter {
  int64_t id;
  int64_t n;
};

// What the finalizers saw: each id once, and on which thread.
struct Finalized {
  std::mutex mu;
  std::map<int64_t, int> times;  // id -> finalizer runs
  std::vector<std::thread::id> threads;
  size_t count() {
    std::lock_guard lk(mu);
    return times.size();
  }
  int max_times() {
    std::lock_guard lk(mu);
    int m = 0;
    for (auto& [id, n] : times) m = std::max(m, n);
    return m;
  }
};

// A VM with the Counter type and its natives; the finalizer records into
// `fin`, which outlives the VM.
struct Host {
  explicit Host(std::shared_ptr<Finalized> f, weft::Config config = {}) : fin(std::move(f)), vm(config) {
    weft::HostTypeDef def;
    def.name = "Counter";
    def.finalizer = [fin = fin](void* p) {
      auto* c = static_cast<Counter*>(p);
      {
        std::lock_guard lk(fin->mu);
        fin->times[c->id]++;
        fin->threads.push_back(std::this_thread::get_id());
      }
      delete c;
    };
    def.methods = {
        {"add", [](NativeCall& c) -> Arg { return c.self<Counter>()->n += c.int_arg(0); }, 1, 1},
        {"get", [](NativeCall& c) -> Arg { return c.self<Counter>()->n; }, 0, 0},
    };
    Result r = vm.define_type(std::move(def), &type);
    EXPECT_TRUE(r.ok()) << r.message;
    EXPECT_TRUE(vm.define({{"make_counter", [this](NativeCall& c) -> Arg {
                              auto* k = new Counter{next_id++, c.int_arg(0)};
                              Result o = c.vm().new_object(type, k, 1);
                              if (!o.ok()) {
                                delete k;
                                c.raise(o.message);
                              }
                              return o.value;
                            }, 1, 1},
                           {"counter_value", [this](NativeCall& c) -> Arg {
                              return c.object_arg<Counter>(0, type)->n;
                            }, 1, 1},
                           {"link", [](NativeCall& c) -> Arg {
                              Result r = c.vm().set_slot(c.arg(0), 0, c.arg(1));
                              if (!r.ok()) c.raise(r.message);
                              return {};
                            }, 2, 2}})
                    .ok());
    Result l = vm.load_file(weft::testing::script("objects.wf"));
    EXPECT_TRUE(l.ok()) << l.message;
  }
  std::string str(const char* fn, std::vector<Arg> args = {}) {
    Result r = vm.call(fn, std::move(args));
    return r.ok() ? r.value.repr() : to_string(r.kind) + std::string(": ") + r.message;
  }
  // Collects until the finalizers ran for `want` objects (they run on the
  // finalizer thread, after the collection): false after 10 s.
  bool finalized(size_t want) {
    for (int i = 0; i < 1000; i++) {
      if (fin->count() >= want) return fin->count() == want;
      vm.collect();
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }
  std::shared_ptr<Finalized> fin;
  std::atomic<int64_t> next_id{0};
  weft::VM vm;
  weft::HostType type;
};

TEST(HostObjects, TypePrintIdentity) {
  auto fin = std::make_shared<Finalized>();
  Host h(fin);
  Result c = h.vm.call("make_counter", {3});
  ASSERT_TRUE(c.ok()) << c.message;
  EXPECT_EQ(c.value.type(), weft::Type::Object);
  EXPECT_STREQ(weft::type_name(weft::Type::Object), "object");
  EXPECT_EQ(c.value.type_name(), "Counter");
  EXPECT_EQ(h.type.name(), "Counter");
  EXPECT_EQ(c.value.repr(), "<Counter>");
  EXPECT_EQ(h.str("kind", {c.value}), "Counter");
  EXPECT_EQ(h.str("show", {c.value}), "<Counter>");
  EXPECT_EQ(h.str("same", {c.value, c.value}), "[true, false]");
  EXPECT_EQ(h.str("fresh_pair"), "[false, true, true]");
  ASSERT_NE(c.value.object<Counter>(h.type), nullptr);
  EXPECT_EQ(c.value.object<Counter>(h.type)->n, 3);
  EXPECT_EQ(weft::Handle().object<Counter>(h.type), nullptr);
  EXPECT_FALSE(c.value.slot(1).has_value());
  EXPECT_TRUE(c.value.slot(0)->is_nil());
}

TEST(HostObjects, Methods) {
  auto fin = std::make_shared<Finalized>();
  Host h(fin);
  Result c = h.vm.call("make_counter", {10});
  ASSERT_TRUE(c.ok()) << c.message;
  EXPECT_EQ(h.str("use", {c.value}), "[17, \"function\", \"<function Counter.add>\", 17]");
  EXPECT_EQ(c.value.object<Counter>(h.type)->n, 17);
}

TEST(HostObjects, Errors) {
  auto fin = std::make_shared<Finalized>();
  Host h(fin);
  Result c = h.vm.call("make_counter", {0});
  ASSERT_TRUE(c.ok()) << c.message;
  EXPECT_EQ(h.str("as_key", {c.value}), "runtime error: invalid map key type: Counter");
  EXPECT_EQ(h.str("read_field", {c.value}), "runtime error: Counter has no field 'nope' (local 'c')");
  EXPECT_EQ(h.str("read_index", {c.value}), "runtime error: cannot index Counter with int (local 'c')");
  EXPECT_EQ(h.str("write_field", {c.value}), "runtime error: cannot set field 'count' of Counter (local 'c')");
  EXPECT_EQ(h.str("wrong_arg"), "runtime error: counter_value: expected Counter, got int");
  EXPECT_EQ(h.str("bad_arity", {c.value}), "runtime error: Counter.add expects 1 argument, got 0");
  // A host object is no valid map key from the host either.
  EXPECT_EQ(h.vm.call("show", {Arg::map({{c.value, 1}})}).message, "argument: invalid map key type");
}

// A host object is no map key however a map is given one: indexing,
// assigning, compound assignment, has and delete all raise the same error;
// and operators name its type as they do a map's.
TEST(HostObjects, NotAMapKeyAnywhere) {
  auto fin = std::make_shared<Finalized>();
  Host h(fin);
  Result c = h.vm.call("make_counter", {0});
  ASSERT_TRUE(c.ok()) << c.message;
  std::string e = "\"invalid map key type: Counter\"";
  EXPECT_EQ(h.str("key_uses", {c.value}), "[" + e + ", " + e + ", " + e + ", " + e + ", " + e + ", 1]");
  EXPECT_EQ(h.str("misuses", {c.value}),
            "[\"invalid operation: Counter < Counter\", \"invalid operation: Counter + int\", "
            "\"len: expected string, array, map or channel, got Counter\", \"invalid operation: Counter < Counter\"]");
}

TEST(HostObjects, Prints) {
  auto fin = std::make_shared<Finalized>();
  std::string out;
  weft::Config config;
  config.on_out = [&out](std::string_view s) { out += s; };
  {
    Host h(fin, config);
    Result c = h.vm.call("make_counter", {0});
    ASSERT_TRUE(h.vm.call("print_it", {c.value}).ok());
  }
  EXPECT_EQ(out, "<Counter> [<Counter>] {\"k\": <Counter>}\n");
}

TEST(HostObjects, Refusals) {
  auto fin = std::make_shared<Finalized>();
  Host h(fin);
  weft::HostType t;
  EXPECT_EQ(h.vm.define_type({}, &t).message, "a host type needs a name");
  EXPECT_EQ(h.vm.define_type({"T", nullptr, {{"m", nullptr}}}, &t).message,
            "type T: a native needs a name and a function");
  EXPECT_FALSE(t.valid());
  EXPECT_EQ(h.vm.new_object(t, nullptr).message, "new_object: a type this VM did not define");
  weft::VM other;
  EXPECT_EQ(other.new_object(h.type, nullptr).message, "new_object: a type this VM did not define");
  Result c = h.vm.new_object(h.type, new Counter{-1, 0}, 2);
  ASSERT_TRUE(c.ok()) << c.message;
  EXPECT_EQ(h.vm.set_slot(c.value, 2, 1).message, "set_slot: no slot 2 (the object has 2)");
  EXPECT_EQ(h.vm.set_slot(h.vm.call("kind", {1}).value, 0, 1).message, "set_slot: not a host object of this VM");
  EXPECT_EQ(other.set_slot(c.value, 0, 1).message, "set_slot: not a host object of this VM");
}

// Slots from the host thread: values that need the heap (made with the
// world stopped) and values that do not.
TEST(HostObjects, SlotsFromTheHost) {
  auto fin = std::make_shared<Finalized>();
  Host h(fin);
  Result c = h.vm.new_object(h.type, new Counter{-1, 0}, 3);
  ASSERT_TRUE(c.ok()) << c.message;
  ASSERT_TRUE(h.vm.set_slot(c.value, 0, "text").ok());
  ASSERT_TRUE(h.vm.set_slot(c.value, 1, std::vector<int>{1, 2}).ok());
  ASSERT_TRUE(h.vm.set_slot(c.value, 2, 7).ok());
  h.vm.collect();
  EXPECT_EQ(c.value.slot(0)->to_string(), "text");
  EXPECT_EQ(c.value.slot(1)->repr(), "[1, 2]");
  EXPECT_EQ(c.value.slot(2)->to_int(), 7);
  ASSERT_TRUE(h.vm.set_slot(c.value, 1, c.value.slot(2).value()).ok());  // a handle
  EXPECT_EQ(c.value.slot(1)->to_int(), 7);
}

// The slot is the only reference to the map: it survives collections.
TEST(HostObjects, SlotsAreTraced) {
  auto fin = std::make_shared<Finalized>();
  weft::Config config;
  config.gc_verify = true;
  Host h(fin, config);
  Result c = h.vm.call("make_counter", {0});
  ASSERT_TRUE(h.vm.call("stash", {c.value}).ok());
  for (int i = 0; i < 3; i++) {
    ASSERT_TRUE(h.vm.call("churn", {200}).ok());  // garbage, to give the collector work
    h.vm.collect();
  }
  EXPECT_EQ(c.value.slot(0)->repr(), "{\"note\": \"kept by the slot\", \"list\": [1, 2]}");
}

// Each dropped object is finalized once, on the finalizer thread; kept ones
// are not, until the VM is destroyed, which finalizes them on its thread.
void finalizers_exactly_once(weft::Config config, int dropped, int kept) {
  auto fin = std::make_shared<Finalized>();
  {
    Host h(fin, config);
    ASSERT_TRUE(h.vm.call("keep", {kept}).ok());
    ASSERT_TRUE(h.vm.call("churn", {dropped}).ok());
    EXPECT_TRUE(h.finalized(size_t(dropped))) << fin->count() << " of " << dropped;
    EXPECT_EQ(fin->max_times(), 1);
    {
      std::lock_guard lk(fin->mu);
      for (auto& t : fin->threads) EXPECT_NE(t, std::this_thread::get_id());
      for (int i = 0; i < kept; i++) EXPECT_EQ(fin->times.count(i), 0u) << "kept object " << i;
    }
    // Dropping the kept ones makes them garbage too.
    ASSERT_TRUE(h.vm.call("drop_kept").ok());
    EXPECT_TRUE(h.finalized(size_t(dropped + kept)));
    ASSERT_TRUE(h.vm.call("keep", {kept}).ok());  // alive at destruction
  }
  EXPECT_EQ(fin->count(), size_t(dropped + 2 * kept));
  EXPECT_EQ(fin->max_times(), 1);
}

TEST(HostObjects, FinalizersExactlyOnce) { finalizers_exactly_once({}, 500, 20); }

TEST(HostObjects, FinalizersExactlyOnceUnderGcStress) {
  weft::Config config;
  config.gc_stress = true;
  finalizers_exactly_once(config, 60, 5);
}

TEST(HostObjects, FinalizersExactlyOnceUnderPreemptStressAndGcVerify) {
  weft::Config config;
  config.preempt_stress = true;
  config.gc_verify = true;  // every collection checks that slots were marked
  finalizers_exactly_once(config, 300, 10);
}

// Under gc_stress every allocation collects: objects made by goroutines on
// two Ps, each finalized exactly once, none lost and none twice.
TEST(HostObjects, FinalizersExactlyOnceFromGoroutinesUnderGcStress) {
  auto fin = std::make_shared<Finalized>();
  weft::Config config;
  config.gc_stress = true;
  config.procs = 2;
  constexpr int kGoroutines = 4, kEach = 25;
  {
    Host h(fin, config);
    ASSERT_TRUE(h.vm.call("keep", {3}).ok());
    Result r = h.vm.call("churn_parallel", {kGoroutines, kEach});
    ASSERT_TRUE(r.ok()) << r.message;
    EXPECT_TRUE(h.finalized(size_t(kGoroutines * kEach))) << fin->count();
    EXPECT_EQ(fin->max_times(), 1);
  }
  EXPECT_EQ(fin->count(), size_t(kGoroutines * kEach + 3));
  EXPECT_EQ(fin->max_times(), 1);
}

// A blocking method runs without a P: its receiver and data are still there.
TEST(HostObjects, BlockingMethods) {
  auto fin = std::make_shared<Finalized>();
  weft::VM vm;
  weft::HostType type;
  weft::HostTypeDef def;
  def.name = "Slow";
  def.finalizer = [fin](void* p) {
    std::lock_guard lk(fin->mu);
    fin->times[static_cast<Counter*>(p)->id]++;
    delete static_cast<Counter*>(p);
  };
  weft::NativeDef wait{"wait", [&type](NativeCall& c) -> Arg {
                         std::this_thread::sleep_for(std::chrono::milliseconds(c.int_arg(0)));
                         Counter* k = c.self<Counter>();
                         return k->n + (c.receiver().object<Counter>(type) == k ? 1000 : 0);
                       }, 1, 1};
  wait.blocking = true;
  def.methods = {wait};
  ASSERT_TRUE(vm.define_type(std::move(def), &type).ok());
  Result o = vm.new_object(type, new Counter{7, 5});
  ASSERT_TRUE(o.ok()) << o.message;
  ASSERT_TRUE(vm.load_source("slow.wf", "fn run(s) { return s.wait(5) + s.wait(1) }").ok());
  Result r = vm.call("run", {o.value});
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_EQ(r.value.to_int(), 2010);
}

// A native that is no method has no receiver.
TEST(HostObjects, SelfOutsideAMethod) {
  weft::VM vm;
  ASSERT_TRUE(vm.define({"f", [](NativeCall& c) -> Arg {
                           EXPECT_TRUE(c.receiver().is_nil());
                           return c.self<Counter>()->n;
                         }, 0, 0})
                  .ok());
  EXPECT_EQ(vm.call("f").message, "f: not a method");
}

// A host object and a script map referring to each other (through a slot)
// are collected together.
TEST(HostObjects, CyclesThroughSlotsAreCollected) {
  auto fin = std::make_shared<Finalized>();
  Host h(fin);
  ASSERT_TRUE(h.vm.call("cycles", {100}).ok());
  EXPECT_TRUE(h.finalized(100)) << fin->count();
}

// Not only finalized: the cycles' memory (8 MB of arrays here) is
// reclaimed by the collections after their finalizers ran.
TEST(HostObjects, CyclesThroughSlotsAreFreed) {
  auto fin = std::make_shared<Finalized>();
  Host h(fin);
  h.vm.collect();
  uint64_t before = h.vm.gc_stats().live_bytes;
  ASSERT_TRUE(h.vm.call("heavy_cycles", {100, 10000}).ok());
  ASSERT_TRUE(h.finalized(100)) << fin->count();
  h.vm.collect();
  h.vm.collect();
  uint64_t after = h.vm.gc_stats().live_bytes;
  EXPECT_LT(after, before + (1u << 20)) << "live bytes " << before << " before, " << after << " after";
}

// Finalizers run on the finalizer thread, never inside a stop-the-world:
// one that blocks until two more collections have finished (seen by on_gc,
// which the collector calls with the world started) lets them finish, and
// goroutines run meanwhile. Were it run with the world stopped, or on the
// collector thread, no collection could end and it would time out.
TEST(HostObjects, FinalizersRunOutsideTheStopTheWorld) {
  std::mutex mu;
  std::condition_variable cv;
  uint64_t cycles = 0;
  std::thread::id collector;
  bool entered = false, released = false, finished = false;
  std::thread::id finalizer;
  weft::VM vm;
  vm.on_gc([&](const weft::GcCycle&) {
    std::lock_guard lk(mu);
    cycles++;
    collector = std::this_thread::get_id();
    cv.notify_all();
  });
  weft::HostType type;
  weft::HostTypeDef def;
  def.name = "Slow";
  def.finalizer = [&](void*) {
    std::unique_lock lk(mu);
    entered = true;
    finalizer = std::this_thread::get_id();
    uint64_t target = cycles + 2;
    released = cv.wait_for(lk, std::chrono::seconds(10), [&] { return cycles >= target; });
    finished = true;
    cv.notify_all();
  };
  ASSERT_TRUE(vm.define_type(std::move(def), &type).ok());
  ASSERT_TRUE(vm.load_source("slow.wf", "fn churn(n) {\n let a = []\n for i in 0..n { push(a, [i]) }\n return len(a)\n}").ok());
  {
    Result o = vm.new_object(type, nullptr);
    ASSERT_TRUE(o.ok()) << o.message;
  }  // its only handle is gone
  auto wait_for = [&](bool& flag) {
    for (int i = 0; i < 1000; i++) {
      {
        std::lock_guard lk(mu);
        if (flag) return true;
      }
      vm.collect();
      Result r = vm.call("churn", {1000});  // goroutines run while the finalizer waits
      EXPECT_TRUE(r.ok()) << r.message;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return false;
  };
  ASSERT_TRUE(wait_for(entered));
  ASSERT_TRUE(wait_for(finished));
  std::lock_guard lk(mu);
  EXPECT_TRUE(released) << "collections stopped while a finalizer ran";
  EXPECT_NE(finalizer, collector);
  EXPECT_NE(finalizer, std::this_thread::get_id());
}

// Host objects in two VMs running at once on two host threads: each VM's
// dropped objects are finalized, exactly once, on the one finalizer
// thread; destroying one VM finalizes its own objects and leaves the
// other's alone, while that one keeps running (and its objects keep
// working).
TEST(HostObjects, TwoVMsOnTwoThreads) {
  auto fin_a = std::make_shared<Finalized>();
  auto fin_b = std::make_shared<Finalized>();
  weft::Config config;
  config.procs = 2;
  config.gc_percent = 10;  // collections all along
  auto a = std::make_unique<Host>(fin_a, config);
  auto b = std::make_unique<Host>(fin_b, config);
  constexpr int kKept = 20, kRounds = 20, kChurn = 50;
  ASSERT_TRUE(a->vm.call("keep", {kKept}).ok());
  ASSERT_TRUE(b->vm.call("keep", {kKept}).ok());
  const int64_t kept_sum = 100 * kKept + kKept * (kKept - 1) / 2;
  std::atomic<bool> a_gone{false};
  std::atomic<int> b_dropped{0};
  std::thread tb([&] {
    // Runs until a is destroyed, and some more after.
    for (int extra = 0; extra < kRounds;) {
      Result r = b->vm.call("churn", {kChurn});
      EXPECT_TRUE(r.ok()) << r.message;
      b_dropped += kChurn;
      if (a_gone.load()) extra++;
    }
    Result s = b->vm.call("kept_sum");
    EXPECT_TRUE(s.ok()) << s.message;
    EXPECT_EQ(s.value.to_int(), kept_sum);
  });
  for (int i = 0; i < kRounds; i++) ASSERT_TRUE(a->vm.call("churn", {kChurn}).ok());
  EXPECT_TRUE(a->finalized(size_t(kRounds * kChurn))) << fin_a->count();
  EXPECT_EQ(a->str("kept_sum"), std::to_string(kept_sum));
  a.reset();  // finalizes a's kept objects here, while b runs
  a_gone = true;
  EXPECT_EQ(fin_a->count(), size_t(kRounds * kChurn + kKept));
  EXPECT_EQ(fin_a->max_times(), 1);
  tb.join();
  EXPECT_TRUE(b->finalized(size_t(b_dropped.load()))) << fin_b->count() << " of " << b_dropped.load();
  EXPECT_EQ(fin_b->max_times(), 1);
  b.reset();
  EXPECT_EQ(fin_b->count(), size_t(b_dropped.load() + kKept));
  EXPECT_EQ(fin_b->max_times(), 1);
  // Dropped objects of both were finalized on the one finalizer thread
  // (kept ones by ~VM, on this thread).
  std::set<std::thread::id> threads;
  for (auto* f : {fin_a.get(), fin_b.get()}) {
    std::lock_guard lk(f->mu);
    for (auto& t : f->threads) {
      if (t != std::this_thread::get_id()) threads.insert(t);
    }
  }
  EXPECT_EQ(threads.size(), 1u);
}

// Objects made on the host thread, held by handles: alive while a handle
// is; a handle outliving the VM is expired.
TEST(HostObjects, HandlesKeepObjectsAndOutliveTheVM) {
  auto fin = std::make_shared<Finalized>();
  weft::Handle survivor;
  {
    Host h(fin);
    Result a = h.vm.new_object(h.type, new Counter{1000, 0});
    Result b = h.vm.new_object(h.type, new Counter{1001, 0});
    ASSERT_TRUE(a.ok() && b.ok());
    survivor = a.value;
    b = Result();  // its last handle
    EXPECT_TRUE(h.finalized(1));
    EXPECT_EQ(fin->times.count(1001), 1u);
    EXPECT_EQ(fin->times.count(1000), 0u);
  }
  EXPECT_EQ(fin->times.count(1000), 1u);  // at destruction
  EXPECT_TRUE(survivor.expired());
  EXPECT_EQ(survivor.type_name(), "");
  EXPECT_EQ(survivor.repr(), "");
  EXPECT_FALSE(survivor.slot(0).has_value());
}

}  // namespace
