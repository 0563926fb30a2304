// amd64 context switch (System V). See vm/arch/context.h.
//
// Frame that weft_switch leaves on a suspended stack, from the saved sp up:
//   [sp+0]  MXCSR (4 bytes) | x87 control word (2 bytes) | pad
//   [sp+8]  r15   [sp+16] r14   [sp+24] r13   [sp+32] r12
//   [sp+40] rbx   [sp+48] rbp   [sp+56] return address
// make_context (context.cpp) builds the same frame for a fresh stack, with
// weft_context_start as the return address, entry in r12 and arg in r13.
// No CET property note: this object is not shadow-stack compatible, and
// later trampolines use `ret $128`.

  .text
  .globl weft_switch
  .type weft_switch, @function
  .p2align 4
weft_switch:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  subq $8, %rsp
  stmxcsr (%rsp)
  fnstcw 4(%rsp)
  movq %rsp, (%rdi)
  movq (%rsi), %rsp
  ldmxcsr (%rsp)
  fldcw 4(%rsp)
  addq $8, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
  .size weft_switch, .-weft_switch

// First activation on a fresh stack: rsp is 16-byte aligned here, so the
// call leaves entry with the ABI's alignment. entry never returns.
  .globl weft_context_start
  .type weft_context_start, @function
  .p2align 4
weft_context_start:
  movq %r13, %rdi
  xorl %ebp, %ebp
  call *%r12
  ud2
  .size weft_context_start, .-weft_context_start

  .section .note.GNU-stack, "", @progbits
