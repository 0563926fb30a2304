// Every public type of include/weft/ is default-constructible (where that
// means something), movable and destructible in a host translation unit
// that includes nothing but include/weft/: pimpl types define their special
// members out of line, where their Impl is complete (`weft::Task t;` once
// failed to compile here). This file must include no internal header.
#include <gtest/gtest.h>

#include <type_traits>
#include <utility>
#include <vector>

#include "weft/weft.h"

namespace {

template <typename T>
constexpr bool kValueType = std::is_default_constructible_v<T> && std::is_move_constructible_v<T> &&
                            std::is_move_assignable_v<T> && std::is_destructible_v<T>;

static_assert(kValueType<weft::Config>);
static_assert(kValueType<weft::GcStats>);
static_assert(kValueType<weft::GcCycle>);
static_assert(kValueType<weft::Task>);
static_assert(kValueType<weft::VM>);  // default: a VM with the default Config
static_assert(kValueType<weft::Handle>);
static_assert(kValueType<weft::Arg>);
static_assert(kValueType<weft::Result>);
static_assert(kValueType<weft::NativeDef>);
static_assert(kValueType<weft::NativeFunction>);
// Not default-constructible on purpose: a NativeCall exists only during a
// native's call (a view of its frame), a NativeError always has a message.
static_assert(std::is_move_constructible_v<weft::NativeCall> && std::is_destructible_v<weft::NativeCall>);
static_assert(std::is_move_constructible_v<weft::NativeError> && std::is_destructible_v<weft::NativeError>);

// Instantiates each: default, moved into a second object, moved back.
template <typename T>
void round_trip() {
  T a;
  T b(std::move(a));
  a = std::move(b);
  std::vector<T> v;
  v.push_back(std::move(a));
  v.emplace_back();
}

TEST(ApiTypes, DefaultMoveDestroy) {
  round_trip<weft::Config>();
  round_trip<weft::GcStats>();
  round_trip<weft::GcCycle>();
  round_trip<weft::Task>();
  round_trip<weft::Handle>();
  round_trip<weft::Arg>();
  round_trip<weft::Result>();
  round_trip<weft::NativeDef>();
}

TEST(ApiTypes, EmptyTask) {
  weft::Task t;
  EXPECT_FALSE(t.valid());
  EXPECT_EQ(t.wait().kind, weft::Result::Misuse);
}

TEST(ApiTypes, MovedVMKeepsItsState) {
  weft::VM a;
  ASSERT_TRUE(a.run_source("m.wf", "let x = 41").ok());
  weft::VM b(std::move(a));
  EXPECT_EQ(b.call("str", {1}).value.to_string(), "1");
  EXPECT_EQ(b.get("x").value.to_int(), 41);
  EXPECT_EQ(a.get("x").kind, weft::Result::Misuse);  // NOLINT: moved from on purpose
  EXPECT_FALSE(a.spawn("str", {1}).valid());
  weft::VM c;
  c = std::move(b);
  EXPECT_EQ(c.get("x").value.to_int(), 41);
  // A native sees the VM it now lives in.
  weft::VM* seen = nullptr;
  ASSERT_TRUE(c.define({"whoami", [&seen](weft::NativeCall& call) {
                          seen = &call.vm();
                          return weft::Arg();
                        }, 0, 0}).ok());
  weft::VM d(std::move(c));
  ASSERT_TRUE(d.call("whoami").ok());
  EXPECT_EQ(seen, &d);
}

}  // namespace
