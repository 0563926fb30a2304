// What the `fs` and `os` modules share (vm/lib/fs.cpp, vm/lib/os.cpp):
// running a call as a system call, OS errors as runtime errors, writes that
// survive a vanished reader, and the resources a run leaves behind.
//
// Blocking (docs/language.md#standard-modules: calls that wait on the
// OS never stop other goroutines or the collector). Every call that may
// wait on the OS runs through `blocking(f)`: between sched::entersyscall
// and exitsyscall, so its P goes to other goroutines (sysmon hands it off
// when the call lasts) and a stop-the-world does not wait for it. Inside f
// there is no P: f must not allocate, raise, or touch the VM stack. It may
// read strings (immutable; the caller keeps them alive, and a native pins
// any it allocated itself) and write into a string it allocated and pinned
// (strings are pointer-free, so the marker never reads their bytes).
// Locks taken inside f are released inside f: exitsyscall may park the G.
#pragma once

#include <cerrno>
#include <cstring>
#include <string>
#include <string_view>

#include "vm/core/objops.h"
#include "vm/interp/runtime.h"
#include "vm/lib/lib.h"
#include "vm/sched/sched.h"

namespace weft::lib {

// Runs f() as a system call when on a goroutine (see above); directly on a
// host thread, which holds no P.
template <class F>
auto blocking(F&& f) {
  bool on_g = sched::getg() != nullptr;
  if (on_g) sched::entersyscall();
  auto r = f();
  if (on_g) sched::exitsyscall();
  return r;
}

// The OS's reason for errno `err` ("No such file or directory").
std::string os_reason(int err);

// `FN: OP "PATH": REASON`, the form of every OS failure
// (`fs.read: open "x.txt": No such file or directory`). Returns empty.
Value raise_os(Thread* t, const char* fn, const char* op, std::string_view path, int err);

// Writes all n bytes to fd, retrying on EINTR and short writes. A reader
// that has gone is EPIPE, never a SIGPIPE that kills the process. Returns
// 0 or the errno. Blocks: call inside blocking().
int write_all(int fd, const char* p, size_t n);
// One write(2) of up to n bytes, the same way; *wrote is what it took.
// Returns 0 or the errno (EAGAIN on a full non-blocking pipe).
int write_once(int fd, const char* p, size_t n, size_t* wrote);

// A path argument (its type checked by the registry, vm/lib/lib.h): the
// string, refused if it holds a NUL byte (the OS would cut it short).
bool path_arg(Thread* t, const char* fn, const Value* args, int i, std::string* out);
// Sets m[key] = v with a string key.
void set_field(Runtime& rt, Map* m, std::string_view key, Value v);

// os.run's children (vm/lib/os.cpp). Thread-safe; SIGKILLs every child
// still running (the program is ending).
void kill_children();

// fs.open's files (vm/lib/fs.cpp): flushes and closes every file `rt`
// left open; reports a failed flush on stderr. Thread-safe.
void close_files(Runtime& rt);

}  // namespace weft::lib
