// arm64 context switch (AAPCS64). See vm/arch/context.h.
//
// The frame weft_switch leaves on a suspended stack (x19-x30, d8-d15 and
// FPCR below the saved sp) is the table vm/arch/arm64/layout.cmake's
// WEFT_CONTEXT; gen/arch_macros.inc stores and loads it, and make_context
// (context.cpp) builds the same frame for a fresh stack, with
// weft_context_start in x30, entry in x19 and arg in x20.
// No BTI/PAC property note: weft_async_preempt returns to arbitrary pcs.
#include "vm/arch/arm64/gen/arch_macros.inc"

  .text
  .globl weft_switch
  .type weft_switch, %function
  .p2align 4
weft_switch:
  WEFT_CONTEXT_PUSH x9
  mov x9, sp
  str x9, [x0]
  ldr x9, [x1]
  mov sp, x9
  WEFT_CONTEXT_POP x9, x10
  ret
  .size weft_switch, .-weft_switch

// First activation on a fresh stack: sp is 16-byte aligned at the top of
// the stack, x29 is 0 (the end of the frame chain). entry never returns.
  .globl weft_context_start
  .type weft_context_start, %function
  .p2align 4
weft_context_start:
  mov x0, x20
  blr x19
  brk #0
  .size weft_context_start, .-weft_context_start

  .section .note.GNU-stack, "", %progbits
