// Faults on goroutine stacks: a native stack overflow (a host native that
// recurses without end, say) runs into the guard page below the
// goroutine's native stack (vm/arch/stack.h). Without a handler that is a
// bare SIGSEGV; with it, the program ends like a Weft runtime error:
// "runtime error: stack overflow" and the goroutine's Weft traceback on
// stderr, exit status 2.
//
// Model. The handler runs on the M's signal stack (vm/sched/preempt.cpp
// sets one up per M: the goroutine's own stack is exhausted). A fault whose
// address lies in the running goroutine's guard page is ours; any other
// fault goes back to the handler that was there before (ASan's, an
// embedder's, or the default action) by reinstalling it and returning, so
// the faulting instruction runs again under it. The report is the VM's:
// the handler calls the Sched's Hooks::overflow (report_overflow,
// vm/interp/goroutine.cpp), which knows the goroutine's frames, and exits.
//
// It cannot be a catchable error: the native frames between the fault and
// the interpreter cannot be unwound safely (a native may hold a lock or be
// halfway through changing an object), so, as Go does for a goroutine
// stack overflow, the process ends. Formatting uses only fixed buffers and
// write(2); stdout's buffer is not flushed (its lock may be held by the
// very frames that overflowed).
#include <signal.h>
#include <unistd.h>

#include <mutex>

#include "vm/arch/stack.h"
#include "vm/sched/sched.h"

namespace weft::sched {

namespace {

constexpr int kSignals[] = {SIGSEGV, SIGBUS};
struct sigaction g_prev[2];
std::once_flag g_once;
void on_fault(int sig, siginfo_t* info, void* uc) {
  M* m = weft_tls_m;
  G* g = m != nullptr ? m->curg.load(std::memory_order_relaxed) : nullptr;
  uintptr_t addr = reinterpret_cast<uintptr_t>(info->si_addr);
  if (g != nullptr && g->stack != nullptr && g->vm != nullptr) {
    uintptr_t lo = reinterpret_cast<uintptr_t>(g->stack->lo);
    if (addr < lo && addr >= lo - arch::guard_size()) {
      g->owner->hooks.overflow(g);
      _exit(2);
    }
  }
  // Not a goroutine stack overflow: let the previous handler have it.
  int k = sig == SIGSEGV ? 0 : 1;
  const struct sigaction& prev = g_prev[k];
  if ((prev.sa_flags & SA_SIGINFO) && prev.sa_sigaction != nullptr) {
    prev.sa_sigaction(sig, info, uc);
    return;
  }
  sigaction(sig, &prev, nullptr);  // SIG_DFL or a plain handler: the fault repeats under it
}

void install() {
  for (int k = 0; k < 2; k++) {
    struct sigaction sa = {};
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    sigaction(kSignals[k], &sa, &g_prev[k]);
  }
}

}  // namespace

void fault_init() { std::call_once(g_once, install); }

}  // namespace weft::sched
