// What the `fs` and `os` modules share (vm/lib/fs.cpp, vm/lib/os.cpp):
// running a call as a system call, OS errors as runtime errors, writes that
// survive a vanished reader, and the resources a run leaves behind.
//
// Blocking (docs/language.md, "Standard modules": calls that wait on the
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

inline Value obj(const void* o) { return Value::object(static_cast<const Obj*>(o)); }
inline Value str_value(Runtime& rt, std::string_view s) { return obj(rt.new_string(s)); }

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

// Argument checks, the one way every fs/os function states them:
// `fs.read: argument 1 must be a string, got int`.
bool arg_string(Thread* t, const char* fn, const Value* args, int i, std::string_view* out);
bool arg_int(Thread* t, const char* fn, const Value* args, int i, int64_t* out);
bool arg_type(Thread* t, const char* fn, const Value* args, int i, ObjType type, const char* tname);
// A path: a string without NUL bytes (the OS would cut it short).
bool arg_path(Thread* t, const char* fn, const Value* args, int i, std::string* out);

// The largest string a native may make of OS data: String::len is 32-bit,
// and with --heap-limit no single result may exceed the limit (the limit
// counts live bytes; this is the check a native can make before it reads).
// TODO(lead): use the runtime branch's heap-limit helper once it lands.
bool fits_heap(Thread* t, const char* fn, std::string_view what, uint64_t bytes);

// A module's exports: a map of name -> native.
struct ModuleFn {
  const char* name;  // the native's name in errors: "fs.read"
  NativeFn fn;
  int min_args, max_args;  // max -1: any number
};
Map* new_module(Runtime& rt, const ModuleFn* fns, size_t n);
// Sets m[key] = v with a string key.
void set_field(Runtime& rt, Map* m, std::string_view key, Value v);

// os.run's children (vm/lib/os.cpp). Thread-safe; SIGKILLs every child
// still running (the program is ending).
void kill_children();

// fs.open's files (vm/lib/fs.cpp): flushes and closes every file `rt`
// left open; reports a failed flush on stderr. Thread-safe.
void close_files(Runtime& rt);

// The module maps, made on each import (vm/lib/fs.cpp, vm/lib/os.cpp).
Value fs_module(Runtime& rt);
Value os_module(Runtime& rt);

}  // namespace weft::lib
