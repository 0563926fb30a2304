// Native stacks: mapping, guard pages, pools, and the sanitizer hooks. The
// model is in vm/arch/stack.h.
#include "vm/arch/stack.h"

#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <mutex>

#include "vm/core/fatal.h"
#include "vm/core/lockrank.h"

#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define WEFT_HAVE_VALGRIND 1
#endif

#ifdef WEFT_ASAN
#include <sanitizer/asan_interface.h>
#endif

namespace weft::arch {

namespace {

Mutex g_pool_mu{LockRank::Leaf};      // guards g_pool
NativeStack* g_pool = nullptr;        // the global pool

#ifdef WEFT_TSAN
// The TSan fiber of a stack lives in its tool slot (stack.h).
void** tool_slot(void* lo, size_t size) { return reinterpret_cast<void**>(static_cast<char*>(lo) + size); }

// The M's own thread stack and fiber (thread_stack_bounds records them):
// the target of every switch to g0 made on this thread.
thread_local const void* t_g0_lo = nullptr;
thread_local void* t_g0_fiber = nullptr;
// The tool slot of the NativeStack this thread last entered, and the one
// it just left for good. A stack left dying still has frames on its fiber's
// shadow call stack, which would pile up over the stack's next lives until
// TSan's shadow stack overflows: g0's finish() gives that stack a new fiber.
thread_local void** t_entered_slot = nullptr;
thread_local void** t_retired_slot = nullptr;

// Gives a stack a fresh fiber: its old one holds frames that will never run.
// The old fiber must not be the current one.
void renew_fiber(void** slot) {
  void* old = *slot;
  *slot = __tsan_create_fiber(0);
  __tsan_destroy_fiber(old);
}

// The current fiber is the thread's own only while the thread runs on its
// own stack. A host M made by a native that calls another VM asks for the
// bounds from the goroutine stack it borrows (vm/sched/hostcall.cpp): the
// current fiber is then that stack's, and taking it for g0's made the
// goroutine's end destroy the fiber it was running on (renew_fiber), after
// which TSan's thread state was freed memory (a signal then failed TSan's
// CHECK thr->slot != 0). So the fiber is taken only from the thread's stack;
// a borrowed-stack call finds it recorded already, as the thread became an
// M (mstart, or a host call's host_acquire) on its own stack first.
void record_g0_fiber(const void* lo, size_t size) {
  const char* here = static_cast<const char*>(__builtin_frame_address(0));
  const char* bottom = static_cast<const char*>(lo);
  if (here < bottom || here >= bottom + size) return;
  t_g0_lo = lo;
  t_g0_fiber = __tsan_get_current_fiber();
}
#endif

NativeStack* map_stack() {
  size_t guard = guard_size();
  size_t total = kStackSize + guard;
  void* p = mmap(nullptr, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                 -1, 0);
  if (p == MAP_FAILED) {
    std::fprintf(stderr, "runtime: mmap of a %zu-byte goroutine stack failed: %s\n", total,
                 std::strerror(errno));
    fatal("arch: cannot map a goroutine stack");
  }
  if (mprotect(p, guard, PROT_NONE) != 0) {
    std::fprintf(stderr, "runtime: mprotect of the guard page at %p failed: %s\n", p,
                 std::strerror(errno));
    fatal("arch: cannot protect a goroutine stack's guard page");
  }
  auto* s = new NativeStack{};
  s->lo = static_cast<char*>(p) + guard;
  s->size = kStackSize - kToolSlot;
#ifdef WEFT_TSAN
  *tool_slot(s->lo, s->size) = __tsan_create_fiber(0);
#endif
#ifdef WEFT_HAVE_VALGRIND
  s->valgrind_id = VALGRIND_STACK_REGISTER(s->lo, static_cast<char*>(s->lo) + s->size);
#endif
  return s;
}

void unmap_stack(NativeStack* s) {
#ifdef WEFT_HAVE_VALGRIND
  VALGRIND_STACK_DEREGISTER(s->valgrind_id);
#endif
#ifdef WEFT_TSAN
  __tsan_destroy_fiber(*tool_slot(s->lo, s->size));
#endif
  munmap(static_cast<char*>(s->lo) - guard_size(), kStackSize + guard_size());
  delete s;
}

}  // namespace

size_t guard_size() {
  static const size_t page = [] {
    long n = sysconf(_SC_PAGESIZE);
    return n > 0 ? size_t(n) : size_t(4096);
  }();
  return page;
}

StackPool::~StackPool() {
  std::lock_guard lk(g_pool_mu);
  while (NativeStack* s = free_) {
    free_ = s->next;
    s->next = g_pool;
    g_pool = s;
  }
}

NativeStack* StackPool::get() {
  NativeStack* s = free_;
  if (s != nullptr) {
    free_ = s->next;
    count_--;
  } else {
    std::lock_guard lk(g_pool_mu);
    s = g_pool;
    if (s != nullptr) g_pool = s->next;
  }
  if (s == nullptr) s = map_stack();
  s->next = nullptr;
  s->ctx.sp = nullptr;
  return s;
}

void StackPool::put(NativeStack* s) {
  s->ctx.sp = nullptr;
  if (count_ < kStackPoolPerM) {
    s->next = free_;
    free_ = s;
    count_++;
    return;
  }
  std::lock_guard lk(g_pool_mu);
  s->next = g_pool;
  g_pool = s;
}

void release_global_stacks() {
  NativeStack* list;
  {
    std::lock_guard lk(g_pool_mu);
    list = g_pool;
    g_pool = nullptr;
  }
  while (NativeStack* s = list) {
    list = s->next;
    unmap_stack(s);
  }
}

#ifdef WEFT_ASAN
void FiberSwitch::start(const void* bottom, size_t size, bool dying) {
  // Leaving a stack for good with frames still on it: clear their redzones,
  // or the stack's next user trips over stale poison (the pool reuses it).
  if (dying) __asan_handle_no_return();
  __sanitizer_start_switch_fiber(dying ? nullptr : &fake_stack, bottom, size);
}
void FiberSwitch::finish() { __sanitizer_finish_switch_fiber(fake_stack, nullptr, nullptr); }
#elif defined(WEFT_TSAN)
// start() switches with flags 0, which synchronizes: what the M did before
// the switch happens before what the entered stack does next.
// A dying stack is the one this thread last entered, whether the switch
// goes to the thread's own stack or to a goroutine stack a host M borrowed
// as its g0 (a native calling another VM, vm/sched/hostcall.cpp): both
// retire it, so that a stack that ends a nested host call also comes back
// with an empty shadow call stack.
void* tsan_fiber_to_enter(const void* bottom, size_t size, bool dying) {
  if (dying) t_retired_slot = t_entered_slot;
  if (bottom == t_g0_lo) return t_g0_fiber;
  t_entered_slot = tool_slot(const_cast<void*>(bottom), size);
  return *t_entered_slot;
}
void FiberSwitch::finish() {
  if (t_retired_slot == nullptr) return;
  renew_fiber(t_retired_slot);
  t_retired_slot = nullptr;
}
#else
void FiberSwitch::start(const void*, size_t, bool) {}
void FiberSwitch::finish() {}
#endif

void thread_stack_bounds(void** lo, size_t* size) {
  pthread_attr_t attr;
  *lo = nullptr;
  *size = 0;
  if (pthread_getattr_np(pthread_self(), &attr) == 0) {
    pthread_attr_getstack(&attr, lo, size);
    pthread_attr_destroy(&attr);
  }
#ifdef WEFT_TSAN
  record_g0_fiber(*lo, *size);
#endif
}

void forget_frames([[maybe_unused]] NativeStack* s) {
#ifdef WEFT_ASAN
  ASAN_UNPOISON_MEMORY_REGION(s->lo, s->size);
#endif
#ifdef WEFT_TSAN
  renew_fiber(tool_slot(s->lo, s->size));
#endif
}

}  // namespace weft::arch
