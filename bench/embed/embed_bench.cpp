// The embedding API against Lua 5.4's C API, the same loops side by side
// (README.md#benchmarks; docs/design.md#host-calls):
//  - host -> script: a C++ host calls a two-argument script function
//    (VM::call by name and by handle; lua_getglobal + lua_pcall);
//  - script -> native: a script calls a one-argument host native in a loop
//    (a NativeDef; a lua_CFunction), per call.
// Built only when Lua 5.4's headers are found (bench/CMakeLists.txt); Lua is
// linked into this binary alone. Compare the entries' times in one run.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>

#include "weft/weft.h"

#ifdef WEFT_HAVE_LUA
extern "C" {
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
}
#endif

namespace {

constexpr const char* kScript = R"(
fn add(a, b) { return a + b }
fn loop(n) {
    let s = 0
    for i in 0..n { s = inc(s) }
    return s
}
)";

constexpr int64_t kLoop = 1'000'000;  // native calls per loop() call

weft::VM& weft_vm() {
  static weft::VM* vm = [] {
    weft::Config c;
    c.procs = 1;
    auto* v = new weft::VM(c);
    weft::Result d = v->define({"inc", [](weft::NativeCall& call) -> weft::Arg { return call.int_arg(0) + 1; }, 1, 1});
    weft::Result r = v->load_source("embed_bench.wf", kScript);
    if (!d.ok() || !r.ok()) {
      std::fprintf(stderr, "embed_bench: %s%s\n", d.message.c_str(), r.message.c_str());
      std::abort();
    }
    return v;
  }();
  return *vm;
}

void BM_HostCall_Weft_ByName(benchmark::State& state) {
  weft::VM& vm = weft_vm();
  int64_t i = 0;
  for (auto _ : state) {
    weft::Result r = vm.call("add", {i, 1});
    if (!r.ok()) state.SkipWithError(r.message.c_str());
    benchmark::DoNotOptimize(r);
    i++;
  }
}
BENCHMARK(BM_HostCall_Weft_ByName);

void BM_HostCall_Weft_ByHandle(benchmark::State& state) {
  weft::VM& vm = weft_vm();
  weft::Handle add = vm.get("add").value;
  int64_t i = 0;
  for (auto _ : state) {
    weft::Result r = vm.call(add, {i, 1});
    if (!r.ok()) state.SkipWithError(r.message.c_str());
    benchmark::DoNotOptimize(r);
    i++;
  }
}
BENCHMARK(BM_HostCall_Weft_ByHandle);

// items: native calls.
void BM_ScriptToNative_Weft(benchmark::State& state) {
  weft::VM& vm = weft_vm();
  for (auto _ : state) {
    weft::Result r = vm.call("loop", {kLoop});
    if (!r.ok() || r.value.to_int() != kLoop) state.SkipWithError("loop failed");
  }
  state.SetItemsProcessed(state.iterations() * kLoop);
}
BENCHMARK(BM_ScriptToNative_Weft)->Unit(benchmark::kMillisecond);

#ifdef WEFT_HAVE_LUA

int lua_inc(lua_State* L) {
  lua_pushinteger(L, luaL_checkinteger(L, 1) + 1);
  return 1;
}

lua_State* lua_vm() {
  static lua_State* L = [] {
    lua_State* s = luaL_newstate();
    luaL_openlibs(s);
    lua_register(s, "inc", lua_inc);
    const char* code =
        "function add(a, b) return a + b end\n"
        "function loop(n) local s = 0; for i = 1, n do s = inc(s) end; return s end\n";
    if (luaL_dostring(s, code) != LUA_OK) std::abort();
    return s;
  }();
  return L;
}

void BM_HostCall_Lua(benchmark::State& state) {
  lua_State* L = lua_vm();
  int64_t i = 0;
  for (auto _ : state) {
    lua_getglobal(L, "add");
    lua_pushinteger(L, i);
    lua_pushinteger(L, 1);
    if (lua_pcall(L, 2, 1, 0) != LUA_OK) state.SkipWithError(lua_tostring(L, -1));
    benchmark::DoNotOptimize(lua_tointeger(L, -1));
    lua_pop(L, 1);
    i++;
  }
}
BENCHMARK(BM_HostCall_Lua);

void BM_ScriptToNative_Lua(benchmark::State& state) {
  lua_State* L = lua_vm();
  for (auto _ : state) {
    lua_getglobal(L, "loop");
    lua_pushinteger(L, kLoop);
    if (lua_pcall(L, 1, 1, 0) != LUA_OK || lua_tointeger(L, -1) != kLoop) state.SkipWithError("loop failed");
    lua_pop(L, 1);
  }
  state.SetItemsProcessed(state.iterations() * kLoop);
}
BENCHMARK(BM_ScriptToNative_Lua)->Unit(benchmark::kMillisecond);

#endif

}  // namespace
