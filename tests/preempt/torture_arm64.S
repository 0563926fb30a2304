// arm64 loops for the async preemption torture test (preempt_test.cpp).
// Each keeps known values live in a class of registers for `iters`
// iterations, with dependencies that a lost or corrupted register, flag or
// control bit would change, and returns a 64-bit checksum of them all; the
// test compares it with a run nothing interrupted. They sit in the
// async-safe section, so a SIGURG may stop them at any instruction (except
// leaf_loop, which the test registers itself). x18 is never touched: it is
// reserved for the trampoline's return (vm/arch/arm64/async.S).
// The table torture_loops (at the end) is what the test runs.

  .section weft_async_safe, "ax", %progbits

// A 64-bit constant into a register.
.macro movconst reg, value
  movz \reg, #((\value) & 0xffff)
  movk \reg, #(((\value) >> 16) & 0xffff), lsl #16
  movk \reg, #(((\value) >> 32) & 0xffff), lsl #32
  movk \reg, #(((\value) >> 48) & 0xffff), lsl #48
.endm

// uint64_t torture_gpr(uint64_t iters, uint64_t seed, uint64_t misalign)
// x0-x17, x19-x28 and x30 hold mixed values, x29 the counter; NZCV is set
// by one instruction and read several instructions later (each of N, Z, C
// and V changes a result), and carried across the loop's back edge.
// misalign is ignored: sp is always 16-byte aligned where arm64 code may
// touch memory through it (torture_misaligned_sp is 0).
  .globl torture_gpr
  .type torture_gpr, %function
  .p2align 4
