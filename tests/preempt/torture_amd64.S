// amd64 loops for the async preemption torture test (preempt_test.cpp).
// Each keeps values live in a class of registers for `iters` iterations,
// with dependencies that a lost or corrupted register, flag or control
// word would change, and returns a 64-bit checksum of them all. The
// test compares it with a run that nothing interrupted.
// They sit in the async-safe section, so a SIGURG may stop them at any
// instruction (except leaf_loop, which the test registers itself).
// The table torture_loops (at the end) is what the test runs.

  .section weft_async_safe, "ax", @progbits

// uint64_t torture_gpr(uint64_t iters, uint64_t seed, uint64_t misalign)
// Every integer register but rsp, CF carried between instructions, DF set
// around part of each iteration; rsp % 16 is 8 with misalign == 0, else 0.
  .globl torture_gpr
  .type torture_gpr, @function
  .p2align 4
torture_gpr:
  pushq %rbx
  pushq %rbp
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  pushq %rdx                  // rsp % 16 == 0 here
  testq %rdx, %rdx
  jz 1f
  subq $8, %rsp               // rsp % 16 == 8 while looping
  movq %rdx, (%rsp)           // (rsp) is the misalign flag either way: the epilogue reads it
1:
  movq %rdi, %r15             // the counter
  movabsq $0x9e3779b97f4a7c15, %rax
  xorq %rsi, %rax
  movq %rax, %rbx
  rolq $7, %rbx
  movq %rax, %rcx
  rolq $13, %rcx
  movq %rax, %rdx
  rolq $19, %rdx
  movq %rax, %rbp
  rolq $23, %rbp
  movq %rax, %rdi
  rolq $29, %rdi
  movq %rax, %r8
  rolq $31, %r8
  movq %rax, %r9
  rolq $37, %r9
  movq %rax, %r10
  rolq $41, %r10
  movq %rax, %r11
  rolq $43, %r11
  movq %rax, %r12
  rolq $47, %r12
  movq %rax, %r13
  rolq $53, %r13
  movq %rax, %r14
  rolq $59, %r14
  movq %rax, %rsi
  rolq $61, %rsi
2:
  addq %rbx, %rax
  adcq %rcx, %rdx             // CF from the add
  rolq $13, %rsi
  xorq %rax, %rsi
  subq %r8, %r9
  sbbq %r10, %r11             // CF from the sub
  imulq %r12, %r13
  addq $0x5bd1e995, %r12
  xorq %r13, %r14
  rolq $7, %r14
  addq %r14, %rbp
  addq %rbp, %r8
  addq %rsi, %r10
  xorq %rdx, %rbx
  rolq $3, %rbx
  addq %r11, %rcx
  leaq 1(%rdi,%rcx,2), %rdi
  std                         // DF set: the trampoline clears it for C++ and must restore it
  rolq $1, %rdi
  xorq %r9, %rdi
  pushfq
  btq $10, (%rsp)             // DF into CF
  leaq 8(%rsp), %rsp          // drop the flags without touching CF
  adcq $0, %rax               // +1 per iteration iff DF survived
  cld
  decq %r15
  jnz 2b
  // The checksum of every register.
  rolq $1, %rbx
  xorq %rbx, %rax
  rolq $2, %rcx
  xorq %rcx, %rax
  rolq $3, %rdx
  xorq %rdx, %rax
  rolq $4, %rbp
  xorq %rbp, %rax
  rolq $5, %rsi
  xorq %rsi, %rax
  rolq $6, %rdi
  xorq %rdi, %rax
  rolq $7, %r8
  xorq %r8, %rax
  rolq $8, %r9
  xorq %r9, %rax
  rolq $9, %r10
  xorq %r10, %rax
  rolq $10, %r11
  xorq %r11, %rax
  rolq $11, %r12
  xorq %r12, %rax
  rolq $12, %r13
  xorq %r13, %rax
  rolq $13, %r14
  xorq %r14, %rax
  movq (%rsp), %rdx
  testq %rdx, %rdx
  jz 3f
  addq $8, %rsp
3:
  popq %rdx
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbp
  popq %rbx
  ret
  .size torture_gpr, .-torture_gpr

// uint64_t torture_avx2(uint64_t iters, uint64_t seed)
// ymm0-15 (both halves) with lanes mixed across the halves, and MXCSR's
// rounding mode set to "toward +inf" for divisions whose results depend on it.
  .globl torture_avx2
  .type torture_avx2, @function
  .p2align 4
torture_avx2:
  subq $8, %rsp
  stmxcsr (%rsp)
  movl (%rsp), %eax
  andl $~0x6000, %eax
  orl $0x4000, %eax           // RC = round up
  movl %eax, 4(%rsp)
  ldmxcsr 4(%rsp)
  movabsq $0x9e3779b97f4a7c15, %rax
  xorq %rsi, %rax
  vmovq %rax, %xmm0
  vpbroadcastq %xmm0, %ymm0
  .irp r, 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
  rolq $11, %rax
  vmovq %rax, %xmm\r
  vpbroadcastq %xmm\r, %ymm\r
  vpaddq .Lramp(%rip), %ymm\r, %ymm\r
  .endr
