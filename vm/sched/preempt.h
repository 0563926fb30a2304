// Asynchronous preemption: stopping a goroutine at any instruction of
// async-safe code (the third kind of safe-point of Go's preempt.go;
// docs/design.md#asynchronous-preemption).
//
// Model. A preempter (suspendG, the stop-the-world, sysmon's time slice,
// --preempt-stress) sets g->preempt (and preemptStop for a suspendG),
// poisons the guard for the synchronous path, and calls preemptM, which
// sends SIGURG to the G's M with tgkill, at most one in flight per M
// (m->signalPending). The handler runs on the M's own signal stack. If the
// M's current G still wants preemption (wantAsyncPreempt) and the
// interrupted point is an async safe-point (isAsyncSafePoint: see
// async_safe_point in preempt.cpp for every check), it edits the signal
// context so that the G calls the asyncPreempt trampoline (vm/arch/async.h)
// on return; otherwise the request waits for the next signal or the next
// synchronous safe-point. Either way it bumps m->preemptGen, which tells
// suspendG a request was delivered.
//
// The trampoline saves every register and calls weft_async_preempt2 on the
// G's stack, which marks the G asyncSafePoint and parks it stackfully
// (preemptPark for a suspendG, otherwise a yield to the global queue).
// While it is parked the collector scans its top VM frame (vm/interp/scan.cpp)
// and its native stack (vm/gc/scan.cpp) conservatively.
// When rescheduled, perhaps on another M, it returns through the trampoline
// to the exact interrupted instruction.
//
// The unsafe-point table decides which pcs are async safe-points: sorted
// ranges of kind `safe` (code that may be stopped anywhere and resumed on
// another M) or `restart` (a sequence that resumes at its start). Built from
// the linker section weft_async_safe (functions marked WEFT_ASYNC_SAFE: the
// interpreter loop and pure compute builtins), vm/arch's restartable
// allocation fast path, and ranges registered at run time (tests, stubs).
// Every other pc (libc, the runtime, the allocator, the trampoline, the
// context switch) is unsafe.
//
// Rules for WEFT_ASYNC_SAFE code (docs/design.md#unsafe-points,
// docs/design.md#tls-across-calls): no thread-local storage (no thread_local,
// no errno, no getm()/getg()), no M or P pointers kept in registers, no
// runtime locks held. It may call anything: the callee's own pc is judged
// separately. A test disassembles the section and fails on any %fs:/%gs:
// access or TLS helper call.
//
// Rejected: polling at loop back-edges (a check on the hottest path of
// every loop; Go rejected it too), and stopping in any code whose pc has
// stack maps (our C++ frames have none; conservative scanning of the
// interrupted frames covers what a safe range can hold).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "vm/sched/sched.h"

// Places a function in the async-safe section (see the rules above).
// noinline: inlined into an unsafe caller, its code would leave the section.
#define WEFT_ASYNC_SAFE __attribute__((section("weft_async_safe"), noinline))

namespace weft::sched {

// Process-wide setup, before any M of a Sched starts: probes the CPU
// (vm/arch), builds the table, installs the SIGURG handler (once; an
// embedder's earlier handler is kept and chained). `enabled` is the
// asyncpreemptoff knob's inverse, for the Sched being started.
void preempt_init(bool enabled);
// The process allows asynchronous preemption (not under Valgrind or TSan).
bool async_preempt_enabled();
// ...and g's Sched has it on. Async-signal-safe (immutable fields).
bool async_preempt_allowed(const G* g);

// Per M, on its own thread: at start (thread id, a 32 KiB signal stack,
// SIGURG unblocked) and before it exits (the signal stack disabled, then
// freed).
void preempt_minit(M* m);
void preempt_mexit(M* m);
// A host thread's M (vm/sched/hostcall.cpp), on that thread: its thread id,
// and once per thread an alternate signal stack (unless the thread has one
// of at least 16 KiB; ours is freed when the thread exits) and SIGURG
// unblocked. A SIGURG of ours that lands between two calls, when the
// thread has no current M, goes to the handler installed before ours.
void preempt_host_minit(M* m);

// Asks g's M to preempt g asynchronously (Go's preemptM). Any thread.
void preemptM(M* m);
// Asks the G running on p to stop at its next safe-point of either kind
// (Go's preemptone), unless that G is `spare`. The G is read once and only
// it is flagged: if another G runs on p by the time the signal lands, the
// handler leaves it alone (want_async_preempt). Any thread.
void preemptone(P* p, const G* spare = nullptr);

// The unsafe-point table. Registers [lo, hi) as safe (restart == 0) or as
// a restartable sequence resuming at `restart`. Any thread, any time.
void register_async_range(uintptr_t lo, uintptr_t hi, uintptr_t restart);
// Whether pc is an async safe-point; *resume is where the G continues (pc,
// or the start of its restartable sequence).
bool async_pc(uintptr_t pc, uintptr_t* resume);

// --preempt-stress: a thread that asks every running G to preempt
// asynchronously about every 50 µs, until stopped.
void preempt_stress_start(Sched* s);
void preempt_stress_stop(Sched* s);

// Process-wide counters (tests, benchmarks, --trace=sched).
struct PreemptCounters {
  std::atomic<uint64_t> signals{0};         // SIGURGs sent by preemptM
  std::atomic<uint64_t> injected{0};        // handler made the G call the trampoline
  std::atomic<uint64_t> restarted{0};       // ...at the start of a restartable sequence
  std::atomic<uint64_t> migrated{0};        // resumed on another M than it stopped on
  std::atomic<uint64_t> sp_aligned{0};      // interrupted sp % 16 == 0
  std::atomic<uint64_t> sp_misaligned{0};   // interrupted sp % 16 != 0
  // Refusals: the request stays pending.
  std::atomic<uint64_t> refused_pc{0};      // pc not in a safe or restart range
  std::atomic<uint64_t> refused_state{0};   // not the running user G / its P not running
  std::atomic<uint64_t> refused_locks{0};   // m->locks, m->mallocing or m->preemptoff
  std::atomic<uint64_t> refused_stack{0};   // no room for the spill area
  std::atomic<uint64_t> foreign{0};         // SIGURGs the VM did not send
};
PreemptCounters& preempt_counters();

}  // namespace weft::sched
