// Teaches: defining C++ natives (a table as a module map), the typed
// argument helpers and their error messages, loading a script, and calling
// its functions with C++ values in and checked values out.
//
//   natives_host natives_host.wf
#include <cstdio>
#include <map>
#include <string>

#include "weft/weft.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: natives_host natives_host.wf\n");
    return 1;
  }
  weft::VM vm;
  std::map<std::string, std::string> settings = {{"mode", "fast"}, {"level", "3"}};

  // Natives receive a NativeCall: int_arg(i) and friends check the type and
  // raise `NAME: expected TYPE, got TYPE` in the script for them.
  weft::Result r = vm.define_module(
      "host", {
                  {"greet", [](weft::NativeCall& c) -> weft::Arg { return "hello " + c.string_arg(0); }, 1, 1},
                  {"clamp",
                   [](weft::NativeCall& c) -> weft::Arg {
                     int64_t v = c.int_arg(0), lo = c.int_arg(1), hi = c.int_arg(2);
                     return v < lo ? lo : v > hi ? hi : v;
                   },
                   3, 3},
                  {"fetch",
                   [&](weft::NativeCall& c) -> weft::Arg {
                     auto it = settings.find(c.string_arg(0));
                     if (it == settings.end()) c.raise("no setting " + c.string_arg(0));
                     return it->second;
                   },
                   1, 1},
              });
  if (r.ok()) r = vm.load_file(argv[1]);
  if (!r.ok()) {
    std::fprintf(stderr, "%s\n%s", r.message.c_str(), r.traceback.c_str());
    return 1;
  }

  // Calls: arguments are plain C++ values (weft::Arg); results are handles.
  weft::Result d = vm.call("describe", {"ada", weft::Arg::array({70, 140, 95})});
  std::printf("%s\n", d.value.to_string().value_or("?").c_str());
  std::printf("mode = %s\n", vm.call("config_value", {"mode"}).value.repr().c_str());
  std::printf("color = %s\n", vm.call("config_value", {"color"}).value.repr().c_str());

  // A type error inside the script comes back with the script's traceback.
  weft::Result bad = vm.call("describe", {42, weft::Arg::array({1})});
  std::printf("error: %s\n", bad.message.c_str());

  // Script functions are values too: pass one back in.
  weft::Result inc = vm.load_source("inc.wf", "fn inc(x) { return x + 1 }");
  weft::Result four = vm.call("apply_twice", {vm.get("inc").value, 2});
  std::printf("apply_twice(inc, 2) = %lld\n", static_cast<long long>(four.value.to_int().value_or(-1)));
  return inc.ok() && four.ok() ? 0 : 1;
}
