// Asynchronous preemption, the machine's part (vm/arch): the asyncPreempt
// trampoline, the spill area it writes, the injection of a call to it into
// a signal's interrupted context, and the restartable allocation sequence.
// vm/sched/preempt.cpp decides *whether* to preempt; this file says *how*
// on this CPU.
//
// Model (amd64 first, arm64 after the picture; docs/design.md#asynchronous-preemption and the hazards
// after it, docs/design.md#red-zone and docs/design.md#xsave). The SIGURG
// handler, on the M's signal stack, edits the interrupted context so that
// returning from the signal calls weft_async_preempt as if the interrupted
// instruction had called it:
//
//    interrupted sp  ->  +-------------------------------+  (any alignment)
//                        | 128-byte red zone: untouched  |
//                        +-------------------------------+
//                        | return pc (the interrupted pc,|  <- pushed by inject_call
//                        |  or a restart pc)             |
//    Spill*          ->  | rflags, rax .. r15            |  <- pushed by the trampoline
//                        +-------------------------------+
//                        | (gap: aligned down to 64)     |
//    xsave area      ->  | XSAVE64 image, xsave_bytes()  |  header zeroed first
//                        +-------------------------------+
//                        | weft_async_preempt2's frames  |  (switch to g0 etc.)
//
// The trampoline saves flags first, then every integer register, then the
// full extended state with XSAVE64 (x87, SSE, AVX, AVX-512, MXCSR: the
// CPU's whole XCR0 mask; size from CPUID leaf 0xD), clears DF, and calls
// weft_async_preempt2(Spill*, xsave area). When that returns (the G was
// rescheduled, perhaps on another M), it restores everything in reverse and
// returns with `ret $128`, which pops the return pc and the red zone: the
// interrupted code resumes at its exact pc and sp with every register and
// flag as it was.
//
// Restartable sequences: a pc range whose code only reads its inputs and
// commits with one final store. Interrupted anywhere before the commit, it
// resumes at its start instead (on the new M, with a fresh look at M and P).
// weft_alloc_fast is one: the per-P allocation fast path (vm/gc/heap.h).
//
// arm64 (vm/arch/arm64/async.S) differs: no red zone and no return address
// on the stack. The handler stores the interrupted x30 and the resume pc in
// a 16-byte slot right below sp, sets x30 to the resume pc and clears
// PSTATE.BTYPE; the trampoline stores x0-x29, NZCV, FPSR, FPCR and all 128
// bits of q0-q31 below that slot (the whole vector state lives in the
// Spill: xsave_bytes() is 0), and returns with `ret x18`, x18 being
// reserved for it (-ffixed-x18; async.S says why).
//
// Rejected: saving XMM0-15 only (Go's choice: corrupts AVX and x87 state in
// C++ code), FXSAVE (misses AVX), XSAVEOPT/XSAVEC (modified/compacted
// forms: the layout would depend on what the CPU tracked), and switching
// stacks inside the signal handler (the kernel would later restore a stale
// signal mask and altstack on another M).
#pragma once

#include <cstddef>
#include <cstdint>

// struct Spill (the integer registers and flags, as the trampoline pushed
// them: lowest address first; the collector scans it conservatively, tests
// read it) and kSpillBytes, generated from the architecture's table
// (vm/arch/<arch>/layout.cmake) into vm/arch/<arch>/gen/, which CMake puts
// on the include path.
#include "arch_layout.h"

namespace weft::arch {

// Sets up the trampoline from the CPU (amd64: CPUID leaf 0xD, XCR0). False
// when the CPU or OS lacks what it needs (amd64: XSAVE): asynchronous
// preemption is then unavailable. Call once before any M starts; later
// calls return the first answer.
bool async_init();
// The extended-state image's size (after async_init): amd64's XSAVE image;
// 0 where the vector state is inside the Spill (arm64).
size_t xsave_bytes();

// The stack the injected call needs below the interrupted sp, in the worst
// case: red zone, return pc, Spill, alignment, the XSAVE image, and
// `callee_bytes` for weft_async_preempt2 and what it calls.
size_t async_frame_bytes(size_t callee_bytes);

// Signal-handler side, on a ucontext_t*: the interrupted pc and sp, and the
// edit that makes the context call weft_async_preempt, returning to
// resume_pc (the interrupted pc, or a restart pc). False, with the context
// untouched, when this context cannot take the call (arm64: an sp that is
// not 16-byte aligned). Async-signal-safe.
uintptr_t context_pc(const void* uc);
uintptr_t context_sp(const void* uc);
bool inject_async_call(void* uc, uintptr_t resume_pc);

// A pc range of machine code outside the async-safe section that the
// preempter must know about (vm/sched/preempt.h registers these).
struct CodeRange {
  uintptr_t lo, hi;   // [lo, hi)
  uintptr_t restart;  // resume here instead of at the pc; 0: none (never preempt inside)
};
// The restartable sequences of vm/arch (the allocation fast path), and the
// trampoline and context switch themselves (never preemptible).
CodeRange alloc_fast_range();

}  // namespace weft::arch

extern "C" {
// The trampoline (vm/arch/<arch>/async.S). Never called directly.
void weft_async_preempt();
// Called by the trampoline on the preempted G's stack; defined by
// vm/sched/preempt.cpp. Returns when the G runs again.
void weft_async_preempt2(weft::arch::Spill* spill, void* xsave);

// The allocation fast path (vm/gc/heap.h): pops the first object of the
// free list at byte offset `list` in the current M's P's cache, if the
// cache belongs to `owner`, and adds `bytes` to the cache's unreported
// count. nullptr when there is no P, no cache of that owner, or the list is
// empty (the caller takes the slow path). Restartable up to its commit.
void* weft_alloc_fast(size_t list, const void* owner, size_t bytes);
}