1:
  vpaddq %ymm1, %ymm0, %ymm0
  vpxor %ymm0, %ymm2, %ymm2
  vpermq $0x93, %ymm2, %ymm2  // rotate the lanes across the halves
  vpaddq %ymm3, %ymm2, %ymm2
  vpsllq $1, %ymm3, %ymm4
  vpxor %ymm4, %ymm5, %ymm5
  vpaddq %ymm5, %ymm6, %ymm6
  vpermq $0x39, %ymm6, %ymm6
  vpxor %ymm6, %ymm7, %ymm7
  vpaddq %ymm7, %ymm8, %ymm8
  vpsrlq $3, %ymm8, %ymm9
  vpxor %ymm9, %ymm10, %ymm10
  vpaddq %ymm10, %ymm11, %ymm11
  vpermq $0x4e, %ymm11, %ymm11
  vpxor %ymm11, %ymm12, %ymm12
  vpaddq %ymm12, %ymm13, %ymm13
  vpxor %ymm13, %ymm14, %ymm14
  vpaddq %ymm14, %ymm15, %ymm15
  vpxor %ymm15, %ymm1, %ymm1
  vpaddq %ymm0, %ymm3, %ymm3
  // A division rounded by MXCSR: 1/3 rounds differently up and down.
  vcvtsi2sd %rdi, %xmm4, %xmm4
  vdivsd .Lthree(%rip), %xmm4, %xmm4
  vmovq %xmm4, %rax
  vmovq %rax, %xmm9
  vpxor %ymm9, %ymm4, %ymm4
  vpaddq %ymm4, %ymm1, %ymm1
  decq %rdi
  jnz 1b
  .irp r, 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
  vpermq $0x93, %ymm0, %ymm0
  vpxor %ymm\r, %ymm0, %ymm0
  .endr
  vextracti128 $1, %ymm0, %xmm1
  vpxor %xmm1, %xmm0, %xmm0
  vpshufd $0x4e, %xmm0, %xmm1
  vpxor %xmm1, %xmm0, %xmm0
  vmovq %xmm0, %rax
  vzeroupper
  ldmxcsr (%rsp)
  addq $8, %rsp
  ret
  .size torture_avx2, .-torture_avx2

// uint64_t torture_avx512(uint64_t iters, uint64_t seed)
// zmm16-31 (the registers only EVEX code reaches) and mask registers k1-k7
// used as write masks. Caller checks the CPU has AVX-512F.
  .globl torture_avx512
  .type torture_avx512, @function
  .p2align 4
torture_avx512:
  movabsq $0x9e3779b97f4a7c15, %rax
  xorq %rsi, %rax
  .irp r, 16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
  rolq $9, %rax
  vpbroadcastq %rax, %zmm\r
  .endr
  .irp k, 1,2,3,4,5,6,7
  rolq $5, %rax
  kmovw %eax, %k\k
  .endr
1:
  vpaddq %zmm17, %zmm16, %zmm16{%k1}
  vpxorq %zmm16, %zmm18, %zmm18{%k2}
  vpermq $0x93, %zmm18, %zmm18
  vpaddq %zmm19, %zmm18, %zmm18{%k3}
  vpxorq %zmm18, %zmm20, %zmm20
  vpaddq %zmm20, %zmm21, %zmm21{%k4}
  vpxorq %zmm21, %zmm22, %zmm22{%k5}
  vpaddq %zmm22, %zmm23, %zmm23
  vpxorq %zmm23, %zmm24, %zmm24{%k6}
  vpaddq %zmm24, %zmm25, %zmm25{%k7}
  vpxorq %zmm25, %zmm26, %zmm26
  vpaddq %zmm26, %zmm27, %zmm27{%k1}
  vpxorq %zmm27, %zmm28, %zmm28
  vpaddq %zmm28, %zmm29, %zmm29{%k2}
  vpxorq %zmm29, %zmm30, %zmm30
  vpaddq %zmm30, %zmm31, %zmm31{%k3}
  vpxorq %zmm31, %zmm17, %zmm17
  vpaddq %zmm16, %zmm19, %zmm19
  kxorw %k1, %k2, %k1
  kshiftlw $1, %k4, %k4
  korw %k5, %k4, %k4
  decq %rdi
  jnz 1b
  .irp r, 17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
  vpermq $0x93, %zmm16, %zmm16
  vpxorq %zmm\r, %zmm16, %zmm16
  .endr
  vmovdqa64 %zmm16, %zmm0
  vextracti64x4 $1, %zmm0, %ymm1
  vpxor %ymm1, %ymm0, %ymm0
  vextracti128 $1, %ymm0, %xmm1
  vpxor %xmm1, %xmm0, %xmm0
  vpshufd $0x4e, %xmm0, %xmm1
  vpxor %xmm1, %xmm0, %xmm0
  vmovq %xmm0, %rax
  .irp k, 1,2,3,4,5,6,7
  kmovw %k\k, %edx
  rolq $16, %rax
  xorq %rdx, %rax
  .endr
  vzeroupper
  ret
  .size torture_avx512, .-torture_avx512

