// Host functions as values (VM::function, move_only_native): C++
// callables with state, made at run time, passed to scripts as ordinary
// function values; and Arg's conversions from standard containers.
// Script: functions.wf.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <thread>
#include <vector>

#include "tests/embed/embed_test.h"

namespace {

using weft::Arg;
using weft::NativeCall;
using weft::Result;

// No silent pointer-to-bool, and the integer types all convert.
static_assert(!std::is_constructible_v<Arg, int*>);
static_assert(!std::is_constructible_v<Arg, const void*>);
static_assert(std::is_constructible_v<Arg, size_t>);
static_assert(std::is_constructible_v<Arg, uint64_t>);
static_assert(std::is_constructible_v<Arg, int16_t>);
static_assert(std::is_constructible_v<Arg, float>);

class Functions : public ::testing::Test {
 protected:
  void SetUp() override {
    // make_adder(n): a native that makes a function value closing over n.
    ASSERT_TRUE(vm.define({"make_adder", [](NativeCall& c) -> Arg {
                             int64_t n = c.int_arg(0);
                             Result f = c.vm().function(
                                 {"adder", [n](NativeCall& a) -> Arg { return n + a.int_arg(0); }, 1, 1});
                             if (!f.ok()) c.raise(f.message);
                             return f.value;
                           }, 1, 1})
                    .ok());
    Result r = vm.load_file(weft::testing::script("functions.wf"));
    ASSERT_TRUE(r.ok()) << r.message;
  }
  std::string show(Arg a) { return vm.call("show", {std::move(a)}).value.to_string().value_or("<error>"); }
  std::string kind(Arg a) { return vm.call("kind", {std::move(a)}).value.to_string().value_or("<error>"); }
  weft::VM vm;
};

TEST_F(Functions, AFunctionValueCarriesState) {
  int calls = 0;  // outlives the VM's use of it
  Result f = vm.function({"counter", [&calls, n = 0](NativeCall&) mutable -> Arg {
                            calls++;
                            return ++n;
                          }, 0, 0});
  ASSERT_TRUE(f.ok()) << f.message;
  EXPECT_EQ(f.value.type(), weft::Type::Function);
  EXPECT_EQ(kind(f.value), "function");
  Result r = vm.call("call_twice", {f.value});
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_EQ(r.value.repr(), "[1, 2]");
  EXPECT_EQ(vm.call("call_twice", {f.value}).value.repr(), "[3, 4]");  // the same state
  EXPECT_EQ(calls, 4);
}

TEST_F(Functions, MoveOnlyState) {
  auto owned = std::make_unique<int>(40);
  Result f = vm.function({"plus", weft::move_only_native([p = std::move(owned)](NativeCall& c) -> Arg {
                            return *p + c.int_arg(0);
                          }), 1, 1});
  ASSERT_TRUE(f.ok()) << f.message;
  EXPECT_EQ(vm.call("apply", {f.value, 2}).value.to_int(), 42);
  // Kept in a global, called later; its argument count is checked.
  ASSERT_TRUE(vm.call("keep", {f.value}).ok());
  EXPECT_EQ(vm.call("call_kept", {1}).value.to_int(), 41);
  Result bad = vm.call("apply", {f.value, "x"});
  EXPECT_EQ(bad.kind, Result::Runtime);
  EXPECT_EQ(bad.message, "plus: expected int, got string");
}

TEST_F(Functions, MadeByANativeAtRunTime) {
  // make_adder(n) (SetUp) returns a new function value closing over n.
  Result r = vm.call("make_and_call", {5});
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_EQ(r.value.repr(), "[\"function\", 15]");
  EXPECT_EQ(vm.call("make_and_call", {7}).value.repr(), "[\"function\", 17]");
}

TEST_F(Functions, NoLimitOnHowMany) {
  // Defined natives take one of 1,024 process-wide slots; function values none.
  std::vector<weft::Handle> fs;
  for (int i = 0; i < 1500; i++) {
    Result f = vm.function({"f", [i](NativeCall&) -> Arg { return i; }, 0, 0});
    ASSERT_TRUE(f.ok()) << i << ": " << f.message;
    fs.push_back(f.value);
  }
  EXPECT_EQ(vm.call("call_twice", {fs[1499]}).value.repr(), "[1499, 1499]");
  EXPECT_EQ(vm.call("call_twice", {fs[3]}).value.repr(), "[3, 3]");
}

TEST_F(Functions, Refusals) {
  EXPECT_EQ(vm.function({"", [](NativeCall&) -> Arg { return {}; }}).message, "a native needs a name and a function");
  EXPECT_EQ(vm.function({"f", nullptr}).message, "a native needs a name and a function");
  EXPECT_EQ(vm.function({"f", [](NativeCall&) -> Arg { return {}; }, 2, 1}).message, "native f: bad argument counts");
  weft::NativeDef blocking{"b", [](NativeCall&) -> Arg { return {}; }};
  blocking.blocking = true;
  Result r = vm.function(blocking);
  EXPECT_EQ(r.kind, Result::Misuse);
  EXPECT_EQ(r.message, "native b: a function value cannot be blocking (define it instead)");
}

TEST_F(Functions, ArgConversions) {
  EXPECT_EQ(show(std::vector<int>{1, 2, 3}), "[1, 2, 3]");
  EXPECT_EQ(show(std::vector<std::string>{"a", "b"}), "[\"a\", \"b\"]");
  EXPECT_EQ(show(std::vector<std::vector<double>>{{1.5}, {}}), "[[1.5], []]");
  EXPECT_EQ(show(std::map<std::string, int>{{"b", 2}, {"a", 1}}), "{\"a\": 1, \"b\": 2}");  // std::map's order
  std::unordered_map<std::string, std::vector<int>> um{{"k", {7}}};
  EXPECT_EQ(show(um), "{\"k\": [7]}");
  EXPECT_EQ(show(std::optional<int>{}), "nil");
  EXPECT_EQ(show(std::optional<int>{3}), "3");
  EXPECT_EQ(show(std::optional<std::string>{"s"}), "s");
  EXPECT_EQ(show(std::nullopt), "nil");
  std::string backing = "view of this";
  EXPECT_EQ(show(std::string_view(backing).substr(0, 4)), "view");
  size_t n = 12;
  EXPECT_EQ(kind(n), "int");
  EXPECT_EQ(show(n), "12");
  EXPECT_EQ(kind(uint64_t{5}), "int");
  EXPECT_EQ(kind(true), "bool");
  EXPECT_EQ(kind("true"), "string");  // a literal is a string, not a bool
  EXPECT_EQ(kind(2.5f), "float");
  EXPECT_EQ(kind(int16_t{3}), "int");
  EXPECT_EQ(kind(std::vector<bool>{true, false}), "array");
  EXPECT_EQ(show(std::vector<bool>{true, false}), "[true, false]");
}

}  // namespace

