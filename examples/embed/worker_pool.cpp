// Teaches: goroutines fed from C++. The script starts a pool of workers;
// one host thread submits jobs while another collects results, both
// calling into the same VM at once (each call is a goroutine; a send on a
// full channel just parks it). wait_all() then waits for the pool to end.
//
//   worker_pool worker_pool.wf
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "weft/weft.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: worker_pool worker_pool.wf\n");
    return 1;
  }
  weft::VM vm;
  weft::Result r = vm.load_file(argv[1]);
  if (r.ok()) r = vm.call("start", {4});
  if (!r.ok()) {
    std::fprintf(stderr, "%s\n", r.message.c_str());
    return 1;
  }
  constexpr int kJobs = 40;
  std::thread producer([&] {
    for (int i = 0; i < kJobs; i++) {
      std::string text(size_t(i % 7 + 1), 'w');
      for (size_t k = 1; k < text.size(); k += 2) text[k] = ' ';  // "w w w ..."
      vm.call("submit", {i, text});
    }
    vm.call("finish");
  });
  std::vector<int> words(kJobs, -1);
  int done = 0;
  for (int i = 0; i < kJobs; i++) {
    weft::Result res = vm.call("next_result");
    if (!res.ok()) {
      std::fprintf(stderr, "%s\n", res.message.c_str());
      break;
    }
    int id = int(res.value.get("id")->to_int().value_or(0));
    words[size_t(id)] = int(res.value.get("words")->to_int().value_or(0));
    done++;
  }
  producer.join();
  weft::Result all = vm.wait_all();  // the workers leave when `jobs` is closed
  int total = 0;
  for (int w : words) total += w;
  std::printf("%d jobs, %d words, pool finished: %s\n", done, total, all.ok() ? "yes" : all.message.c_str());
  return done == kJobs && all.ok() ? 0 : 1;
}