torture_gpr:
  stp x29, x30, [sp, #-96]!
  stp x19, x20, [sp, #16]
  stp x21, x22, [sp, #32]
  stp x23, x24, [sp, #48]
  stp x25, x26, [sp, #64]
  stp x27, x28, [sp, #80]
  mov x29, x0
  movconst x9, 0x9e3779b97f4a7c15
  eor x0, x9, x1
  ror x1, x0, #7
  ror x2, x0, #39
  ror x3, x0, #10
  ror x4, x0, #54
  ror x5, x0, #22
  ror x6, x0, #51
  ror x7, x0, #7
  ror x8, x0, #39
  ror x9, x0, #10
  ror x10, x0, #54
  ror x11, x0, #22
  ror x12, x0, #51
  ror x13, x0, #7
  ror x14, x0, #39
  ror x15, x0, #10
  ror x16, x0, #54
  ror x17, x0, #22
  ror x19, x0, #51
  ror x20, x0, #7
  ror x21, x0, #39
  ror x22, x0, #10
  ror x23, x0, #54
  ror x24, x0, #22
  ror x25, x0, #51
  ror x26, x0, #7
  ror x27, x0, #39
  ror x28, x0, #10
  ror x30, x0, #54
  cmn x16, x22              // defined flags for the first adcs (not the caller's)
2:
  adcs x0, x0, x1           // C from the previous iteration's subs
  eor x2, x2, x0, ror #7
  add x3, x3, x2
  eor x4, x4, x3, ror #13
  adc x5, x5, x6            // C
  cinc x7, x7, vs           // V
  cinv x8, x8, mi           // N
  madd x9, x9, x10, x11
  add x10, x10, #0x5bd
  eor x11, x11, x9, ror #17
  tst x12, #0x100           // Z half the time
  add x13, x13, x11
  eor x14, x14, x13, ror #29
  cinc x15, x15, eq         // Z
  subs x16, x16, x14
  eor x17, x17, x16, ror #3
  add x19, x19, x17
  eor x20, x20, x19, ror #11
  sbc x21, x21, x22         // C
  cinv x22, x22, lt         // N != V
  add x23, x23, x21
  eor x24, x24, x23, ror #5
  add x25, x25, x24
  eor x26, x26, x25, ror #19
  add x27, x27, x26
  eor x28, x28, x27, ror #23
  add x30, x30, x28
  eor x12, x12, x30, ror #31
  add x6, x6, x4
  eor x1, x1, x15, ror #1
  add x5, x5, x7
  eor x8, x8, x5, ror #9
  add x20, x20, x8
  cmn x16, x22              // flags for the next iteration's adcs
  sub x29, x29, #1
  cbnz x29, 2b
  eor x0, x0, x1, ror #1
  eor x0, x0, x2, ror #2
  eor x0, x0, x3, ror #3
  eor x0, x0, x4, ror #4
  eor x0, x0, x5, ror #5
  eor x0, x0, x6, ror #6
  eor x0, x0, x7, ror #7
  eor x0, x0, x8, ror #8
  eor x0, x0, x9, ror #9
  eor x0, x0, x10, ror #10
  eor x0, x0, x11, ror #11
  eor x0, x0, x12, ror #12
  eor x0, x0, x13, ror #13
  eor x0, x0, x14, ror #14
  eor x0, x0, x15, ror #15
  eor x0, x0, x16, ror #16
  eor x0, x0, x17, ror #17
  eor x0, x0, x19, ror #18
  eor x0, x0, x20, ror #19
  eor x0, x0, x21, ror #20
  eor x0, x0, x22, ror #21
  eor x0, x0, x23, ror #22
  eor x0, x0, x24, ror #23
  eor x0, x0, x25, ror #24
  eor x0, x0, x26, ror #25
  eor x0, x0, x27, ror #26
  eor x0, x0, x28, ror #27
  eor x0, x0, x29, ror #28
  eor x0, x0, x30, ror #29
  ldp x19, x20, [sp, #16]
  ldp x21, x22, [sp, #32]
  ldp x23, x24, [sp, #48]
  ldp x25, x26, [sp, #64]
  ldp x27, x28, [sp, #80]
  ldp x29, x30, [sp], #96
  ret
  .size torture_gpr, .-torture_gpr

// uint64_t torture_vec(uint64_t iters, uint64_t seed)
// q0-q31, both 64-bit halves, with lanes swapped across the halves; FPCR
// set to round toward +infinity for a division whose result depends on it;
// FPSR written with a pattern and read back a few instructions later (and
// its saturation flag QC set by saturating adds) each iteration.
  .globl torture_vec
  .type torture_vec, %function
  .p2align 4
torture_vec:
  stp d8, d9, [sp, #-64]!
  stp d10, d11, [sp, #16]
  stp d12, d13, [sp, #32]
  stp d14, d15, [sp, #48]
  mrs x13, fpcr
  mrs x14, fpsr
  mov x9, #(1 << 22)        // RMode = RP, round toward +infinity
  msr fpcr, x9
  movconst x9, 0x9e3779b97f4a7c15
  eor x9, x9, x1
  mov x11, #0
  ror x9, x9, #11
  dup v0.2d, x9
  ror x10, x9, #29
  mov v0.d[1], x10
  ror x9, x9, #11
  dup v1.2d, x9
  ror x10, x9, #29
  mov v1.d[1], x10
  ror x9, x9, #11
  dup v2.2d, x9
  ror x10, x9, #29
  mov v2.d[1], x10
  ror x9, x9, #11
  dup v3.2d, x9
  ror x10, x9, #29
  mov v3.d[1], x10
  ror x9, x9, #11
  dup v4.2d, x9
  ror x10, x9, #29
  mov v4.d[1], x10
  ror x9, x9, #11
  dup v5.2d, x9
  ror x10, x9, #29
  mov v5.d[1], x10
  ror x9, x9, #11
  dup v6.2d, x9
  ror x10, x9, #29
  mov v6.d[1], x10
  ror x9, x9, #11
  dup v7.2d, x9
  ror x10, x9, #29
  mov v7.d[1], x10
  ror x9, x9, #11
  dup v8.2d, x9
  ror x10, x9, #29
  mov v8.d[1], x10
  ror x9, x9, #11
  dup v9.2d, x9
  ror x10, x9, #29
  mov v9.d[1], x10
  ror x9, x9, #11
  dup v10.2d, x9
  ror x10, x9, #29
  mov v10.d[1], x10
  ror x9, x9, #11
  dup v11.2d, x9
  ror x10, x9, #29
  mov v11.d[1], x10
  ror x9, x9, #11
  dup v12.2d, x9
  ror x10, x9, #29
  mov v12.d[1], x10
  ror x9, x9, #11
  dup v13.2d, x9
  ror x10, x9, #29
  mov v13.d[1], x10
  ror x9, x9, #11
  dup v14.2d, x9
  ror x10, x9, #29
  mov v14.d[1], x10
  ror x9, x9, #11
  dup v15.2d, x9
  ror x10, x9, #29
  mov v15.d[1], x10
  ror x9, x9, #11
  dup v16.2d, x9
  ror x10, x9, #29
  mov v16.d[1], x10
  ror x9, x9, #11
  dup v17.2d, x9
  ror x10, x9, #29
  mov v17.d[1], x10
  ror x9, x9, #11
  dup v18.2d, x9
  ror x10, x9, #29
  mov v18.d[1], x10
  ror x9, x9, #11
  dup v19.2d, x9
  ror x10, x9, #29
  mov v19.d[1], x10
  ror x9, x9, #11
  dup v20.2d, x9
  ror x10, x9, #29
  mov v20.d[1], x10
  ror x9, x9, #11
  dup v21.2d, x9
  ror x10, x9, #29
  mov v21.d[1], x10
  ror x9, x9, #11
  dup v22.2d, x9
  ror x10, x9, #29
  mov v22.d[1], x10
  ror x9, x9, #11
  dup v23.2d, x9
  ror x10, x9, #29
  mov v23.d[1], x10
  ror x9, x9, #11
  dup v24.2d, x9
  ror x10, x9, #29
  mov v24.d[1], x10
  ror x9, x9, #11
  dup v25.2d, x9
  ror x10, x9, #29
  mov v25.d[1], x10
  ror x9, x9, #11
  dup v26.2d, x9
  ror x10, x9, #29
  mov v26.d[1], x10
  ror x9, x9, #11
  dup v27.2d, x9
  ror x10, x9, #29
  mov v27.d[1], x10
  ror x9, x9, #11
  dup v28.2d, x9
  ror x10, x9, #29
  mov v28.d[1], x10
  ror x9, x9, #11
  dup v29.2d, x9
  ror x10, x9, #29
  mov v29.d[1], x10
  ror x9, x9, #11
  dup v30.2d, x9
  ror x10, x9, #29
  mov v30.d[1], x10
  ror x9, x9, #11
  dup v31.2d, x9
  ror x10, x9, #29
  mov v31.d[1], x10
1:
  add v0.2d, v0.2d, v1.2d
  eor v1.16b, v1.16b, v6.16b
  ext v1.16b, v1.16b, v1.16b, #8
  shl v26.2d, v3.2d, #1
  eor v2.16b, v2.16b, v26.16b
  add v3.2d, v3.2d, v8.2d
  ext v3.16b, v3.16b, v3.16b, #8
  add v4.2d, v4.2d, v5.2d
  eor v5.16b, v5.16b, v10.16b
  ext v5.16b, v5.16b, v5.16b, #8
  shl v26.2d, v7.2d, #1
  eor v6.16b, v6.16b, v26.16b
  add v7.2d, v7.2d, v12.2d
  ext v7.16b, v7.16b, v7.16b, #8
  add v8.2d, v8.2d, v9.2d
  eor v9.16b, v9.16b, v14.16b
  ext v9.16b, v9.16b, v9.16b, #8
  shl v26.2d, v11.2d, #1
  eor v10.16b, v10.16b, v26.16b
  add v11.2d, v11.2d, v16.2d
  ext v11.16b, v11.16b, v11.16b, #8
  // A division rounded by FPCR: x/3 rounds differently up and to nearest.
  scvtf d26, x0
  fmov d27, #3.0
  fdiv d26, d26, d27
  eor v1.16b, v1.16b, v26.16b
  // FPSR: a pattern of cumulative flags (IOC DZC OFC UFC IXC IDC), kept
  // over a few instructions, then QC from saturating adds, then read back.
  and x9, x0, #0x1f
  lsr x10, x0, #5
  bfi x9, x10, #7, #1
  msr fpsr, x9
  add v12.2d, v12.2d, v13.2d
  eor v13.16b, v13.16b, v18.16b
  ext v13.16b, v13.16b, v13.16b, #8
  shl v26.2d, v15.2d, #1
  eor v14.16b, v14.16b, v26.16b
  add v15.2d, v15.2d, v20.2d
  ext v15.16b, v15.16b, v15.16b, #8
  add v16.2d, v16.2d, v17.2d
  eor v17.16b, v17.16b, v22.16b
  ext v17.16b, v17.16b, v17.16b, #8
  shl v26.2d, v19.2d, #1
  eor v18.16b, v18.16b, v26.16b
  add v19.2d, v19.2d, v24.2d
  ext v19.16b, v19.16b, v19.16b, #8
  sqadd v27.2d, v25.2d, v24.2d
  eor v2.16b, v2.16b, v27.16b
  add v20.2d, v20.2d, v21.2d
  eor v21.16b, v21.16b, v26.16b
  ext v21.16b, v21.16b, v21.16b, #8
  shl v26.2d, v23.2d, #1
  eor v22.16b, v22.16b, v26.16b
  add v23.2d, v23.2d, v28.2d
  ext v23.16b, v23.16b, v23.16b, #8
  add v24.2d, v24.2d, v25.2d
  eor v25.16b, v25.16b, v30.16b
  ext v25.16b, v25.16b, v25.16b, #8
  add v28.2d, v28.2d, v29.2d
  eor v29.16b, v29.16b, v2.16b
  ext v29.16b, v29.16b, v29.16b, #8
  shl v26.2d, v31.2d, #1
  eor v30.16b, v30.16b, v26.16b
  add v31.2d, v31.2d, v4.2d
  ext v31.16b, v31.16b, v31.16b, #8
  mrs x10, fpsr
  eor x11, x10, x11, ror #3
  sub x0, x0, #1
  cbnz x0, 1b
  ext v0.16b, v0.16b, v0.16b, #8
  eor v0.16b, v0.16b, v1.16b
  ext v0.16b, v0.16b, v0.16b, #8
  eor v0.16b, v0.16b, v2.16b
  ext v0.16b, v0.16b, v0.16b, #8
  eor v0.16b, v0.16b, v3.16b
  ext v0.16b, v0.16b, v0.16b, #8
  eor v0.16b, v0.16b, v4.16b
  ext v0.16b, v0.16b, v0.16b, #8
  eor v0.16b, v0.16b, v5.16b
  ext v0.16b, v0.16b, v0.16b, #8
  eor v0.16b, v0.16b, v6.16b
  ext v0.16b, v0.16b, v0.16b, #8
  eor v0.16b, v0.16b, v7.16b
  ext v0.16b, v0.16b, v0.16b, #8
  eor v0.16b, v0.16b, v8.16b
  ext v0.16b, v0.16b, v0.16b, #8
  eor v0.16b, v0.16b, v9.16b
  ext v0.16b, v0.16b, v0.16b, #8
  eor v0.16b, v0.16b, v10.16b
  ext v0.16b, v0.16b, v0.16b, #8
  eor v0.16b, v0.16b, v11.16b
  ext v0.16b, v0.16b, v0.16b, #8
  eor v0.16b, v0.16b, v12.16b
  ext v0.16b, v0.16b, v0.16b, #8
  eor v0.16b, v0.16b, v13.16b
  ext v0.16b, v0.16b, v0.16b, #8
  eor v0.16b, v0.16b, v14.16b
  ext v0.16b, v0.16b, v0.16b, #8
  eor v0.16b, v0.16b, v15.16b
  ext v0.16b, v0.16b, v0.16b, #8
  eor v0.16b, v0.16b, v16.16b
  ext v0.16b, v0.16b, v0.16b, #8
  eor v0.16b, v0.16b, v17.16b
  ext v0.16b, v0.16b, v0.16b, #8
  eor v0.16b, v0.16b, v18.16b
  ext v0.16b, v0.16b, v0.16b, #8
  eor v0.16b, v0.16b, v19.16b
  ext v0.16b, v0.16b, v0.16b, #8
  eor v0.16b, v0.16b, v20.16b
  ext v0.16b, v0.16b, v0.16b, #8
  eor v0.16b, v0.16b, v21.16b
  ext v0.16b, v0.16b, v0.16b, #8
  eor v0.16b, v0.16b, v22.16b
  ext v0.16b, v0.16b, v0.16b, #8
  eor v0.16b, v0.16b, v23.16b
  ext v0.16b, v0.16b, v0.16b, #8
  eor v0.16b, v0.16b, v24.16b
  ext v0.16b, v0.16b, v0.16b, #8
  eor v0.16b, v0.16b, v25.16b
  ext v0.16b, v0.16b, v0.16b, #8
  eor v0.16b, v0.16b, v26.16b
  ext v0.16b, v0.16b, v0.16b, #8
  eor v0.16b, v0.16b, v27.16b
  ext v0.16b, v0.16b, v0.16b, #8
  eor v0.16b, v0.16b, v28.16b
  ext v0.16b, v0.16b, v0.16b, #8
  eor v0.16b, v0.16b, v29.16b
  ext v0.16b, v0.16b, v0.16b, #8
  eor v0.16b, v0.16b, v30.16b
  ext v0.16b, v0.16b, v0.16b, #8
  eor v0.16b, v0.16b, v31.16b
  fmov x0, d0
  mov x9, v0.d[1]
  eor x0, x0, x9, ror #32
  eor x0, x0, x11
  msr fpsr, x14
  msr fpcr, x13
  ldp d10, d11, [sp, #16]
  ldp d12, d13, [sp, #32]
  ldp d14, d15, [sp, #48]
  ldp d8, d9, [sp], #64
  ret
  .size torture_vec, .-torture_vec

// void* hold_in_register(void* p, uint64_t iters)
// Spins with p only in x19 (every other copy overwritten): the object
// survives collections meanwhile only if the collector scans the spill area.
  .globl hold_in_register
  .type hold_in_register, %function
  .p2align 4
hold_in_register:
  str x19, [sp, #-16]!
  mov x19, x0
  mov x0, #0
1:
  add x0, x0, #1
  cmp x0, x1
  b.lo 1b
  mov x0, x19
  ldr x19, [sp], #16
  ret
  .size hold_in_register, .-hold_in_register

// uint64_t spin_low_stack(uint64_t iters, uint64_t drop)
// Spins with sp lowered by about `drop` bytes: too little room left for
// the spill area makes the preempter refuse (and retry later).
  .globl spin_low_stack
  .type spin_low_stack, %function
  .p2align 4
spin_low_stack:
  stp x29, x30, [sp, #-16]!
  mov x29, sp
  sub x9, sp, x1
  and x9, x9, #~15
  mov sp, x9
  mov x9, #0
1:
  add x9, x9, #1
  cmp x9, x0
  b.lo 1b
  mov x0, x9
  mov sp, x29
  ldp x29, x30, [sp], #16
  ret
  .size spin_low_stack, .-spin_low_stack

// uint64_t leaf_loop(uint64_t iters, uint64_t seed)
// A leaf without a frame: its return address lives only in x30 for the
// whole loop, and x0-x17 with NZCV hold its state. The injection sets x30
// to the resume pc, so a trampoline that failed to give x30 back would
// return elsewhere. In .text: the test registers it as a safe range.
  .text
  .globl leaf_loop
  .globl leaf_loop_end
  .type leaf_loop, %function
  .p2align 4
leaf_loop:
  movconst x9, 0x9e3779b97f4a7c15
  eor x2, x9, x1
  ror x3, x2, #22
  ror x4, x2, #29
  ror x5, x2, #36
  ror x6, x2, #43
  ror x7, x2, #50
  ror x8, x2, #57
  ror x9, x2, #1
  ror x10, x2, #8
  ror x11, x2, #15
  ror x12, x2, #22
  ror x13, x2, #29
  ror x14, x2, #36
  ror x15, x2, #43
  ror x16, x2, #50
  ror x17, x2, #57
1:
  adds x2, x2, x3
  eor x4, x4, x2, ror #9
  adc x5, x5, x6
  eor x6, x6, x5, ror #21
  cinc x7, x7, cs
  add x8, x8, x7
  eor x9, x9, x8, ror #3
  add x10, x10, x9
  eor x11, x11, x10, ror #41
  cinv x12, x12, mi
  add x13, x13, x12
  eor x14, x14, x13, ror #15
  add x15, x15, x14
  eor x16, x16, x15, ror #33
  add x17, x17, x16
  eor x3, x3, x17, ror #1
  sub x0, x0, #1
  cbnz x0, 1b
  eor x2, x2, x3, ror #3
  eor x2, x2, x4, ror #4
  eor x2, x2, x5, ror #5
  eor x2, x2, x6, ror #6
  eor x2, x2, x7, ror #7
  eor x2, x2, x8, ror #8
  eor x2, x2, x9, ror #9
  eor x2, x2, x10, ror #10
  eor x2, x2, x11, ror #11
  eor x2, x2, x12, ror #12
  eor x2, x2, x13, ror #13
  eor x2, x2, x14, ror #14
  eor x2, x2, x15, ror #15
  eor x2, x2, x16, ror #16
  eor x2, x2, x17, ror #17
  mov x0, x2
  ret
leaf_loop_end:
  .size leaf_loop, .-leaf_loop

// The loops the torture runs, for preempt_test.cpp: {run, name, available}
// rows (available: a function saying whether this CPU has what the loop
// needs, or 0), ending with a zero row.
  .section .data.rel.ro, "aw"
  .p2align 3
  .globl torture_loops
torture_loops:
  .quad torture_gpr_any, .Lname_gpr, 0
  .quad torture_vec, .Lname_vec, 0
  .quad 0, 0, 0
  .globl torture_misaligned_sp
torture_misaligned_sp:
  .quad 0

  .section .rodata.str1.1, "aMS", %progbits, 1
.Lname_gpr:
  .asciz "x0-x30 and NZCV"
.Lname_vec:
  .asciz "q0-q31, FPCR and FPSR"

// The two-argument form of torture_gpr for the table.
  .section weft_async_safe, "ax", %progbits
  .p2align 2
torture_gpr_any:
  mov x2, #0
  b torture_gpr

  .section .note.GNU-stack, "", %progbits
