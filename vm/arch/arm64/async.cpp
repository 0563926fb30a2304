// arm64 asynchronous preemption: the signal-context edit. The model is in
// vm/arch/async.h, the trampoline and the choice of x18 in async.S. (The
// checks of the C++ field offsets async.S reads are compiled by
// vm/gc/heap.cpp, which sees the types.)
#include "vm/arch/async.h"

#include <ucontext.h>

#include <cstddef>

extern "C" char weft_alloc_fast_commit_end[];

namespace weft::arch {

namespace {

// The injection's 16-byte slot is the top of the spill area: the
// interrupted x30, then the resume pc (vm/arch/arm64/layout.cmake).
constexpr size_t kSlotBytes = 16;
static_assert(offsetof(Spill, x30) == kSpillBytes - kSlotBytes && offsetof(Spill, pc) == kSpillBytes - 8);
// SPSR's branch-target type (PSTATE.BTYPE, bits 10-11): an interrupted
// indirect branch may leave it non-zero, and the trampoline's first
// instruction is not a landing pad.
constexpr uint64_t kPstateBtype = uint64_t(3) << 10;

}  // namespace

// Nothing to probe: the trampoline saves the base registers of ARMv8.0
// (x0-x30, q0-q31, NZCV, FPSR, FPCR), which every arm64 CPU has.
bool async_init() { return true; }

size_t xsave_bytes() { return 0; }  // the vector state is inside the Spill

size_t async_frame_bytes(size_t callee_bytes) { return kSpillBytes + callee_bytes; }

uintptr_t context_pc(const void* uc) { return uintptr_t(static_cast<const ucontext_t*>(uc)->uc_mcontext.pc); }

uintptr_t context_sp(const void* uc) { return uintptr_t(static_cast<const ucontext_t*>(uc)->uc_mcontext.sp); }

// No red zone and no return address on the stack: the slot goes right
// below sp, and x30 becomes the resume pc, as if the interrupted
// instruction had been `bl weft_async_preempt`. An sp that is not 16-byte
// aligned (legal between two instructions, but any sp-based access then
// faults) is refused: the trampoline's stores would fault.
bool inject_async_call(void* ucv, uintptr_t resume_pc) {
  mcontext_t& mc = static_cast<ucontext_t*>(ucv)->uc_mcontext;
  if (mc.sp % 16 != 0) return false;
  uintptr_t slot = uintptr_t(mc.sp) - kSlotBytes;
  uintptr_t base = slot + kSlotBytes - kSpillBytes;  // where the Spill will start
  *reinterpret_cast<uint64_t*>(base + offsetof(Spill, x30)) = mc.regs[30];
  *reinterpret_cast<uint64_t*>(base + offsetof(Spill, pc)) = resume_pc;
  mc.regs[30] = resume_pc;
  mc.sp = slot;
  mc.pc = reinterpret_cast<uintptr_t>(&weft_async_preempt);
  mc.pstate &= ~kPstateBtype;
  return true;
}

CodeRange alloc_fast_range() {
  uintptr_t lo = reinterpret_cast<uintptr_t>(&weft_alloc_fast);
  return CodeRange{lo, reinterpret_cast<uintptr_t>(weft_alloc_fast_commit_end), lo};
}

}  // namespace weft::arch
