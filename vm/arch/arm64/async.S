// arm64: the asyncPreempt trampoline and the restartable allocation fast
// path. See vm/arch/async.h for the model and vm/arch/arm64/async.cpp for
// the injection.
//
// Returning to the exact pc: every one of x0-x30 may be live at the
// interrupted instruction (x30 too, in leaf code), and arm64 has no return
// that pops the pc from memory, so the jump back needs one register the
// interrupted code never holds. Weft reserves x18 (AAPCS64's platform
// register, which Linux leaves to user code): all of Weft is compiled with
// -ffixed-x18 on arm64 (CMakeLists.txt), so no async-safe code, inlined
// copies included, allocates it, and the test PreemptSafeSection.Lint
// disassembles the final binaries' async-safe section to prove it. The
// trampoline reloads every other register and returns with `ret x18`.
// Rejected: returning through rt_sigreturn on a frame built here (a
// syscall per preemption, and a kernel-version-dependent frame with SVE,
// SME and TPIDR2 records to fill in), and Go's way (R27, which its own
// compiler never allocates but GCC does).
// `ret x18` rather than `br x18`: ret leaves PSTATE.BTYPE 0, so even on a
// BTI-guarded page the resume pc needs no landing pad. (These objects carry
// no BTI property note, so the binary's pages are not guarded anyway.)
//
// SVE/SME: not saved. Async-safe code is built without SVE (the lint fails
// on any z or p register), and the q registers' 128 bits are all of the
// vector state such code has.
#include "vm/arch/arm64/gen/arch_offsets.h"
#include "vm/arch/arm64/gen/arch_macros.inc"

  .text

// Entered by a signal-injected call: sp is the interrupted sp - 16, where
// the injection stored the interrupted x30 and the resume pc; x30 holds the
// resume pc too. The CFA is the interrupted sp, the return address column
// the pc slot (gen/arch_macros.inc), so debuggers unwind from here into
// the interrupted function with its own x30.
  .globl weft_async_preempt
  .type weft_async_preempt, %function
  .p2align 4
weft_async_preempt:
  .cfi_startproc
  .cfi_signal_frame
  WEFT_SPILL_ENTRY_CFI
  WEFT_SPILL_PUSH x0
  // x19 (saved) keeps the Spill's address; the frame is found through it.
  mov x19, sp
  .cfi_def_cfa_register x19
  // The signal may have landed inside the flush-to-zero or default-NaN
  // code of its choice; the C++ below runs with that FPCR, as it does with
  // the interrupted MXCSR on amd64 (weft_switch gives g0 its own).
  mov x0, x19
  mov x1, x19  // the vector state is in the Spill: no separate image (xsave_bytes() == 0)
  bl weft_async_preempt2
  mov sp, x19
  .cfi_def_cfa_register sp
  ldr x18, [sp, #WEFT_SPILL_PC]
  WEFT_SPILL_POP x0
  ret x18
  .cfi_endproc
  .size weft_async_preempt, .-weft_async_preempt

// void* weft_alloc_fast(size_t list, const void* owner, size_t bytes)
// The per-P free-list pop. [weft_alloc_fast, weft_alloc_fast_commit_end)
// is a restartable sequence: it only reads (the M from TLS, its P, the P's
// cache, the list head and the first object's link) until the single store
// that commits the pop, and never moves sp or writes its inputs (x0 x1 x2)
// or x30, so a preemption anywhere before the commit resumes at the start,
// on whichever M the G then runs. After the commit nothing is preemptible.
// Ordering: the cache belongs to the P this M holds, and a G moves between
// Ms only through the scheduler's locks, so plain loads see its writes.
  .globl weft_alloc_fast
  .globl weft_alloc_fast_commit_end
  .type weft_alloc_fast, %function
  .p2align 4
weft_alloc_fast:
  .cfi_startproc
  adrp x9, :gottprel:weft_tls_m
  ldr x9, [x9, #:gottprel_lo12:weft_tls_m]
  mrs x10, tpidr_el0
  ldr x9, [x10, x9]              // the M
  cbz x9, 1f
  ldr x9, [x9, #WEFT_M_P]        // its P
  cbz x9, 1f
  ldr x9, [x9, #WEFT_P_MCACHE]   // the P's cache
  cbz x9, 1f
  ldr x10, [x9, #WEFT_CACHE_OWNER]
  cmp x10, x1
  b.ne 1f
  add x11, x9, x0                // the list head
  ldr x12, [x11]                 // the first object
  cbz x12, 1f
  ldr x13, [x12]                 // its link: the next object
  str x13, [x11]                 // commit
weft_alloc_fast_commit_end:
  ldr x10, [x9, #WEFT_CACHE_UNREPORTED]
  add x10, x10, x2
  str x10, [x9, #WEFT_CACHE_UNREPORTED]
  str xzr, [x12]                 // the link word; bdwgc zeroed the rest
  mov x0, x12
  ret
1:
  mov x0, #0
  ret
  .cfi_endproc
  .size weft_alloc_fast, .-weft_alloc_fast

  .section .note.GNU-stack, "", %progbits
