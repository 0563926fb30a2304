// The finalizer thread (model in vm/gc/finalize.h).
#define GC_THREADS 1
#define GC_NO_THREAD_REDIRECTS 1  // we create no threads through bdwgc
#include <gc/gc.h>

#include <atomic>
#include <condition_variable>
#include <thread>
#include <vector>

#include "vm/core/fatal.h"
#include "vm/gc/finalize.h"

namespace weft::gc {

namespace {

std::atomic<FinalizerHook> g_hook{nullptr};
std::mutex g_invoking;  // finalizer_gate: held across GC_invoke_finalizers

// Process-wide and never destroyed: the thread lives as long as the
// process (as the collector thread does), so nothing here may be torn
// down at exit under it.
struct FinalizerThread {
  FinalizerThread() { std::thread([this] { loop(); }).detach(); }

  void poke() {
    std::lock_guard lk(mu);
    poked = true;
    cv.notify_one();
  }

  void loop() {
    for (;;) {
      {
        std::unique_lock lk(mu);
        cv.wait(lk, [this] { return poked; });
        poked = false;
      }
      drain();
    }
  }

  // bdwgc's queue into `ready` (under the gate), then the hook for each
  // cookie with no lock held.
  void drain() {
    while (GC_should_invoke_finalizers()) {
      {
        std::lock_guard gate(g_invoking);
        GC_invoke_finalizers();
      }
      std::vector<uintptr_t> batch;
      {
        std::lock_guard lk(mu);
        batch.swap(ready);
      }
      FinalizerHook hook = g_hook.load(std::memory_order_acquire);
      for (uintptr_t cookie : batch) hook(cookie);
    }
  }

  std::mutex mu;                // guards poked and ready
  std::condition_variable cv;
  bool poked = false;
  std::vector<uintptr_t> ready;  // cookies bdwgc handed over, not yet hooked
};

FinalizerThread* g_thread = nullptr;  // made by the first registration
std::once_flag g_start;

FinalizerThread& thread() {
  std::call_once(g_start, [] { g_thread = new FinalizerThread(); });
  return *g_thread;
}

// bdwgc's callback, inside GC_invoke_finalizers on the finalizer thread:
// only queues the cookie (the object's memory is not touched).
void GC_CALLBACK queue_cookie(void*, void* cookie) {
  std::lock_guard lk(g_thread->mu);
  g_thread->ready.push_back(reinterpret_cast<uintptr_t>(cookie));
}

}  // namespace

void set_finalizer_hook(FinalizerHook hook) { g_hook.store(hook, std::memory_order_release); }

void register_finalizer(const void* obj, uintptr_t cookie) {
  if (g_hook.load(std::memory_order_acquire) == nullptr) fatal("gc: a finalizer registered with no hook set");
  thread();
  GC_register_finalizer_no_order(const_cast<void*>(obj), queue_cookie, reinterpret_cast<void*>(cookie), nullptr,
                                 nullptr);
}

void wake_finalizers() {
  if (g_thread != nullptr && GC_should_invoke_finalizers()) g_thread->poke();
}

std::mutex& finalizer_gate() { return g_invoking; }

}  // namespace weft::gc
