// The `vm` binary's signals (docs/language.md#the-vm-command).
//
// SIGINT, SIGTERM and SIGHUP are blocked in every thread (the mask is set
// before the VM makes any: threads inherit it) and taken by one thread of
// ours in sigwait(). So no handler ever interrupts a thread that holds
// stdout's lock or the runtime's, and the runtime's own signals (SIGURG
// for preemption, bdwgc's stop-the-world signals, SIGSEGV for stack guards)
// are left alone. On one of them the thread flushes standard output from
// an ordinary context, then unblocks the signal, restores its default
// action and raises it again: the process ends by that signal, as an
// unhandled one would (a shell sees 128+N).
//
// Rejected: flushing inside a signal handler. The handler may interrupt a
// goroutine inside fwrite, under the FILE lock: fflush would deadlock or
// tear the buffer. signalfd would do as well as sigwait; sigwait needs no
// descriptor.
//
// SIGPIPE gets a handler that does nothing: a write to a pipe whose reader
// has gone then fails with EPIPE, which vm/lib/stdio.cpp turns into status
// 141 for standard output and a runtime error elsewhere. A handler (not
// SIG_IGN) is reset to the default in programs the script starts.
//
// The REPL asks for SIGINT itself (set_interrupt_hook): Ctrl-C abandons the
// line being edited or interrupts the code running, and never ends vm.
#pragma once

#include <functional>

namespace weft::tool {

// Call first in main, before any thread exists.
void install_signals();

// While a hook is set, SIGINT calls it (on the signal thread) instead of
// ending the program. nullptr restores the default. Any thread.
void set_interrupt_hook(std::function<void()> hook);

// Runs (on the signal thread) before the process dies of a signal, after
// the flush: the REPL restores the terminal's mode. Any thread.
void set_exit_hook(std::function<void()> hook);

}  // namespace weft::tool
