// Teaches: a blocking native. Flagged `blocking`, it runs as a system call:
// its goroutine gives up its P, so other goroutines run and collections
// proceed while it sleeps or reads. Its arguments were copied out before,
// and its result is made into a Weft string after.
//
//   blocking_native blocking_native.wf
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

#include "weft/weft.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: blocking_native blocking_native.wf\n");
    return 1;
  }
  weft::Config config;
  config.procs = 1;  // one P: only the handoff lets the ticker run
  weft::VM vm(config);
  weft::NativeDef read_slowly;
  read_slowly.name = "read_slowly";
  read_slowly.min_args = read_slowly.max_args = 2;
  read_slowly.blocking = true;
  read_slowly.fn = [](weft::NativeCall& c) -> weft::Arg {
    std::string path = c.string_arg(0);
    std::this_thread::sleep_for(std::chrono::milliseconds(c.int_arg(1)));
    std::ifstream in(path);
    if (!in) c.raise("read_slowly: cannot open " + path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  };
  weft::Result r = vm.define(read_slowly);
  if (r.ok()) r = vm.load_file(argv[1]);
  if (r.ok()) r = vm.call("main", {argv[1]});
  if (!r.ok()) {
    std::fprintf(stderr, "%s\n%s", r.message.c_str(), r.traceback.c_str());
    return 1;
  }
  std::printf("%s\n", r.value.repr().c_str());
  return 0;
}
