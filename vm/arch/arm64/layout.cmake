# arm64: the one description of the frames vm/arch/arm64's assembly builds
# and of the C++ fields it reads. cmake/gen_arch_layout.cmake turns it into
# vm/arch/arm64/gen/ (the format and the kinds are described there); after
# an edit run `cmake --build build --target arch-layout` and commit both.
# Nothing else states these numbers.
#
# Rows list each frame from its lowest address up, one "name offset bytes
# kind" string per slot; the generator rejects gaps and overlaps, and its
# arm64 emitter checks what stp/ldp and sp's 16-byte alignment need.

# weft_switch's frame (vm/arch/context.h), from the saved sp up: what it
# stores on the suspended stack, and what make_context builds for a fresh
# one. Callee-saved state only: weft_switch is an ordinary call.
set(WEFT_CONTEXT
  # name    offset  bytes  kind
  "fpcr     0       8      fpctl"  # rounding, flush-to-zero, default NaN: callee-saved control bits
  "pad      8       8      pad"  # sp stays 16-byte aligned
  "d8       16      8      fpr"  # the low halves of v8-v15 are callee-saved in AAPCS64
  "d9       24      8      fpr"
  "d10      32      8      fpr"
  "d11      40      8      fpr"
  "d12      48      8      fpr"
  "d13      56      8      fpr"
  "d14      64      8      fpr"
  "d15      72      8      fpr"
  "x19      80      8      gpr"
  "x20      88      8      gpr"
  "x21      96      8      gpr"
  "x22      104     8      gpr"
  "x23      112     8      gpr"
  "x24      120     8      gpr"
  "x25      128     8      gpr"
  "x26      136     8      gpr"
  "x27      144     8      gpr"
  "x28      152     8      gpr"
  "x29      160     8      gpr"  # the frame pointer
  "x30      168     8      ret"  # the link register: weft_switch returns through it
)

# The asyncPreempt trampoline's spill area (vm/arch/async.h), from the
# trampoline's sp after its stores up to the interrupted sp. The top 16
# bytes (x30, pc) are the slot the signal handler's injection pushes
# (vm/arch/arm64/async.cpp); the trampoline stores the rest below it. No
# separate extended-state image: the vector registers are in the table.
set(WEFT_SPILL
  # name    offset  bytes  kind
  "x0       0       8      gpr"  # every integer register: leaf code may hold anything anywhere
  "x1       8       8      gpr"
  "x2       16      8      gpr"
  "x3       24      8      gpr"
  "x4       32      8      gpr"
  "x5       40      8      gpr"
  "x6       48      8      gpr"
  "x7       56      8      gpr"
  "x8       64      8      gpr"
  "x9       72      8      gpr"
  "x10      80      8      gpr"
  "x11      88      8      gpr"
  "x12      96      8      gpr"
  "x13      104     8      gpr"
  "x14      112     8      gpr"
  "x15      120     8      gpr"
  "x16      128     8      gpr"
  "x17      136     8      gpr"
  "x18      144     8      rsv"  # reserved: carries the return in async.S; saved for the scan
  "x19      152     8      gpr"
  "x20      160     8      gpr"
  "x21      168     8      gpr"
  "x22      176     8      gpr"
  "x23      184     8      gpr"
  "x24      192     8      gpr"
  "x25      200     8      gpr"
  "x26      208     8      gpr"
  "x27      216     8      gpr"
  "x28      224     8      gpr"
  "x29      232     8      gpr"
  "nzcv     240     8      flags"  # the condition flags
  "fpsr     248     8      fpstat"  # cumulative FP exception and saturation flags
  "fpcr     256     8      fpctl"  # the interrupted code may run with its own rounding mode
  "pad      264     8      pad"  # q0 at a multiple of 16
  "q0       272     16     vec"  # all 128 bits: GCC vectorizes C++ into any of them
  "q1       288     16     vec"
  "q2       304     16     vec"
  "q3       320     16     vec"
  "q4       336     16     vec"
  "q5       352     16     vec"
  "q6       368     16     vec"
  "q7       384     16     vec"
  "q8       400     16     vec"
  "q9       416     16     vec"
  "q10      432     16     vec"
  "q11      448     16     vec"
  "q12      464     16     vec"
  "q13      480     16     vec"
  "q14      496     16     vec"
  "q15      512     16     vec"
  "q16      528     16     vec"
  "q17      544     16     vec"
  "q18      560     16     vec"
  "q19      576     16     vec"
  "q20      592     16     vec"
  "q21      608     16     vec"
  "q22      624     16     vec"
  "q23      640     16     vec"
  "q24      656     16     vec"
  "q25      672     16     vec"
  "q26      688     16     vec"
  "q27      704     16     vec"
  "q28      720     16     vec"
  "q29      736     16     vec"
  "q30      752     16     vec"
  "q31      768     16     vec"
  "x30      784     8      lr"  # the interrupted link register, stored by the injection
  "pc       792     8      pc"  # the resume pc, stored by the injection
)
# AAPCS64 has no red zone: the injected slot starts right below the sp.
set(WEFT_SPILL_RED_ZONE 0)

# C++ fields the assembly reads (weft_alloc_fast in async.S). The offsets
# are the compiler's to decide: the generated static_asserts (compiled in
# vm/gc/heap.cpp) stop the build, naming the row to fix, when a field moves.
set(WEFT_FIELDS
  # constant                C++ type     field        offset
  "WEFT_M_P                 sched::M     p            16"
  "WEFT_P_MCACHE            sched::P     mcache       2136"
  "WEFT_CACHE_UNREPORTED    gc::Cache    unreported   528"
  "WEFT_CACHE_OWNER         gc::Cache    owner        536")