namespace {

weft::NativeDef twice() {
  return {"twice", [](NativeCall& c) -> Arg { return 2 * c.int_arg(0); }, 1, 1};
}

TEST(HostModules, ImportReturnsTheHostsModule) {
  weft::VM vm;
  ASSERT_TRUE(vm.define({"make_adder", [](NativeCall&) -> Arg { return {}; }}).ok());
  ASSERT_TRUE(vm.define_module("hostmod", {twice()}).ok());
  ASSERT_TRUE(vm.load_file(weft::testing::script("functions.wf")).ok());
  EXPECT_EQ(vm.call("import_host", {"hostmod"}).value.to_int(), 42);
  EXPECT_EQ(vm.call("import_twice_same").value.to_bool(), true);  // one map, as for standard modules
  EXPECT_EQ(vm.call("import_host", {"nohostmod"}).value.to_string().value_or("").rfind("import: no module \"nohostmod\"", 0), 0u);
  // Defined after the script loaded: import finds it at run time.
  ASSERT_TRUE(vm.define_module("later", {twice()}).ok());
  EXPECT_EQ(vm.call("import_host", {"later"}).value.to_int(), 42);
}

TEST(HostModules, NoShadowing) {
  weft::VM vm;
  for (const char* name : {"math", "strings", "io", "fs", "os"}) {  // fs and os: standard though off here
    Result r = vm.define_module(name, {twice()});
    EXPECT_EQ(r.kind, Result::Misuse) << name;
    EXPECT_EQ(r.message, std::string("module \"") + name + "\" is a standard module's name");
  }
  ASSERT_TRUE(vm.define_module("hostmod", {twice()}).ok());
  Result again = vm.define_module("hostmod", {twice()});
  EXPECT_EQ(again.kind, Result::Misuse);
  EXPECT_EQ(again.message, "module \"hostmod\" is already defined");
  // A failed definition frees the name.
  EXPECT_EQ(vm.define_module("broken", {{"", nullptr}}).kind, Result::Misuse);
  EXPECT_TRUE(vm.define_module("broken", {twice()}).ok());
}

}  // namespace

namespace {

// Function values made inside natives and dropped by scripts, with a
// collection at every allocating safe-point: the handle rooting a new
// value and Native::data (no pointer the collector follows) stay sound.
TEST(FunctionsGcStress, MadeAndDroppedUnderCollections) {
  weft::Config c;
  c.gc_stress = true;
  weft::VM vm(c);
  ASSERT_TRUE(vm.define({"make_adder", [](NativeCall& call) -> Arg {
                           int64_t n = call.int_arg(0);
                           return call.vm().function({"adder", [n](NativeCall& a) -> Arg { return n + a.int_arg(0); }, 1, 1}).value;
                         }, 1, 1})
                  .ok());
  ASSERT_TRUE(vm.load_file(weft::testing::script("functions.wf")).ok());
  for (int i = 0; i < 50; i++) {
    Result r = vm.call("make_and_call", {i});
    ASSERT_TRUE(r.ok()) << r.message;
    EXPECT_EQ(r.value.repr(), "[\"function\", " + std::to_string(i + 10) + "]");
  }
}

}  // namespace

