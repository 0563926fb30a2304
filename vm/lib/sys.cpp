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

bool path_arg(Thread* t, const char* fn, const Value* args, int i, std::string* out) {
  std::string_view s = as_string(args[i])->view();
  if (s.find('\0') != std::string_view::npos) {
    t->raise("%s: argument %d must not contain a NUL byte", fn, i + 1);
    return false;
  }
  out->assign(s);
  return true;
}

void set_field(Runtime& rt, Map* m, std::string_view key, Value v) {
  map_set(rt.heap(), m, str(rt, key), v);
}

}  // namespace weft::lib
