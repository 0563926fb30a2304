// Small CPU hints for the rest of the VM (vm/arch: the one place that may
// name the architecture).
#pragma once

namespace weft::arch {

// In a spin-wait loop: lets the sibling hyperthread run and saves power
// (amd64 `pause`; arm64 `yield`, which is what cores and emulators such as
// qemu recognise as a spin hint).
inline void cpu_relax() {
#if defined(__x86_64__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#else
#error "vm/arch/cpu.h: no cpu_relax for this CPU"
#endif
}

}  // namespace weft::arch
