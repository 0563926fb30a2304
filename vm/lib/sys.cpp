// The helpers of vm/lib/sys.h.
#include "vm/lib/sys.h"

#include <signal.h>
#include <unistd.h>

#include <ctime>

namespace weft::lib {

std::string os_reason(int err) {
  char buf[256];
  // GNU strerror_r: returns the message, in buf or a static string.
  return strerror_r(err, buf, sizeof buf);
}

Value raise_os(Thread* t, const char* fn, const char* op, std::string_view path, int err) {
  std::string p(path);
  t->raise("%s: %s \"%s\": %s", fn, op, p.c_str(), os_reason(err).c_str());
  return Value::empty();
}

namespace {

// SIGPIPE blocked on this thread for one write: a write to a pipe without
// a reader then fails with EPIPE, and the SIGPIPE it left pending on the
// thread is taken before the mask is restored (the ordinary way for a
// library that must not change the process's disposition).
class NoSigpipe {
 public:
  NoSigpipe() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_, &old_);
  }
  ~NoSigpipe() {
    if (broke_) {
      timespec zero{0, 0};
      sigset_t pending;
      sigpending(&pending);
      if (sigismember(&pending, SIGPIPE) && !sigismember(&old_, SIGPIPE)) {
        while (sigtimedwait(&pipe_, nullptr, &zero) < 0 && errno == EINTR) {}
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  void broke() { broke_ = true; }

 private:
  sigset_t pipe_, old_;
  bool broke_ = false;
};

}  // namespace

int write_all(int fd, const char* p, size_t n) {
  NoSigpipe guard;
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EPIPE) guard.broke();
      return errno;
    }
    p += w;
    n -= size_t(w);
  }
  return 0;
}

int write_once(int fd, const char* p, size_t n, size_t* wrote) {
  NoSigpipe guard;
  *wrote = 0;
  ssize_t w;
  while ((w = ::write(fd, p, n)) < 0 && errno == EINTR) {}
  if (w >= 0) {
    *wrote = size_t(w);
    return 0;
  }
  if (errno == EPIPE) guard.broke();
  return errno;
}

namespace {

bool arg_error(Thread* t, const char* fn, int i, const char* want, Value got) {
  t->raise("%s: argument %d must be %s, got %s", fn, i + 1, want, type_name(got));
  return false;
}

}  // namespace

bool arg_string(Thread* t, const char* fn, const Value* args, int i, std::string_view* out) {
  if (!is_type(args[i], ObjType::String)) return arg_error(t, fn, i, "a string", args[i]);
  *out = as_string(args[i])->view();
  return true;
}

bool arg_int(Thread* t, const char* fn, const Value* args, int i, int64_t* out) {
  if (!is_int(args[i])) return arg_error(t, fn, i, "an int", args[i]);
  *out = int_of(args[i]);
  return true;
}

bool arg_type(Thread* t, const char* fn, const Value* args, int i, ObjType type, const char* tname) {
  if (is_type(args[i], type)) return true;
  std::string want = std::string(tname[0] == 'a' ? "an " : "a ") + tname;
  return arg_error(t, fn, i, want.c_str(), args[i]);
}

bool arg_path(Thread* t, const char* fn, const Value* args, int i, std::string* out) {
  std::string_view s;
  if (!arg_string(t, fn, args, i, &s)) return false;
  if (s.find('\0') != std::string_view::npos) {
    t->raise("%s: argument %d must not contain a NUL byte", fn, i + 1);
    return false;
  }
  out->assign(s);
  return true;
}

bool fits_heap(Thread* t, const char* fn, std::string_view what, uint64_t bytes) {
  uint64_t limit = t->rt->options().heap_limit;
  std::string w(what);
  if (bytes >= UINT32_MAX) {
    t->raise("%s: \"%s\" is too large (%llu bytes; a string holds at most 4 GiB)", fn, w.c_str(),
             (unsigned long long)bytes);
    return false;
  }
  if (limit != 0 && bytes > limit) {
    t->raise("%s: out of memory: \"%s\" is %llu bytes, the heap limit %llu", fn, w.c_str(),
             (unsigned long long)bytes, (unsigned long long)limit);
    return false;
  }
  return true;
}

void set_field(Runtime& rt, Map* m, std::string_view key, Value v) {
  map_set(rt.heap(), m, str_value(rt, key), v);
}

Map* new_module(Runtime& rt, const ModuleFn* fns, size_t n) {
  Map* m = rt.new_map(uint32_t(n) + 2);
  for (size_t i = 0; i < n; i++) {
    const char* dot = std::strchr(fns[i].name, '.');
    set_field(rt, m, dot ? dot + 1 : fns[i].name, obj(rt.new_native(fns[i].name, fns[i].fn, fns[i].min_args, fns[i].max_args)));
  }
  return m;
}

}  // namespace weft::lib
