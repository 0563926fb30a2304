// amd64: the initial frame of a fresh context (layout in context.S).
#include <cstdint>
#include <cstring>

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
  uint64_t* frame = reinterpret_cast<uint64_t*>(top - 24) - 7;
  std::memset(frame, 0, 10 * sizeof(uint64_t));
  uint32_t mx = kDefaultMxcsr;
  uint16_t cw = kDefaultFpucw;
  std::memcpy(&frame[0], &mx, 4);
  std::memcpy(reinterpret_cast<char*>(&frame[0]) + 4, &cw, 2);
  frame[3] = reinterpret_cast<uint64_t>(arg);    // r13
  frame[4] = reinterpret_cast<uint64_t>(entry);  // r12
  frame[7] = reinterpret_cast<uint64_t>(&weft_context_start);
  ctx->sp = frame;
}

}  // namespace weft::arch
