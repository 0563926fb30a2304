// Native stacks for goroutines (vm/arch).
//
// Model. A NativeStack is an mmap'd region with a PROT_NONE guard page
// below it (stacks grow down: running off the end faults instead of
// corrupting a neighbour). Only running Gs, Gs parked stackfully (a native
// called back into Weft) and, later, async-preempted Gs hold one; a G parked
// at a blocked or synchronous safe-point holds none. Stacks are pooled: each
// M keeps a few (no lock), and a global pool under a mutex takes the
// overflow, so the steady state maps nothing.
//
// Size: kStackSize of address space (MAP_NORESERVE), of which only touched
// pages cost RSS. bdwgc's allocation slow path needs more than 24 KiB, and
// each native that calls back into Weft nests execute(): kMaxNesting
// (vm/thread.h) levels of sort-with-a-callback take ~250 KiB in an -O2
// build; under ASan each level takes tens of KiB.
//
// Tools: stacks are registered with Valgrind when its headers exist, and
// switches are announced to ASan (built with WEFT_ASAN) through its fiber
// hooks (see FiberSwitch).
#pragma once

#include <cstddef>

#include "vm/arch/context.h"

namespace weft::arch {

#ifdef WEFT_ASAN
constexpr size_t kStackSize = 16 * 1024 * 1024;  // ASan's redzones make interpret()'s frame huge
#else
constexpr size_t kStackSize = 1024 * 1024;
#endif
constexpr size_t kGuardSize = 4096;
constexpr int kStackPoolPerM = 4;  // per-M cache; more go to the global pool

struct NativeStack {
  void* lo;              // lowest usable byte (the guard page is below it)
  size_t size;           // usable bytes
  NativeStack* next;     // pool link; owned by the pool holding it
  Context ctx;           // the suspended activation on this stack, if any
  unsigned valgrind_id;  // VALGRIND_STACK_REGISTER's id, 0 without Valgrind
};

// A per-M cache of stacks. Owned by one M; not thread-safe.
class StackPool {
 public:
  StackPool() = default;
  ~StackPool();  // returns the cached stacks to the global pool
  StackPool(const StackPool&) = delete;
  StackPool& operator=(const StackPool&) = delete;

  NativeStack* get();          // from this pool, the global pool, or mmap
  void put(NativeStack* s);    // caches it, or hands it to the global pool

 private:
  NativeStack* free_ = nullptr;
  int count_ = 0;
};

// Unmaps every stack in the global pool (tests, runtime shutdown). Any thread.
void release_global_stacks();

// Announces a switch between stacks to the sanitizers: [lo, lo+size) is the stack
// being entered (an M's thread stack for g0). `dying` says the
// stack being left will not be resumed. Usage around weft_switch:
//   FiberSwitch fs; fs.start(lo, size, dying); weft_switch(...); fs.finish();
// and, first thing in the entry function of a fresh context,
//   FiberSwitch().finish();
// Free of cost unless built with WEFT_ASAN.
struct FiberSwitch {
  void* fake_stack = nullptr;
  void start(const void* bottom, size_t size, bool dying);
  void finish();
};

// The calling thread's own stack (an M's g0 stack), for FiberSwitch.
void thread_stack_bounds(void** lo, size_t* size);

// A stack whose frames will never run again (its goroutine was parked
// stackfully or cut off when its Runtime stopped) goes back to a pool with
// those frames' ASan redzones still poisoned: clear them first, or the
// stack's next user trips over them. Free of cost unless built with WEFT_ASAN.
void forget_frames(NativeStack* s);

}  // namespace weft::arch