namespace {

// Function values' callables are destroyed once the value is unreachable
// (on the finalizer thread), or with the VM if it is still alive then;
// never twice, never while a script can still call them (LSan and ASan
// check the rest in the sanitizer build).
struct Tracked {
  explicit Tracked(std::shared_ptr<std::atomic<int>> l) : live(std::move(l)) { ++*live; }
  Tracked(const Tracked&) = delete;
  ~Tracked() { --*live; }
  std::shared_ptr<std::atomic<int>> live;
};

weft::NativeDef tracked_function(const std::shared_ptr<std::atomic<int>>& live, int n) {
  return {"tracked", weft::move_only_native([t = std::make_unique<Tracked>(live), n](NativeCall&) -> Arg {
            return n;
          }), 0, 1};
}

// Collects until *live is `want` (the finalizer thread frees after the
// collection); false after 10 s.
bool live_reaches(weft::VM& vm, const std::atomic<int>& live, int want) {
  for (int i = 0; i < 1000 && live.load() != want; i++) {
    vm.collect();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return live.load() == want;
}

class FunctionLifetimes : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(vm->define({"make_adder", [this](NativeCall& c) -> Arg {
                              Result f = c.vm().function(tracked_function(live, int(c.int_arg(0))));
                              if (!f.ok()) c.raise(f.message);
                              return f.value;
                            }, 1, 1})
                    .ok());
    Result r = vm->load_file(weft::testing::script("functions.wf"));
    ASSERT_TRUE(r.ok()) << r.message;
  }
  std::shared_ptr<std::atomic<int>> live = std::make_shared<std::atomic<int>>(0);
  std::unique_ptr<weft::VM> vm = std::make_unique<weft::VM>();
};

TEST_F(FunctionLifetimes, DroppedValuesAreFreed) {
  {
    Result f = vm->function(tracked_function(live, 7));
    ASSERT_TRUE(f.ok()) << f.message;
    EXPECT_EQ(vm->call("call_twice", {f.value}).value.repr(), "[7, 7]");
    EXPECT_EQ(live->load(), 1);
  }  // its only handle
  EXPECT_TRUE(live_reaches(*vm, *live, 0)) << live->load();
  // Made by a native, called, dropped by the script: 300 of them.
  for (int i = 0; i < 300; i++) ASSERT_TRUE(vm->call("make_and_call", {i}).ok());
  EXPECT_TRUE(live_reaches(*vm, *live, 0)) << live->load();
}

TEST_F(FunctionLifetimes, KeptValuesLiveUntilTheVMIsDestroyed) {
  Result f = vm->function(tracked_function(live, 3));
  ASSERT_TRUE(vm->call("keep", {f.value}).ok());
  f = Result();
  for (int i = 0; i < 3; i++) vm->collect();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(live->load(), 1);  // the global holds it
  EXPECT_EQ(vm->call("call_kept", {0}).value.to_int(), 3);
  vm.reset();
  EXPECT_EQ(live->load(), 0);
}

TEST_F(FunctionLifetimes, HandlesOutliveTheVM) {
  Result f = vm->function(tracked_function(live, 3));
  ASSERT_TRUE(f.ok());
  weft::Handle h = f.value;
  vm.reset();
  EXPECT_EQ(live->load(), 0);  // freed with the VM, though a handle remains
  EXPECT_TRUE(h.expired());
  EXPECT_EQ(h.type(), weft::Type::Nil);
}

TEST(FunctionLifetimesGcStress, MadeAndDroppedUnderCollections) {
  auto live = std::make_shared<std::atomic<int>>(0);
  weft::Config c;
  c.gc_stress = true;
  weft::VM vm(c);
  ASSERT_TRUE(vm.define({"make_adder", [live](NativeCall& call) -> Arg {
                           return call.vm().function(tracked_function(live, int(call.int_arg(0)))).value;
                         }, 1, 1})
                  .ok());
  ASSERT_TRUE(vm.load_file(weft::testing::script("functions.wf")).ok());
  for (int i = 0; i < 40; i++) {
    Result r = vm.call("make_and_call", {i});
    ASSERT_TRUE(r.ok()) << r.message;
  }
  EXPECT_TRUE(live_reaches(vm, *live, 0)) << live->load();
}

}  // namespace
