// Standard input and output for scripts: print, readline and the io module
// (docs/language.md#the-vm-command: buffering, flushing, status 141).
//
// Output. The buffer is the C library's own FILE (stdout by default, or the
// stream a host configured, RuntimeOptions::out): one buffer shared by
// print, io.write and whatever else the process writes to it, a host's own
// printf included, so their order is kept. stdio locks each call, so
// goroutines on any thread may write at once; a write never yields to the
// scheduler half-way (natives are not asynchronously preemptible,
// vm/sched/preempt.cpp), so no goroutine switch happens under the FILE
// lock. Line-buffered on a terminal, block-buffered otherwise: the C
// library's default, which the `vm` binary widens (tools/vm/main.cpp).
//
// Rejected: a buffer of our own on fd 1. It would reorder a host's printf
// against the script's print, and buy nothing stdio lacks.
//
// A broken pipe. When stdout's reader has gone, a write fails with EPIPE
// (the `vm` binary catches SIGPIPE with a handler that does nothing, so the
// process survives to see it; a handler, unlike SIG_IGN, is reset for
// programs started by exec). Then the program ends at once, quietly, with
// status 141, as a shell reports a death by SIGPIPE. Only the `vm` binary
// ends so (RuntimeOptions::broken_pipe_exits, each call's `exits`): an
// embedding host's process is its own, so there the write just fails (the
// stream's error flag is set, the output lost) and the script goes on.
//
// Input. One process-wide buffer over fd 0, shared by readline, io.read and
// io.read_all (and any goroutine). A read that finds what it needs in the
// buffer makes no system call; one that must wait on the descriptor first
// gives up its P (sched::entersyscall), so other goroutines and the
// collector go on while it waits. Before waiting, standard output is
// flushed when standard input or output is a terminal (a prompt must show),
// never otherwise.
#pragma once

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

namespace weft::lib {

// Writes bytes to `f`; on stdout's broken pipe, ends the program (141)
// if `exits` (RuntimeOptions::broken_pipe_exits). Any thread.
void out_write(FILE* f, std::string_view bytes, bool exits);
// Flushes `f` (stdout's broken pipe: 141 if `exits`). Returns false on
// another error. Any thread.
bool out_flush(FILE* f, bool exits);

// Flushes `out` (the Runtime's RuntimeOptions::out), standard output and
// standard error, and ends the process with `code` at once: other
// goroutines stop where they are, no destructor runs. What os.exit(code)
// calls: lib::exit_program(code, t->rt->options().out). Standard output's
// reader gone: 141 instead. Any thread.
[[noreturn]] void exit_program(int code, FILE* out = stdout);
// What exit_program does short of ending the process (os.exit in an
// embedded VM): flushes `out` and standard error; a broken pipe only fails.
void flush_at_exit(FILE* out);

// The next line of standard input without its '\n', or nullopt at end of
// input. `out` is flushed first if a terminal is involved (see above).
// Called by a goroutine (it gives up its P only if it must wait) or any
// plain thread. `exits` as for out_flush.
std::optional<std::string> read_line(FILE* out, bool exits);
// Up to n bytes (fewer only at end of input); nullopt at end of input.
std::optional<std::string> read_bytes(FILE* out, size_t n, bool exits);
// The rest of standard input ("" at its end).
std::string read_all(FILE* out, bool exits);

}  // namespace weft::lib
