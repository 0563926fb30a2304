// amd64 context switch (System V). See vm/arch/context.h.
//
// The frame weft_switch leaves on a suspended stack (callee-saved
// registers, MXCSR and the x87 control word below the return address) is
// the table vm/arch/amd64/layout.cmake's WEFT_CONTEXT; gen/arch_macros.inc
// pushes and pops it, and make_context (context.cpp) builds the same frame
// for a fresh stack, with weft_context_start as the return address, entry
// in r12 and arg in r13.
// No CET property note: this object is not shadow-stack compatible, and
// later trampolines use `ret $128`.
#include "vm/arch/amd64/gen/arch_macros.inc"

  .text
  .globl weft_switch
  .type weft_switch, @function
  .p2align 4
weft_switch:
  WEFT_CONTEXT_PUSH
  movq %rsp, (%rdi)
  movq (%rsi), %rsp
  WEFT_CONTEXT_POP
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
