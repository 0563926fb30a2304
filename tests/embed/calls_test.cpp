// Calling Weft from C++: load a module, call its functions with every kind
// of argument, read results through checked accessors, keep handles, and
// get and set globals. Script: calls.wf.
#include <gtest/gtest.h>

#include "tests/embed/embed_test.h"

namespace {

using weft::Arg;
using weft::Handle;
using weft::Result;
using weft::Type;

class Calls : public ::testing::Test {
 protected:
  void SetUp() override {
    Result r = vm.load_file(weft::testing::script("calls.wf"));
    ASSERT_TRUE(r.ok()) << r.message;
    EXPECT_TRUE(r.value.is_nil());
  }
  weft::VM vm;
};

TEST_F(Calls, IntsFloatsAndStrings) {
  Result r = vm.call("add", {2, 40});
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_EQ(r.value.type(), Type::Int);
  EXPECT_EQ(r.value.to_int(), 42);
  EXPECT_EQ(r.value.to_float(), 42.0);  // ints convert to float exactly
  EXPECT_FALSE(r.value.to_string());    // and never to a string

  r = vm.call("add", {1.5, 2});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value.to_float(), 3.5);
  EXPECT_FALSE(r.value.to_int());       // a float is not an int

  r = vm.call("greet", {"weft"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value.to_string(), "hello, weft");
  EXPECT_EQ(r.value.size(), 11u);

  r = vm.call("big");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value.to_int(), INT64_MAX);  // a boxed int
}

TEST_F(Calls, ArraysAndMapsBothWays) {
  Result r = vm.call("sum", {Arg::array({1, 2, 3, 4})});
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_EQ(r.value.to_int(), 10);

  r = vm.call("field", {Arg::map({{"a", 1}, {"b", "two"}}), "b"});
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_EQ(r.value.to_string(), "two");

  r = vm.call("pair", {21});
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_EQ(r.value.type(), Type::Array);
  auto items = r.value.to_array();
  ASSERT_TRUE(items);
  ASSERT_EQ(items->size(), 2u);
  EXPECT_EQ((*items)[0].to_int(), 21);
  Handle m = (*items)[1];
  EXPECT_EQ(m.type(), Type::Map);
  EXPECT_EQ(m.get("double")->to_int(), 42);
  EXPECT_TRUE(m.get("absent")->is_nil());
  auto entries = m.to_map();
  ASSERT_TRUE(entries);
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_EQ((*entries)[0].first.to_string(), "double");  // insertion order
  EXPECT_EQ((*entries)[1].second.to_string(), "pair");
  EXPECT_EQ(r.value.repr(), "[21, {\"double\": 42, \"name\": \"pair\"}]");
  EXPECT_FALSE(r.value.at(2));
  EXPECT_FALSE(m.to_array());
}

TEST_F(Calls, HandlesPassBackIn) {
  Result r = vm.call("pair", {5});
  ASSERT_TRUE(r.ok());
  Result again = vm.call("field", {*r.value.at(1), "name"});
  ASSERT_TRUE(again.ok()) << again.message;
  EXPECT_EQ(again.value.to_string(), "pair");
  Result fn = vm.get("add");
  ASSERT_TRUE(fn.ok());
  EXPECT_EQ(fn.value.type(), Type::Function);
  Result sum = vm.call(fn.value, {3, 4});
  EXPECT_EQ(sum.value.to_int(), 7);
}

// A handle is a GC root: the array survives collections after the script
// dropped every reference to it, and dropping the handle releases it.
TEST_F(Calls, HandlesAreRoots) {
  Result r = vm.call("make_garbage", {10});
  ASSERT_TRUE(r.ok());
  Handle kept = r.value;
  r = Result();
  for (int i = 0; i < 3; i++) {
    ASSERT_TRUE(vm.call("make_garbage", {20000}).ok());
    ASSERT_TRUE(vm.collect().ok());
  }
  EXPECT_GE(vm.gc_stats().collections, 3u);
  EXPECT_EQ(kept.repr(), "[9, \"x9\"]");
  EXPECT_EQ(kept.at(1)->to_string(), "x9");
}

TEST_F(Calls, GlobalsPersistAcrossCalls) {
  EXPECT_EQ(vm.call("bump").value.to_int(), 1);
  EXPECT_EQ(vm.call("bump").value.to_int(), 2);
  EXPECT_EQ(vm.get("counter").value.to_int(), 2);
  ASSERT_TRUE(vm.set("counter", 40).ok());
  EXPECT_EQ(vm.call("bump").value.to_int(), 41);
  ASSERT_TRUE(vm.set("config", Arg::map({{"depth", 3}, {"names", Arg::array({"a", "b"})}})).ok());
  Result c = vm.get("config");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c.value.repr(), "{\"depth\": 3, \"names\": [\"a\", \"b\"]}");
  EXPECT_EQ(vm.get("nope").kind, Result::Misuse);
}

TEST_F(Calls, ScalarsNeedNoVM) {
  Handle h;
  EXPECT_TRUE(h.is_nil());
  EXPECT_FALSE(h.to_int());
  EXPECT_FALSE(h.expired());
  Result r = vm.call("add", {true, 1});
  EXPECT_EQ(r.kind, Result::Runtime);
  EXPECT_EQ(r.message, "invalid operation: bool + int");
  EXPECT_EQ(vm.call("add", std::vector<Arg>(101, 1)).kind, Result::Misuse);
  EXPECT_EQ(vm.call("add", {1, 2, 3}).message, "add expects 2 arguments, got 3");
  EXPECT_EQ(vm.call("counter").message, "cannot call int");
}

TEST_F(Calls, SpawnedTasksAndWaitAll) {
  std::vector<weft::Task> tasks;
  for (int i = 1; i <= 20; i++) tasks.push_back(vm.spawn("sleeper", {i % 5}));
  int64_t total = 0;
  for (auto& t : tasks) {
    ASSERT_TRUE(t.valid());
    Result r = t.wait();
    ASSERT_TRUE(r.ok()) << r.message;
    total += r.value.to_int().value_or(-1000);
    EXPECT_EQ(t.wait().value.to_int(), r.value.to_int());  // the same result again
  }
  EXPECT_EQ(total, 40);
  weft::Task bad = vm.spawn("nope");
  EXPECT_FALSE(bad.valid());
  EXPECT_EQ(bad.wait().kind, Result::Misuse);
  vm.spawn("sleeper", {20});  // dropped unobserved: runs on
  EXPECT_TRUE(vm.wait_all().ok());
}

}  // namespace
