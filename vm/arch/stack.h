// Native stacks for goroutines (vm/arch).
//
// Model. A NativeStack is an mmap'd region with a PROT_NONE guard page
// below it (stacks grow down: running off the end faults instead of
// corrupting a neighbour). Only running Gs, Gs parked stackfully (a native
// called back into Weft) and asynchronously preempted Gs hold one; a G parked
// at a blocked or synchronous safe-point holds none. Stacks are pooled: each
// M keeps a few (no lock), and a global pool under a mutex takes the
// overflow, so the steady state maps nothing.
//
// Size: kStackSize of address space (MAP_NORESERVE), of which only touched
// pages cost RSS. bdwgc's allocation slow path needs more than 24 KiB, and
// each native that calls back into Weft nests execute(): kMaxNesting
// (vm/interp/thread.h) levels of sort-with-a-callback take ~250 KiB in an -O2
// build; under ASan each level takes tens of KiB.
//
// Tools: stacks are registered with Valgrind when its headers exist, and
// switches are announced to ASan (built with WEFT_ASAN) and to TSan (built
// with WEFT_TSAN) through their fiber hooks (see FiberSwitch). Under TSan
// each stack is also a TSan fiber, made with it and destroyed with it; its
// handle sits in the kToolSlot bytes at the top of the mapping, above the
// usable part, so FiberSwitch finds it from the stack's bounds alone.
#pragma once

#include <cstddef>

#include "vm/arch/context.h"

#ifdef WEFT_TSAN
#include <sanitizer/tsan_interface.h>
#endif

namespace weft::arch {

#if defined(WEFT_ASAN) || defined(WEFT_TSAN)
constexpr size_t kStackSize = 16 * 1024 * 1024;  // the sanitizers make interpret()'s frame huge
#else
constexpr size_t kStackSize = 1024 * 1024;
#endif
// The guard below each stack: one page of the running kernel's size (4, 16
// or 64 KiB on arm64), from sysconf(_SC_PAGESIZE). Async-signal-safe after
// the first stack is mapped (the fault handler reads it).
size_t guard_size();
constexpr size_t kToolSlot = 64;  // top of each mapping: the TSan fiber (keeps the top 64-aligned)
constexpr int kStackPoolPerM = 4;  // per-M cache; more go to the global pool

struct NativeStack {
  void* lo;              // lowest usable byte (the guard page is below it)
  size_t size;           // usable bytes (kStackSize - kToolSlot)
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
// being entered: a NativeStack's usable part, or the calling M's own thread
// stack (g0) as thread_stack_bounds gave it. `dying` says the stack being
// left will not be resumed. Usage around weft_switch:
//   FiberSwitch fs; fs.start(lo, size, dying); weft_switch(...); fs.finish();
// and, first thing in the entry function of a fresh context,
//   FiberSwitch().finish();
// ASan: start/finish_switch_fiber. TSan: start switches to the entered
// stack's fiber (synchronizing: what the M did before the switch happens
// before what runs after it). Free of cost in other builds.
#ifdef WEFT_TSAN
// The fiber FiberSwitch::start enters (stack.cpp).
void* tsan_fiber_to_enter(const void* bottom, size_t size, bool dying);
#endif

struct FiberSwitch {
  void* fake_stack = nullptr;
#ifdef WEFT_TSAN
  // Inline on purpose: TSan must switch fibers in the caller's frame. An
  // out-of-line start() would return on the entered fiber, popping a frame
  // it never pushed (below the start of a fresh fiber's shadow stack).
  __attribute__((always_inline)) void start(const void* bottom, size_t size, bool dying) {
    __tsan_switch_to_fiber(tsan_fiber_to_enter(bottom, size, dying), 0);
  }
#else
  void start(const void* bottom, size_t size, bool dying);
#endif
  void finish();
};

// The calling thread's own stack (an M's g0 stack), for FiberSwitch. An M
// calls it once, on its own thread, before its first switch (under TSan it
// also records the thread's own fiber as the one g0 switches go to).
void thread_stack_bounds(void** lo, size_t* size);

// A stack whose frames will never run again (its goroutine was parked
// stackfully or cut off when its Runtime stopped) goes back to a pool with
// those frames' ASan redzones still poisoned: clear them first, or the
// stack's next user trips over them (under TSan the stack gets a new fiber,
// whose shadow call stack is empty). Free of cost unless built with a sanitizer.
void forget_frames(NativeStack* s);

}  // namespace weft::arch
