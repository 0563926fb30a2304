// Natives defined by the host: one at a time, as a table and as a module;
// the argument helpers' errors with the caller's traceback; C++ exceptions
// as runtime errors; natives calling back into Weft. Script: natives.wf.
#include <gtest/gtest.h>

#include <stdexcept>

#include "tests/embed/embed_test.h"

namespace {

using weft::Arg;
using weft::NativeCall;
using weft::Result;

class Natives : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(vm.define({"add", [](NativeCall& c) -> Arg { return c.int_arg(0) + c.int_arg(1); }, 2, 2}).ok());
    ASSERT_TRUE(vm.define({{"explode", [](NativeCall& c) -> Arg { throw std::runtime_error(c.string_arg(0)); }, 1, 1},
                           {"map_with", map_with, 2, 2}})
                    .ok());
    ASSERT_TRUE(vm.define_module("mathx", {{"twice", [](NativeCall& c) -> Arg { return 2 * c.int_arg(0); }, 1, 1},
                                           {"inc", [](NativeCall& c) -> Arg { return c.int_arg(0) + 1; }, 1, 1}})
                    .ok());
    Result r = vm.load_file(weft::testing::script("natives.wf"));
    ASSERT_TRUE(r.ok()) << r.message;
  }
  // map_with(xs, f): [f(x) for x in xs], calling back into Weft.
  static Arg map_with(NativeCall& c) {
    auto xs = c.array_arg(0).to_array();
    weft::Handle f = c.function_arg(1);
    std::vector<Arg> out;
    for (const weft::Handle& x : *xs) {
      Result r = c.call(f, {x});
      if (!r.ok()) c.raise("map_with: " + r.message);
      out.push_back(r.value);
    }
    return Arg::array(std::move(out));
  }
  weft::VM vm;
};

TEST_F(Natives, SingleTableAndModule) {
  EXPECT_EQ(vm.call("use_add").value.to_int(), 5);
  EXPECT_EQ(vm.call("use_module").value.to_int(), 43);
  EXPECT_EQ(vm.call("add", {20, 22}).value.to_int(), 42);  // the host may call its own natives too
}

TEST_F(Natives, TypeErrorsAreRuntimeErrorsWithTheCallersTraceback) {
  Result r = vm.call("bad_type");
  ASSERT_EQ(r.kind, Result::Runtime);
  EXPECT_EQ(r.message, "add: expected int, got string");
  EXPECT_NE(r.traceback.find("at bad_type ("), std::string::npos) << r.traceback;
  EXPECT_NE(r.traceback.find("natives.wf:4)"), std::string::npos) << r.traceback;
  EXPECT_EQ(r.traceback.find("<host>"), std::string::npos) << r.traceback;
  Result caught = vm.call("catches");  // pcall catches it like any error
  ASSERT_TRUE(caught.ok());
  EXPECT_EQ(caught.value.repr(), "[false, \"add: expected int, got string\"]");
  EXPECT_EQ(vm.call("add", {1}).message, "add expects 2 arguments, got 1");
}

TEST_F(Natives, CppExceptionsBecomeRuntimeErrors) {
  Result r = vm.call("throws");
  ASSERT_EQ(r.kind, Result::Runtime);
  EXPECT_EQ(r.message, "explode: boom");
  EXPECT_NE(r.traceback.find("at throws ("), std::string::npos);
  EXPECT_TRUE(vm.call("use_add").ok());  // and the VM goes on
}

TEST_F(Natives, CallBackIntoWeft) {
  Result r = vm.call("apply_each", {Arg::array({1, 2, 3})});
  ASSERT_TRUE(r.ok()) << r.message << r.traceback;
  EXPECT_EQ(r.value.repr(), "[10, 20, 30]");
  r = vm.call("callback_fails");
  ASSERT_EQ(r.kind, Result::Runtime);
  EXPECT_EQ(r.message, "map_with: invalid operation: int + nil");
  // The callback blocks (a channel, sleep): its goroutine parks keeping
  // the native's stack and comes back into the native.
  r = vm.call("parks_in_callback");
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_EQ(r.value.repr(), "[1, 2]");
}

TEST_F(Natives, DefinitionsAreChecked) {
  EXPECT_EQ(vm.define({"", [](NativeCall&) -> Arg { return {}; }}).kind, Result::Misuse);
  EXPECT_EQ(vm.define({"f", nullptr}).kind, Result::Misuse);
  EXPECT_EQ(vm.define({"f", [](NativeCall&) -> Arg { return {}; }, 3, 1}).kind, Result::Misuse);
}

// A native may not wait for goroutines on its own thread: the VM's waiting
// methods refuse. call() on its own VM calls back into Weft, as
// NativeCall::call does (docs/design.md#host-calls).
TEST_F(Natives, WaitingMethodsRefuseInsideANative) {
  Result inner, waited, loaded;
  ASSERT_TRUE(vm.define({"reenter", [&](NativeCall& c) -> Arg {
                           inner = c.vm().call("use_add");
                           waited = c.vm().wait_all();
                           loaded = c.vm().load_source("x.wf", "let x = 1");
                           return nullptr;
                         }})
                  .ok());
  ASSERT_TRUE(vm.load_source("r.wf", "fn go_in() { return reenter() }").ok());
  ASSERT_TRUE(vm.call("go_in").ok());
  ASSERT_TRUE(inner.ok()) << inner.message;
  EXPECT_EQ(inner.value.to_int(), 5);
  EXPECT_EQ(waited.kind, Result::Misuse);
  EXPECT_EQ(loaded.kind, Result::Misuse);
}

}  // namespace
