// The `vm` REPL (docs/language.md#the-vm-command): `vm` alone on a
// terminal.
//
// Each entry is compiled as a chunk of its own against the VM's globals
// (VM::load_source), so `let` and `fn` at the prompt make globals that later
// entries see, and goroutines started at the prompt live on. An entry that
// is an expression has its value printed as it would appear inside an array
// (strings quoted); nil is not echoed. Lines are read with libedit: editing,
// history kept in $HOME/.weft_history, more lines while a bracket, a raw
// string or a block comment is open, or the line ends with an operator.
// Ctrl-C abandons the entry being typed, or interrupts the code running
// (VM::interrupt); Ctrl-D on an empty line ends the REPL.
#pragma once

#include <string>

#include "weft/weft.h"

namespace weft::tool {

// Runs the REPL until end of input; returns the exit status (0).
int run_repl(VM& vm, const char* argv0);

// Writes a failed result to stderr as `vm` does; returns its exit status
// (tools/vm/main.cpp).
int report(const Result& r);

// Whether `text` needs more lines before it can be compiled (an open
// bracket, raw string or block comment, or a trailing operator).
bool needs_more(const std::string& text);

}  // namespace weft::tool
