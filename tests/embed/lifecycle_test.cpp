// Creating and destroying VMs: 100 cycles in one process, each running
// goroutines, natives and calls; every thread is joined (the process's
// thread count comes back) and every native stack is unmapped. Under the ASan build LSan checks for leaks at
// exit.
#include <gtest/gtest.h>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>

#include "tests/embed/embed_test.h"

namespace {

using weft::Arg;
using weft::Result;

int count_entries(const char* dir) {
  int n = 0;
  if (DIR* d = opendir(dir)) {
    while (readdir(d) != nullptr) n++;
    closedir(d);
  }
  return n;
}

// Native stacks still mapped: a 4 KiB no-access guard page directly below
// a read-write mapping of 1 MiB (16 MiB in ASan builds), vm/arch/stack.h's
// layout. glibc's thread stacks (8 MiB, which glibc caches after a join)
// and bdwgc's heap (which grows with earlier cycles' garbage until a
// collection) do not match.
int count_native_stacks() {
  std::ifstream in("/proc/self/maps");
  std::string line;
  unsigned long guard_end = 0;
  int n = 0;
  while (std::getline(in, line)) {
    unsigned long lo = 0, hi = 0;
    char perms[8] = {};
    if (std::sscanf(line.c_str(), "%lx-%lx %7s", &lo, &hi, perms) != 3) continue;
    if (std::string(perms) == "---p" && hi - lo == (unsigned long)sysconf(_SC_PAGESIZE)) {
      guard_end = hi;
      continue;
    }
    unsigned long size = hi - lo, slack = 64ul << 10;  // the kernel may merge a neighbour in
    if (lo == guard_end && ((size >= (1ul << 20) && size <= (1ul << 20) + slack) ||
                            (size >= (16ul << 20) && size <= (16ul << 20) + slack)))
      n++;
    guard_end = 0;
  }
  return n;
}

void one_cycle(int i) {
  weft::Config config;
  config.procs = 2;
  weft::VM vm(config);
  ASSERT_TRUE(vm.define({"twice", [](weft::NativeCall& c) -> Arg { return 2 * c.int_arg(0); }, 1, 1}).ok());
  Result r = vm.load_source("cycle.wf",
                            "let c = chan(10)\n"
                            "for i in 0..4 { go fn() { c <- twice(i) }() }\n"
                            "fn total() { let s = 0\n for i in 0..4 { s += <-c }\n return s }\n"
                            "fn echo(x) { return x }\n");
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_EQ(vm.call("total").value.to_int(), 12);
  EXPECT_GT(count_native_stacks(), 0);  // the measure sees the pool while the VM runs
  EXPECT_EQ(vm.call("echo", {Arg::array({i, "s"})}).value.repr(), "[" + std::to_string(i) + ", \"s\"]");
  ASSERT_TRUE(vm.run_source("p.wf", "go fn() { sleep(1000) }()\nlet y = [1, 2, 3]").ok());
}

TEST(Lifecycle, HundredCreateDestroyCycles) {
  one_cycle(-1);  // warm up: bdwgc, the collector thread, allocator pools
  int threads = count_entries("/proc/self/task");
  int stacks = count_native_stacks();
  for (int i = 0; i < 100; i++) {
    one_cycle(i);
    if (HasFatalFailure()) return;
  }
  EXPECT_EQ(count_entries("/proc/self/task"), threads);
  EXPECT_EQ(count_native_stacks(), 0);
  std::printf("threads %d -> %d, native stacks %d -> %d\n", threads, count_entries("/proc/self/task"), stacks,
              count_native_stacks());
}

// A goroutine in a blocking native (fs.read opening a FIFO no one writes)
// when its program ends: the shutdown gives its M up after the grace
// period, and when the native returns, long after the VM is gone, the M
// stays out of the scheduler and the destroyed Runtime (it used to crash
// here, reading the scheduler the shutdown had cleared).
TEST(Lifecycle, ANativeReturningAfterItsVMIsGoneStaysOut) {
  char dir[] = "/tmp/weft-fifo-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  std::string fifo = std::string(dir) + "/f";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  {
    weft::Config c;
    c.enable_fs = true;  // off in an embedded VM by default (docs/embedding.md#sandboxes)
    weft::VM vm(c);
    Result r = vm.run_source("fifo.wf", "let fs = import(\"fs\")\n"
                                        "go fn() { fs.read(\"" + fifo + "\") }()\n"
                                        "sleep(20)\n");
    ASSERT_TRUE(r.ok()) << r.message;
  }
  int fd = open(fifo.c_str(), O_WRONLY);  // the abandoned reader's open returns now
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, "x", 1), 1);
  close(fd);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // time for its M to come back
  unlink(fifo.c_str());
  rmdir(dir);
}

}  // namespace
