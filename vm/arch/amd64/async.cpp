// amd64 asynchronous preemption: CPU discovery for the trampoline's XSAVE,
// the signal-context edit. The model is in vm/arch/async.h. (The checks of
// the C++ field offsets async.S reads are compiled by vm/gc/heap.cpp, which
// sees the types.)
#include "vm/arch/async.h"

#include <cpuid.h>
#include <ucontext.h>

#include <cstddef>


// Read by the trampoline (async.S). Written once by async_init, before any
// M can be preempted.
extern "C" {
__attribute__((visibility("hidden"))) uint64_t weft_xsave_size = 0;  // rounded up to 64
__attribute__((visibility("hidden"))) uint64_t weft_xsave_mask = 0;  // XCR0 minus AMX
extern char weft_alloc_fast_commit_end[];
}

namespace weft::arch {

namespace {

constexpr unsigned kOsxsave = 1u << 27;  // CPUID.1:ECX: the OS enabled XSAVE (XGETBV works)
// AMX tile state (XCR0 bits 17-18): the kernel arms XFD on it until a
// process asks for it, and restoring it then faults. Weft never uses it.
constexpr uint64_t kAmxMask = (1ull << 17) | (1ull << 18);

int g_state = 0;  // 0: not probed; 1: available; -1: no XSAVE

uint64_t xgetbv0() {
  uint32_t lo, hi;
  asm volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (uint64_t(hi) << 32) | lo;
}

}  // namespace

bool async_init() {
  if (g_state != 0) return g_state > 0;
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d) || (c & kOsxsave) == 0 || __get_cpuid_max(0, nullptr) < 0xD) {
    g_state = -1;
    return false;
  }
  __cpuid_count(0xD, 0, a, b, c, d);  // EBX: bytes for every feature enabled in XCR0
  weft_xsave_mask = xgetbv0() & ~kAmxMask;
  weft_xsave_size = (uint64_t(b) + kXsaveAlign - 1) & ~uint64_t(kXsaveAlign - 1);
  g_state = 1;
  return true;
}

size_t xsave_bytes() { return size_t(weft_xsave_size); }

size_t async_frame_bytes(size_t callee_bytes) {
  return Spill::kRedZone + kSpillBytes + kXsaveAlign - 1 + xsave_bytes() + callee_bytes;
}

uintptr_t context_pc(const void* uc) {
  return uintptr_t(static_cast<const ucontext_t*>(uc)->uc_mcontext.gregs[REG_RIP]);
}

uintptr_t context_sp(const void* uc) {
  return uintptr_t(static_cast<const ucontext_t*>(uc)->uc_mcontext.gregs[REG_RSP]);
}

// Below the red zone, as a call would: the return pc, then rsp at it.
bool inject_async_call(void* ucv, uintptr_t resume_pc) {
  greg_t* r = static_cast<ucontext_t*>(ucv)->uc_mcontext.gregs;
  uintptr_t sp = uintptr_t(r[REG_RSP]) - Spill::kRedZone - 8;
  *reinterpret_cast<uintptr_t*>(sp) = resume_pc;
  r[REG_RSP] = greg_t(sp);
  r[REG_RIP] = greg_t(reinterpret_cast<uintptr_t>(&weft_async_preempt));
  return true;  // any sp will do: the pushes and XSAVE align their own
}

CodeRange alloc_fast_range() {
  uintptr_t lo = reinterpret_cast<uintptr_t>(&weft_alloc_fast);
  return CodeRange{lo, reinterpret_cast<uintptr_t>(weft_alloc_fast_commit_end), lo};
}

}  // namespace weft::arch
