// Asynchronous preemption: preemptM, the SIGURG handler, the unsafe-point
// table, weft_async_preempt2 and --preempt-stress. The model is in
// vm/sched/preempt.h; Go's preempt.go and signal_unix.go are the commentary.
//
// Signal-handler code (sigurg and what it calls) takes no lock, allocates
// nothing, touches only atomics and the interrupted context, and saves
// errno. It reads the M from initial-exec TLS (a plain %fs load).
#include "vm/sched/preempt.h"

#include <signal.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <ctime>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#else
#define RUNNING_ON_VALGRIND 0
#endif

#include "vm/arch/async.h"
#include "vm/arch/stack.h"
#include "vm/core/fatal.h"
#include "vm/sched/os_linux.h"

extern "C" {
// The async-safe section's bounds, made by the linker.
extern char __start_weft_async_safe[] __attribute__((weak));
extern char __stop_weft_async_safe[] __attribute__((weak));
}

namespace weft::sched {

namespace {

// The handler's own frame is ~3 KiB; the kernel's signal frame is what
// AT_MINSIGSTKSZ says (3,376 bytes with AVX-512, 4-5 KiB with arm64's SVE
// record, far more with SME's ZA), so the stack is that plus 32 KiB.
size_t sigstack_size() {
  static const size_t size = [] {
    size_t page = arch::guard_size();
    size_t need = size_t(getauxval(AT_MINSIGSTKSZ)) + 32 * 1024;
    return (need + page - 1) / page * page;
  }();
  return size;
}
// Stack weft_async_preempt2 and the switch to g0 need below the XSAVE
// image. Measured at ~0.3 KiB in -O2 and ~2 KiB under ASan; the check in
// weft_async_preempt2 fails loudly if that ever grows past the budget.
#ifdef WEFT_ASAN
constexpr size_t kCalleeBytes = 16 * 1024;
#else
constexpr size_t kCalleeBytes = 4 * 1024;
#endif
// --preempt-stress signals "about every 50 µs" (docs/hacking.md#stress-modes).
constexpr int64_t kStressPeriodNs = 50'000;
// ThreadSanitizer runs an asynchronous signal's handler late (at the
// thread's next interceptor or atomic) and passes it a copy of the
// interrupted context: an injected call is lost, and the return address it
// pushes lands below a stack pointer that has moved since, on live frames.
// A WEFT_TSAN build has no asynchronous preemption (docs/design.md#tools).
#ifdef WEFT_TSAN
constexpr bool kSignalsDeferred = true;
#else
constexpr bool kSignalsDeferred = false;
#endif

PreemptCounters g_counters;
std::atomic<bool> g_enabled{false};
std::once_flag g_install_once;
struct sigaction g_prev_action;  // the handler before ours, chained for SIGURGs we did not send

// ---- the unsafe-point table ----

struct Range {
  uintptr_t lo, hi, restart;
};
// Published as an immutable sorted array; replaced (never modified) under
// g_table_mu. Old tables stay allocated (a handler may still be reading
// one), in g_tables, for the process's life: registrations are few.
Mutex g_table_mu{LockRank::Leaf};
std::vector<std::unique_ptr<std::vector<Range>>> g_tables;
std::atomic<const std::vector<Range>*> g_table{nullptr};

void publish(std::vector<Range> ranges) {
  std::sort(ranges.begin(), ranges.end(), [](const Range& a, const Range& b) { return a.lo < b.lo; });
  g_tables.push_back(std::make_unique<std::vector<Range>>(std::move(ranges)));
  // Release / async_pc's acquire: a handler on another CPU that sees the
  // new table sees its contents (arm64 would otherwise allow a stale array).
  g_table.store(g_tables.back().get(), std::memory_order_release);
}

void build_table_once() {
  std::lock_guard lk(g_table_mu);
  if (g_table.load() != nullptr) return;
  std::vector<Range> r;
  uintptr_t lo = uintptr_t(__start_weft_async_safe), hi = uintptr_t(__stop_weft_async_safe);
  if (lo != 0 && lo < hi) r.push_back({lo, hi, 0});
  arch::CodeRange a = arch::alloc_fast_range();
  r.push_back({a.lo, a.hi, a.restart});
  publish(std::move(r));
}

// ---- the handler ----

// Relaxed loads in the handler: the M's own fields (curg, locks) were
// written by this thread; g->preempt and the status are hints, re-checked
// after the G parks, and a stale "no" only delays the preemption until
// suspendG or the preempter asks again (it waits for preemptGen to move).
bool want_async_preempt(G* g) {
  return (g->preempt.load(std::memory_order_relaxed) || g->preemptStop.load(std::memory_order_relaxed)) &&
         (readgstatus(g) & ~uint32_t(_Gscan)) == _Grunning;
}

// Go's isAsyncSafePoint: every check of Go's that applies here.
// Returns the resume pc, or 0 (with the refusal counted).
uintptr_t async_safe_point(M* m, G* g, const void* uc) {
  // The G is the M's current user G, running on its own stack (not g0 or
  // the signal stack in between switches).
  uintptr_t sp = arch::context_sp(uc);
  arch::NativeStack* st = g->stack;
  if (g->m.load(std::memory_order_relaxed) != m || st == nullptr || sp <= uintptr_t(st->lo) ||
      sp > uintptr_t(st->lo) + st->size) {
    g_counters.refused_state.fetch_add(1, std::memory_order_relaxed);
    return 0;
  }
  P* p = m->p;
  if (p == nullptr || p->status.load(std::memory_order_relaxed) != _Prunning) {
    g_counters.refused_state.fetch_add(1, std::memory_order_relaxed);
    return 0;
  }
  if (m->locks.load(std::memory_order_relaxed) != 0 || m->mallocing.load(std::memory_order_relaxed) != 0 ||
      m->preemptoff != nullptr) {
    g_counters.refused_locks.fetch_add(1, std::memory_order_relaxed);
    return 0;
  }
  if (sp - uintptr_t(st->lo) < arch::async_frame_bytes(kCalleeBytes)) {
    g_counters.refused_stack.fetch_add(1, std::memory_order_relaxed);
    return 0;
  }
  uintptr_t resume;
  if (!async_pc(arch::context_pc(uc), &resume)) {
    g_counters.refused_pc.fetch_add(1, std::memory_order_relaxed);
    return 0;
  }
  return resume;
}

void chain(int sig, siginfo_t* info, void* uc) {
  g_counters.foreign.fetch_add(1, std::memory_order_relaxed);
  const struct sigaction& prev = g_prev_action;
  if (prev.sa_flags & SA_SIGINFO) {
    if (prev.sa_sigaction != nullptr) prev.sa_sigaction(sig, info, uc);
  } else if (prev.sa_handler != SIG_DFL && prev.sa_handler != SIG_IGN) {
    prev.sa_handler(sig);
  }
}

void sigurg(int sig, siginfo_t* info, void* uc) {
  int saved_errno = errno;
  M* m = weft_tls_m;
  if (m == nullptr || !m->signalPending.load(std::memory_order_relaxed)) {
    chain(sig, info, uc);  // not ours (kill -URG, out-of-band data, an embedder's)
    errno = saved_errno;
    return;
  }
  G* g = m->curg.load(std::memory_order_relaxed);  // this thread's own M
  if (g != nullptr && async_preempt_allowed(g) && want_async_preempt(g)) {
    if (uintptr_t resume = async_safe_point(m, g, uc)) {
      uintptr_t sp = arch::context_sp(uc);
      uintptr_t pc = arch::context_pc(uc);
      if (arch::inject_async_call(uc, resume)) {
        (sp & 15 ? g_counters.sp_misaligned : g_counters.sp_aligned).fetch_add(1, std::memory_order_relaxed);
        if (resume != pc) g_counters.restarted.fetch_add(1, std::memory_order_relaxed);
        g_counters.injected.fetch_add(1, std::memory_order_relaxed);
      } else {
        g_counters.refused_stack.fetch_add(1, std::memory_order_relaxed);  // an sp the CPU cannot store through
      }
    }
  }
  // Delivered, whether or not it preempted: suspendG may ask again.
  // Release: a preempter whose CAS on signalPending (seq_cst) sees false
  // also sees the new preemptGen and the injected context's effects.
  m->preemptGen.fetch_add(1, std::memory_order_relaxed);
  m->signalPending.store(false, std::memory_order_release);
  errno = saved_errno;
}

void install_handler() {
  if (!arch::async_init()) return;  // no XSAVE: asynchronous preemption stays off
  if (arch::async_frame_bytes(kCalleeBytes) > arch::kStackSize / 4) {
    std::fprintf(stderr, "async preemption frame: %zu bytes; goroutine stack: %zu bytes\n",
                 arch::async_frame_bytes(kCalleeBytes), arch::kStackSize);
    fatal("preempt: the async preemption frame does not fit a goroutine stack");
  }
  build_table_once();
  struct sigaction sa = {};
  sa.sa_sigaction = sigurg;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
  sigemptyset(&sa.sa_mask);
  if (sigaction(SIGURG, &sa, &g_prev_action) != 0) fatal("preempt: sigaction(SIGURG) failed");
}

// ---- --preempt-stress ----

struct Stress {
  std::thread thread;
  std::atomic<bool> stop{false};
};
Mutex g_stress_mu{LockRank::Leaf};
std::vector<std::pair<Sched*, std::unique_ptr<Stress>>> g_stress;  // under g_stress_mu

void stress_main(Sched* s, Stress* st) {
  while (!st->stop.load(std::memory_order_relaxed)) {
    timespec ts{0, kStressPeriodNs};
    nanosleep(&ts, nullptr);  // EINTR only shortens one period
    for (P* p : s->allp) {
      if (p->status.load(std::memory_order_relaxed) != _Prunning) continue;
      M* m = p->m.load(std::memory_order_acquire);
      G* g = m ? m->curg.load(std::memory_order_acquire) : nullptr;
      if (g == nullptr) continue;
      g->preempt.store(true);  // no poisoned guard: this asks for the asynchronous kind only
      preemptM(m);
    }
  }
}

}  // namespace

// ---- the API ----

PreemptCounters& preempt_counters() { return g_counters; }

// Valgrind runs one thread at a time and emulates signal delivery: async
// preemption is off under it (docs/design.md#tools; Go's advice is the same),
// and under TSan (kSignalsDeferred).
// What this process allows; a Sched that turned it off (Options::
// async_preempt) is skipped per goroutine (preempt_allowed), so one VM's
// choice never changes another's.
void preempt_init(bool enabled) {
  std::call_once(g_install_once, install_handler);
  g_enabled.store(g_table.load() != nullptr && !RUNNING_ON_VALGRIND && !kSignalsDeferred);
#ifdef WEFT_NO_GUARD
  // This build has no synchronous poll (vm/interp/interp.cpp, kSyncPoll): without
  // the signal nothing would stop a running goroutine for the collector.
  if (!enabled || !g_enabled.load()) fatal("preempt: a WEFT_NO_GUARD build needs asynchronous preemption, which is off");
#else
  (void)enabled;
#endif
}

bool async_preempt_allowed(const G* g) {
  return g_enabled.load(std::memory_order_relaxed) && g->owner != nullptr && g->owner->opts.async_preempt;
}

bool async_preempt_enabled() { return g_enabled.load(std::memory_order_relaxed); }

void register_async_range(uintptr_t lo, uintptr_t hi, uintptr_t restart) {
  build_table_once();
  std::lock_guard lk(g_table_mu);
  std::vector<Range> r = *g_table.load();
  r.push_back({lo, hi, restart});
  publish(std::move(r));
}

bool async_pc(uintptr_t pc, uintptr_t* resume) {
  const std::vector<Range>* t = g_table.load(std::memory_order_acquire);
  if (t == nullptr) return false;
  // The last range starting at or below pc.
  size_t lo = 0, hi = t->size();
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if ((*t)[mid].lo <= pc) lo = mid + 1;
    else hi = mid;
  }
  if (lo == 0) return false;
  const Range& r = (*t)[lo - 1];
  if (pc >= r.hi) return false;
  *resume = r.restart != 0 ? r.restart : pc;
  return true;
}

