// amd64: the asyncPreempt trampoline and the restartable allocation fast
// path. See vm/arch/async.h for the model and the stack picture.
// No CET property note: `ret $128` is not shadow-stack compatible.
#include "vm/arch/amd64/gen/arch_offsets.h"
#include "vm/arch/amd64/gen/arch_macros.inc"

  .text

// Entered by a signal-injected call: [rsp] holds the pc to resume at, and
// the interrupted sp is rsp + 8 + 128 (the red zone lies between).
// CFI: the canonical frame address is the interrupted sp, so debuggers
// unwind from here into the interrupted function. The spill area's slots,
// their order and their CFI come from the table vm/arch/amd64/layout.cmake
// (through gen/arch_macros.inc).
  .globl weft_async_preempt
  .type weft_async_preempt, @function
  .p2align 4
weft_async_preempt:
  .cfi_startproc
  .cfi_signal_frame
  WEFT_SPILL_ENTRY_CFI
  WEFT_SPILL_PUSH
  // rbx (saved) keeps the Spill's address; the frame is found through it.
  movq %rsp, %rbx
  .cfi_def_cfa_register %rbx
  // The XSAVE image: 64-byte aligned below the Spill, its header (bytes
  // 512..575) zeroed with integer stores first (XSAVE leaves XCOMP_BV and
  // the reserved bytes alone, and XRSTOR faults on garbage there).
  subq weft_xsave_size(%rip), %rsp
  andq $-WEFT_XSAVE_ALIGN, %rsp
  xorl %eax, %eax
  WEFT_XSAVE_ZERO_HEADER %rax
  movl weft_xsave_mask(%rip), %eax
  movl weft_xsave_mask+4(%rip), %edx
  xsave64 (%rsp)
  cld
  movq %rbx, %rdi
  movq %rsp, %rsi
  call weft_async_preempt2@PLT
  movl weft_xsave_mask(%rip), %eax
  movl weft_xsave_mask+4(%rip), %edx
  xrstor64 (%rsp)
  movq %rbx, %rsp
  .cfi_def_cfa_register %rsp
  WEFT_SPILL_POP
  ret $WEFT_SPILL_RED_ZONE
  .cfi_endproc
  .size weft_async_preempt, .-weft_async_preempt

// void* weft_alloc_fast(size_t list, const void* owner, size_t bytes)
// The per-P free-list pop. [weft_alloc_fast, weft_alloc_fast_commit_end)
// is a restartable sequence: it only reads (the M from TLS, its P, the P's
// cache, the list head and the first object's link) until the single store
// that commits the pop, and never moves rsp or writes its inputs (rdi rsi
// rdx), so a preemption anywhere before the commit resumes at the start,
// on whichever M the G then runs. After the commit nothing is preemptible.
  .globl weft_alloc_fast
  .globl weft_alloc_fast_commit_end
  .type weft_alloc_fast, @function
  .p2align 4
weft_alloc_fast:
  .cfi_startproc
  movq weft_tls_m@gottpoff(%rip), %rax
  movq %fs:(%rax), %rax          // the M
  testq %rax, %rax
  jz 1f
  movq WEFT_M_P(%rax), %rax      // its P
  testq %rax, %rax
  jz 1f
  movq WEFT_P_MCACHE(%rax), %rax // the P's cache
  testq %rax, %rax
  jz 1f
  cmpq %rsi, WEFT_CACHE_OWNER(%rax)
  jne 1f
  leaq (%rax,%rdi), %rcx         // the list head
  movq (%rcx), %r8               // the first object
  testq %r8, %r8
  jz 1f
  movq (%r8), %r9                // its link: the next object
  movq %r9, (%rcx)               // commit
weft_alloc_fast_commit_end:
  addq %rdx, WEFT_CACHE_UNREPORTED(%rax)
  movq $0, (%r8)                 // the link word; bdwgc zeroed the rest
  movq %r8, %rax
  ret
1:
  xorl %eax, %eax
  ret
  .cfi_endproc
  .size weft_alloc_fast, .-weft_alloc_fast

  .section .note.GNU-stack, "", @progbits