// void* hold_in_register(void* p, uint64_t iters)
// Spins with p only in r12 (every other copy overwritten): the object
// survives collections meanwhile only if the collector scans the spill area.
  .globl hold_in_register
  .type hold_in_register, @function
  .p2align 4
hold_in_register:
  pushq %r12
  movq %rdi, %r12
  xorl %edi, %edi
  xorl %eax, %eax
1:
  addq $1, %rax
  cmpq %rsi, %rax
  jb 1b
  movq %r12, %rax
  popq %r12
  ret
  .size hold_in_register, .-hold_in_register

// uint64_t spin_low_stack(uint64_t iters, uint64_t drop)
// Spins with rsp lowered by `drop` bytes: too little room left for the
// spill area makes the preempter refuse (and retry later).
  .globl spin_low_stack
  .type spin_low_stack, @function
  .p2align 4
spin_low_stack:
  pushq %rbp
  movq %rsp, %rbp
  subq %rsi, %rsp
  xorl %eax, %eax
1:
  addq $1, %rax
  cmpq %rdi, %rax
  jb 1b
  movq %rbp, %rsp
  popq %rbp
  ret
  .size spin_low_stack, .-spin_low_stack

  .section .rodata
  .p2align 5
.Lramp:
  .quad 1, 2, 3, 4
.Lthree:
  .double 3.0

// uint64_t leaf_loop(uint64_t iters, uint64_t seed)
// The red-zone leaf: a leaf function keeping its state in the 128-byte red zone below rsp,
// which the System V ABI lets it use without moving rsp: an injected call
// that pushed its return address at rsp - 8 would corrupt it. In .text:
// the test registers it as a safe range (register_async_range).
  .text
  .globl leaf_loop
  .globl leaf_loop_end
  .type leaf_loop, @function
  .p2align 4
leaf_loop:
  movabsq $0x9e3779b97f4a7c15, %rax
  xorq %rsi, %rax
  .irp s, 8,16,24,32,40,48,56,64,72,80,88,96,104,112,120,128
  rolq $3, %rax
  movq %rax, -\s(%rsp)
  .endr
1:
  .irp s, 8,16,24,32,40,48,56,64,72,80,88,96,104,112,120
  movq -\s(%rsp), %rcx
  rolq $1, %rcx
  addq -(\s+8)(%rsp), %rcx
  movq %rcx, -\s(%rsp)
  .endr
  addq %rdi, -128(%rsp)
  decq %rdi
  jnz 1b
  xorl %eax, %eax
  .irp s, 8,16,24,32,40,48,56,64,72,80,88,96,104,112,120,128
  rolq $5, %rax
  xorq -\s(%rsp), %rax
  .endr
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
  .quad torture_gpr_aligned, .Lname_gpr, 0
  .quad torture_gpr_misaligned, .Lname_gpr_misaligned, 0
  .quad torture_avx2, .Lname_avx2, 0
  .quad torture_avx512, .Lname_avx512, torture_have_avx512
  .quad 0, 0, 0
  .globl torture_misaligned_sp
torture_misaligned_sp:
  .quad 1

  .section .rodata.str1.1, "aMS", @progbits, 1
.Lname_gpr:
  .asciz "integer registers, flags, DF"
.Lname_gpr_misaligned:
  .asciz "integer registers, rsp % 16 == 0"
.Lname_avx2:
  .asciz "ymm0-15, MXCSR"
.Lname_avx512:
  .asciz "zmm16-31, k1-7"

  .section weft_async_safe, "ax", @progbits
// The two-argument forms of torture_gpr for the table.
  .p2align 4
torture_gpr_aligned:
  xorl %edx, %edx
  jmp torture_gpr
  .p2align 4
torture_gpr_misaligned:
  movl $1, %edx
  jmp torture_gpr

// int torture_have_avx512(): AVX-512F in the CPU, and the OS saving
// opmask, ZMM_Hi256 and Hi16_ZMM (XCR0 bits 5-7).
  .text
  .p2align 4
torture_have_avx512:
  pushq %rbx
  xorl %eax, %eax
  cpuid
  cmpl $7, %eax
  jb 1f
  movl $1, %eax
  cpuid
  btl $27, %ecx               // OSXSAVE
  jnc 1f
  movl $7, %eax
  xorl %ecx, %ecx
  cpuid
  btl $16, %ebx               // AVX512F
  jnc 1f
  xorl %ecx, %ecx
  xgetbv
  andl $0xe6, %eax            // SSE, AVX, opmask, ZMM_Hi256, Hi16_ZMM
  cmpl $0xe6, %eax
  jne 1f
  movl $1, %eax
  popq %rbx
  ret
1:
  xorl %eax, %eax
  popq %rbx
  ret

  .section .note.GNU-stack, "", @progbits
