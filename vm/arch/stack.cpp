// Native stacks: mapping, guard pages, pools, and the sanitizer hooks. The
// model is in vm/arch/stack.h.
#include "vm/arch/stack.h"

#include <pthread.h>
#include <sys/mman.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>

#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define WEFT_HAVE_VALGRIND 1
#endif

#ifdef WEFT_ASAN
#include <sanitizer/asan_interface.h>
#endif

namespace weft::arch {

namespace {

std::mutex g_pool_mu;                 // guards g_pool
NativeStack* g_pool = nullptr;        // the global pool

NativeStack* map_stack() {
  size_t total = kStackSize + kGuardSize;
  void* p = mmap(nullptr, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                 -1, 0);
  if (p == MAP_FAILED) {
    std::perror("mmap");
    std::fprintf(stderr, "fatal error: arch: cannot map a goroutine stack\n");
    std::abort();
  }
  if (mprotect(p, kGuardSize, PROT_NONE) != 0) {
    std::perror("mprotect");
    std::abort();
  }
  auto* s = new NativeStack{};
  s->lo = static_cast<char*>(p) + kGuardSize;
  s->size = kStackSize;
#ifdef WEFT_HAVE_VALGRIND
  s->valgrind_id = VALGRIND_STACK_REGISTER(s->lo, static_cast<char*>(s->lo) + s->size);
#endif
  return s;
}

void unmap_stack(NativeStack* s) {
#ifdef WEFT_HAVE_VALGRIND
  VALGRIND_STACK_DEREGISTER(s->valgrind_id);
#endif
  munmap(static_cast<char*>(s->lo) - kGuardSize, s->size + kGuardSize);
  delete s;
}

}  // namespace

StackPool::~StackPool() {
  std::lock_guard<std::mutex> lk(g_pool_mu);
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
    std::lock_guard<std::mutex> lk(g_pool_mu);
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
  std::lock_guard<std::mutex> lk(g_pool_mu);
  s->next = g_pool;
  g_pool = s;
}

void release_global_stacks() {
  NativeStack* list;
  {
    std::lock_guard<std::mutex> lk(g_pool_mu);
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
#else
void FiberSwitch::start(const void*, size_t, bool) {}
void FiberSwitch::finish() {}
#endif

void thread_stack_bounds(void** lo, size_t* size) {
  pthread_attr_t attr;
  *lo = nullptr;
  *size = 0;
  if (pthread_getattr_np(pthread_self(), &attr) != 0) return;
  pthread_attr_getstack(&attr, lo, size);
  pthread_attr_destroy(&attr);
}

void forget_frames([[maybe_unused]] NativeStack* s) {
#ifdef WEFT_ASAN
  ASAN_UNPOISON_MEMORY_REGION(s->lo, s->size);
#endif
}

}  // namespace weft::arch