void preempt_minit(M* m) {
  m->tid.store(gettid(), std::memory_order_relaxed);
  void* mem = mmap(nullptr, sigstack_size(), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) fatal("preempt: cannot map a signal stack");
  stack_t ss = {}, old = {};
  ss.ss_sp = mem;
  ss.ss_size = sigstack_size();
  if (sigaltstack(&ss, &old) != 0) fatal("preempt: sigaltstack failed");
  m->sigstack = mem;
  m->old_sigstack = old.ss_sp;
  m->old_sigstack_size = old.ss_size;
  m->old_sigstack_flags = old.ss_flags;
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGURG);
  pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
}

namespace {

// A host thread's alternate signal stack, when we installed it: disabled
// and freed when the thread exits.
struct HostSigStack {
  void* mem = nullptr;
  bool done = false;
  ~HostSigStack() {
    if (mem == nullptr) return;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGURG);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    stack_t ss = {};
    ss.ss_flags = SS_DISABLE;
    sigaltstack(&ss, nullptr);
    munmap(mem, sigstack_size());
  }
};
thread_local HostSigStack t_host_sigstack;

}  // namespace

void preempt_host_minit(M* m) {
  m->tid.store(gettid(), std::memory_order_relaxed);
  HostSigStack& hs = t_host_sigstack;
  if (hs.done) return;
  hs.done = true;
  stack_t old = {};
  sigaltstack(nullptr, &old);
  if ((old.ss_flags & SS_DISABLE) || old.ss_size < sigstack_size()) {
    void* mem = mmap(nullptr, sigstack_size(), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) fatal("preempt: cannot map a signal stack");
    stack_t ss = {};
    ss.ss_sp = mem;
    ss.ss_size = sigstack_size();
    if (sigaltstack(&ss, nullptr) != 0) fatal("preempt: sigaltstack failed");
    hs.mem = mem;
  }
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGURG);
  pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
}

