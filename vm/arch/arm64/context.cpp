// arm64: the initial frame of a fresh context. Its slots are the table
// vm/arch/arm64/layout.cmake's WEFT_CONTEXT, which weft_switch (context.S)
// loads; arch_layout.h (vm/arch/arm64/gen/) numbers them.
#include <cstdint>
#include <cstring>

#include "arch_layout.h"
#include "vm/arch/context.h"

extern "C" void weft_context_start();

namespace weft::arch {

void make_context(Context* ctx, void* lo, size_t size, void (*entry)(void*), void* arg) {
  uintptr_t top = (reinterpret_cast<uintptr_t>(lo) + size) & ~uintptr_t(15);
  // weft_switch's loads leave sp at top (16-byte aligned, as AAPCS64 wants
  // at every call); FPCR 0 is round to nearest with no traps and no
  // flush-to-zero, the state a new thread starts in; x29 0 ends the chain.
  uint64_t* frame = reinterpret_cast<uint64_t*>(top) - kContextWords;
  std::memset(frame, 0, kContextWords * 8);
  frame[kContextX19] = reinterpret_cast<uint64_t>(entry);
  frame[kContextX20] = reinterpret_cast<uint64_t>(arg);
  frame[kContextX30] = reinterpret_cast<uint64_t>(&weft_context_start);
  ctx->sp = frame;
}

}  // namespace weft::arch
