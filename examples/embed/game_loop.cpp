// Teaches: a game-style host that calls a script's update(dt) every frame.
// The script keeps its state in globals between calls; the host hands it
// a function value (VM::function) that carries C++ state, the entity
// table, instead of a global native; and each call runs on the host's
// own thread (no thread hand-off: see weft/weft.h), so a frame costs
// about a microsecond of overhead.
//
//   game_loop game_loop.wf
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "weft/weft.h"

struct Entity {
  double x = 0, vx = 0;
};

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: game_loop game_loop.wf\n");
    return 1;
  }
  weft::VM vm;  // the default sandbox: no files, no os, no standard input
  if (weft::Result r = vm.load_file(argv[1]); !r.ok()) {
    std::fprintf(stderr, "%s: %s\n", weft::to_string(r.kind), r.message.c_str());
    return 1;
  }

  // move(i, dx): the script moves entity i; the callable owns a pointer to
  // the host's entities, which outlive the VM's use of them.
  std::vector<Entity> entities(3);
  for (size_t i = 0; i < entities.size(); i++) entities[i].vx = double(i + 1);
  weft::Result mover = vm.function({"move",
                                    [&entities](weft::NativeCall& c) -> weft::Arg {
                                      size_t i = size_t(c.int_arg(0));
                                      if (i >= entities.size()) c.raise("move: no entity " + std::to_string(i));
                                      entities[i].x += c.float_arg(1) * entities[i].vx;
                                      return entities[i].x;
                                    },
                                    2, 2});
  if (weft::Result r = vm.call("start", {mover.value, entities.size()}); !r.ok()) {
    std::fprintf(stderr, "start: %s\n", r.message.c_str());
    return 1;
  }

  // 100,000 frames of 1 ms: the script's update runs once a frame.
  constexpr int kFrames = 100'000;
  weft::Result update = vm.get("update");  // look the function up once
  auto begin = std::chrono::steady_clock::now();
  for (int frame = 0; frame < kFrames; frame++) {
    weft::Result r = vm.call(update.value, {0.001});
    if (!r.ok()) {
      std::fprintf(stderr, "frame %d: %s\n%s", frame, r.message.c_str(), r.traceback.c_str());
      return 1;
    }
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
  std::fprintf(stderr, "%d frames in %.3f s (%.0f ns a frame)\n", kFrames, secs, secs * 1e9 / kFrames);

  weft::Result summary = vm.call("summary");
  std::printf("%s\n", summary.value.repr().c_str());
  for (size_t i = 0; i < entities.size(); i++) std::printf("entity %zu at %.1f\n", i, entities[i].x);
  return 0;
}