void preempt_mexit(M* m) {
  // Block SIGURG first: none may land on a stack about to be unmapped.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGURG);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  stack_t ss = {};
  ss.ss_sp = m->old_sigstack;
  ss.ss_size = m->old_sigstack_size;
  ss.ss_flags = m->old_sigstack_flags & SS_DISABLE;
  if (ss.ss_sp == nullptr) ss.ss_flags = SS_DISABLE;
  sigaltstack(&ss, nullptr);
  munmap(m->sigstack, sigstack_size());
  m->sigstack = nullptr;
}

void preemptM(M* m) {
  if (!g_enabled.load(std::memory_order_relaxed) || m == nullptr) return;
  int32_t tid = m->tid.load(std::memory_order_relaxed);
  if (tid == 0) return;
  bool expected = false;
  if (!m->signalPending.compare_exchange_strong(expected, true)) return;  // one in flight
  g_counters.signals.fetch_add(1, std::memory_order_relaxed);
  tgkill(tid, SIGURG);
}

// Restoring the guard races with a preempter, which sets g->preempt and
// then poisons the guard: had the preempter poisoned it just before this
// store, the request would be lost until its next attempt (the stop-the-
// world re-preempts only every 100 µs).
// Store, fence, look: either this sees the request and poisons again, or
// the preempter's poison lands after this store (Dekker's pattern: the
// preempter's stores of g->preempt and of the poison are both seq_cst, so a
// poison this store overwrote precedes the fence, and so does the store of
// g->preempt before it).
void set_guard(GoroutineVM* vm, const G* g) {
  vm->stackguard.store(vm->guard_limit, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (g != nullptr && g->preempt.load(std::memory_order_relaxed))
    vm->stackguard.store(kStackPoison, std::memory_order_relaxed);
}

void preemptone(P* p, const G* spare) {
  M* m = p->m.load(std::memory_order_acquire);
  G* g = m ? m->curg.load(std::memory_order_acquire) : nullptr;
  if (g == nullptr || g == spare) return;
  g->preempt.store(true);
  g->vm->stackguard.store(kStackPoison);  // seq_cst, after g->preempt: set_guard
  preemptM(m);
}

void preempt_stress_start(Sched* s) {
  std::lock_guard lk(g_stress_mu);
  auto st = std::make_unique<Stress>();
  st->thread = std::thread(stress_main, s, st.get());
  g_stress.emplace_back(s, std::move(st));
}

void preempt_stress_stop(Sched* s) {
  std::unique_ptr<Stress> st;
  {
    std::lock_guard lk(g_stress_mu);
    for (auto it = g_stress.begin(); it != g_stress.end(); ++it) {
      if (it->first != s) continue;
      st = std::move(it->second);
      g_stress.erase(it);
      break;
    }
  }
  if (st == nullptr) return;
  st->stop.store(true);
  st->thread.join();
}

}  // namespace weft::sched

