// Teaches: running an untrusted plugin in a sandbox. The VM offers the
// pure library only (the default for an embedded VM: no fs, no os, no
// standard input), file imports limited to the plugin's directory, a
// host module as the plugin's whole view of the application, a heap
// limit, and a deadline on every call. Each refusal reaches the plugin as
// a runtime error it may catch, and reaches the host as a Result.
//
//   plugin_host plugins/plugin.wf
#include <cstdio>
#include <string>

#include "weft/weft.h"

namespace {

void report(const char* what, const weft::Result& r) {
  if (r.ok()) std::printf("%s: %s\n", what, r.value.repr().c_str());
  else std::printf("%s: %s: %s\n", what, weft::to_string(r.kind), r.message.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: plugin_host plugins/plugin.wf\n");
    return 1;
  }
  std::string path = argv[1];
  weft::Config config;
  config.file_imports = weft::Config::FileImports::Directory;
  config.import_dir = path.substr(0, path.rfind('/') + 1);  // the plugin's own directory
  config.heap_limit = 32 << 20;
  config.on_out = [](std::string_view line) { std::printf("plugin says: %.*s", int(line.size()), line.data()); };
  weft::VM vm(config);

  // The application as the plugin sees it: import("app").
  vm.define_module("app", {{"version", [](weft::NativeCall&) -> weft::Arg { return "2.1"; }, 0, 0},
                           {"log", [](weft::NativeCall& c) -> weft::Arg {
                              std::printf("app log: %s\n", c.string_arg(0).c_str());
                              return {};
                            }, 1, 1}});

  report("load", vm.load_file(path));
  constexpr int64_t kDeadline = 500'000'000;  // 0.5 s a call
  report("name", vm.call_for(kDeadline, "name"));
  report("transform", vm.call_for(kDeadline, "transform", {"hello"}));
  report("probe", vm.call_for(kDeadline, "probe"));
  report("runaway", vm.call_for(kDeadline, "runaway"));
  report("hog", vm.call_for(20 * kDeadline, "hog"));  // the heap limit stops it first
  report("after", vm.call_for(kDeadline, "transform", {"still works"}));
  return 0;
}
