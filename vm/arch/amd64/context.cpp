// amd64: the initial frame of a fresh context. Its slots are the table
// vm/arch/amd64/layout.cmake's WEFT_CONTEXT, which weft_switch (context.S)
// pops; arch_layout.h (vm/arch/amd64/gen/) numbers them.
#include <cstdint>
#include <cstring>

#include "arch_layout.h"
#include "vm/arch/context.h"

extern "C" void weft_context_start();

namespace weft::arch {

namespace {
constexpr uint32_t kDefaultMxcsr = 0x1f80;  // all exceptions masked, round to nearest
constexpr uint16_t kDefaultFpucw = 0x037f;  // x87: all masked, extended precision
}  // namespace

void make_context(Context* ctx, void* lo, size_t size, void (*entry)(void*), void* arg) {
  uintptr_t top = (reinterpret_cast<uintptr_t>(lo) + size) & ~uintptr_t(15);
  // weft_context_start must see rsp % 16 == 0 after weft_switch's ret, so
  // its return-address slot sits at top - 24 (top - 16 stays a zero word).
  uint64_t* frame = reinterpret_cast<uint64_t*>(top - 24) - kContextRet;
  std::memset(frame, 0, top - reinterpret_cast<uintptr_t>(frame));
  uint32_t mx = kDefaultMxcsr;
  uint16_t cw = kDefaultFpucw;
  char* fpctl = reinterpret_cast<char*>(&frame[kContextFpctl]);
  std::memcpy(fpctl + kFpctlMxcsr, &mx, 4);
  std::memcpy(fpctl + kFpctlX87cw, &cw, 2);
  frame[kContextR13] = reinterpret_cast<uint64_t>(arg);
  frame[kContextR12] = reinterpret_cast<uint64_t>(entry);
  frame[kContextRet] = reinterpret_cast<uint64_t>(&weft_context_start);
  ctx->sp = frame;
}

}  // namespace weft::arch
