# amd64: the one description of the frames vm/arch/amd64's assembly builds
# and of the C++ fields it reads. cmake/gen_arch_layout.cmake turns it into
# vm/arch/amd64/gen/ (the format, what each output holds, and what an
# arm64 table would list are described there); after an edit run
# `cmake --build build --target arch-layout` and commit both. Nothing else
# states these numbers.
#
# Rows list each frame from its lowest address up, one "name offset bytes
# kind" string per slot. Offsets are written out, not implied, so that the
# table reads as the picture it is; the generator rejects gaps and overlaps.

# weft_switch's frame (vm/arch/context.h), from the saved sp up: what it
# pushes on the suspended stack, and what make_context builds for a fresh
# one. Callee-saved registers only: weft_switch is an ordinary call.
set(WEFT_CONTEXT
  # name    offset  bytes  kind
  "fpctl    0       8      fpctl"  # MXCSR, x87 control word: callee-saved control bits
  "r15      8       8      gpr"
  "r14      16      8      gpr"
  "r13      24      8      gpr"
  "r12      32      8      gpr"
  "rbx      40      8      gpr"
  "rbp      48      8      gpr"
  "ret      56      8      ret")

# The asyncPreempt trampoline's spill area (vm/arch/async.h), from the
# trampoline's sp after its pushes up to the injected return pc: flags
# pushed first, so highest. Every integer register, since the interrupted
# code may have any of them live; the vector state goes to the XSAVE image.
set(WEFT_SPILL
  # name    offset  bytes  kind
  "r15      0       8      gpr"
  "r14      8       8      gpr"
  "r13      16      8      gpr"
  "r12      24      8      gpr"
  "r11      32      8      gpr"
  "r10      40      8      gpr"
  "r9       48      8      gpr"
  "r8       56      8      gpr"
  "rdi      64      8      gpr"
  "rsi      72      8      gpr"
  "rbp      80      8      gpr"
  "rbx      88      8      gpr"
  "rdx      96      8      gpr"
  "rcx      104     8      gpr"
  "rax      112     8      gpr"
  "rflags   120     8      flags"
  "pc       128     8      pc")
# System V: the 128 bytes below rsp belong to the interrupted function, so
# the injected call starts below them and the trampoline returns over them.
set(WEFT_SPILL_RED_ZONE 128)
# The XSAVE64 image below the spill area: the instruction faults unless it
# is 64-byte aligned, and XRSTOR faults on garbage in its 64-byte header at
# byte 512 (XSAVE leaves XCOMP_BV and the reserved bytes alone), so the
# trampoline zeroes that first.
set(WEFT_XSAVE_ALIGN 64)
set(WEFT_XSAVE_HEADER_OFFSET 512)
set(WEFT_XSAVE_HEADER_BYTES 64)

# C++ fields the assembly reads (weft_alloc_fast in async.S). The offsets
# are the compiler's to decide: the generated static_asserts (compiled in
# async.cpp) stop the build, naming the row to fix, when a field moves.
set(WEFT_FIELDS
  # constant                C++ type     field        offset
  "WEFT_M_P                 sched::M     p            16"
  "WEFT_P_MCACHE            sched::P     mcache       2136"
  "WEFT_CACHE_UNREPORTED    gc::Cache    unreported   528"
  "WEFT_CACHE_OWNER         gc::Cache    owner        536")
