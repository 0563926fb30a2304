// Execution contexts: switching the CPU between native stacks (vm/arch).
//
// Model. A Context is the stack pointer of a suspended native activation;
// everything else it needs (the callee-saved registers rbx rbp r12-r15 on
// amd64, MXCSR and the x87 control word) was pushed on its own stack by
// weft_switch before the pointer was taken. Caller-saved registers need no
// saving: weft_switch is an ordinary call. The signal mask is never
// touched (it belongs to the OS thread, not to the goroutine; swapcontext's
// sigprocmask syscall per switch is the cost this avoids).
//
// Each architecture implements weft_switch and weft_context_start in
// vm/arch/<arch>/context.S and the frame layout make_context builds in
// vm/arch/<arch>/context.cpp; CMake picks the directory. Nothing outside
// vm/arch depends on which one it is.
//
// Rejected: ucontext (a syscall per switch for the signal mask), and
// setjmp/longjmp onto a new stack (undefined behaviour, and glibc's
// pointer mangling fights it).
#pragma once

#include <cstddef>

namespace weft::arch {

struct Context {
  void* sp = nullptr;  // the suspended activation's stack pointer; nullptr when none
};

// Prepares `ctx` so that switching to it calls entry(arg) at the top of
// the stack [lo, lo + size). entry must never return (it switches away for
// good instead).
void make_context(Context* ctx, void* lo, size_t size, void (*entry)(void*), void* arg);

}  // namespace weft::arch

extern "C" {
// Saves the running activation into *from and resumes *to. Returns when
// something switches back to *from. Any thread; from != to.
void weft_switch(weft::arch::Context* from, weft::arch::Context* to);
}