// The trampoline's call, on the preempted G's stack (vm/arch/async.h).
// Parks the G stackfully, marked asyncSafePoint so the collector scans it
// conservatively; returns when it runs again, perhaps on another M.
extern "C" void weft_async_preempt2(weft::arch::Spill* spill, void* xsave) {
  using namespace weft::sched;
  M* m = getm();
  G* g = m->curg.load(std::memory_order_relaxed);
  uintptr_t used = spill->interrupted_sp() - uintptr_t(__builtin_frame_address(0));
  if (used > weft::arch::async_frame_bytes(kCalleeBytes)) {
    std::fprintf(stderr, "async preemption frame: %zu bytes used\n", size_t(used));
    weft::fatal("preempt: the async preemption frame took more stack than budgeted");
  }
  g->async_spill = spill;
  g->async_xsave = xsave;
  g->asyncSafePoint.store(true);
  g->owner->hooks.counters->preemptions_async.fetch_add(1, std::memory_order_relaxed);
  park_stackful(g->preemptStop.load() ? M::Action::PreemptPark : M::Action::Gosched);
  if (getm() != m) g_counters.migrated.fetch_add(1, std::memory_order_relaxed);
  g->asyncSafePoint.store(false);
  g->async_spill = nullptr;
  g->async_xsave = nullptr;
}
