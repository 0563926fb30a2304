// Standard input and output for scripts: see stdio.h for the model.
#include "vm/lib/stdio.h"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <vector>

#include "vm/sched/sched.h"

namespace weft::lib {

namespace {

constexpr int kBrokenPipeStatus = 128 + 13;  // what a shell reports for a death by SIGPIPE
constexpr size_t kReadChunk = 64 * 1024;     // one read(2) of standard input

[[noreturn]] void broken_pipe() { _exit(kBrokenPipeStatus); }

// Did writing `f` just fail because its reader has gone? Only standard
// output ends the program (a host's other streams report the error).
void check_broken(FILE* f, int err, bool exits) {
  if (exits && f == stdout && err == EPIPE) broken_pipe();
}

// ---- input ----

// The buffer over fd 0. `mu` guards everything; it is taken without a P only
// (after entersyscall) when the descriptor must be read, so a goroutine
// waiting for it never holds up a stop-the-world.
struct Input {
  std::mutex mu;
  std::vector<char> buf;  // unread bytes are [pos, buf.size())
  size_t pos = 0;
  bool eof = false;       // read(2) returned 0 (or failed): no more input
  uint64_t reads = 0;     // how many takes so far: tells a reader whether pos moved under it
};

Input& input() {
  static Input* in = new Input;  // never destroyed: goroutines may read at exit
  return *in;
}

bool is_terminal(int fd) {
  static const bool tty[3] = {isatty(0) == 1, isatty(1) == 1, isatty(2) == 1};
  return tty[fd];
}

// A prompt written before reading must show when a person is at the
// terminal; into a pipe, flushing per line would cost a write per read.
void flush_for_input(FILE* out, bool exits) {
  if (out != nullptr && (is_terminal(0) || is_terminal(1))) out_flush(out, exits);
}

size_t buffered(const Input& in) { return in.buf.size() - in.pos; }

// Appends one read(2) worth of input. Caller holds in.mu, without a P.
void fill(Input& in) {
  if (in.pos > 0 && in.pos == in.buf.size()) {
    in.buf.clear();
    in.pos = 0;
  } else if (in.pos >= kReadChunk) {  // drop consumed bytes before growing
    in.buf.erase(in.buf.begin(), in.buf.begin() + ptrdiff_t(in.pos));
    in.pos = 0;
  }
  size_t old = in.buf.size();
  in.buf.resize(old + kReadChunk);
  for (;;) {
    ssize_t n = ::read(0, in.buf.data() + old, kReadChunk);
    if (n > 0) {
      in.buf.resize(old + size_t(n));
      return;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {  // a non-blocking stdin we inherited
      pollfd p = {0, POLLIN, 0};
      poll(&p, 1, -1);
      continue;
    }
    in.buf.resize(old);  // end of input, or an error that ends it (EBADF, EIO)
    in.eof = true;
    return;
  }
}

// Runs `take` (which returns true once satisfied from the buffer) first
// with a P; if the buffer cannot satisfy it, gives up the P and fills the
// buffer until it can or input ends. `take` runs under in.mu. With a P the
// lock is only tried: its holder may be another goroutine waiting in
// read(2), and a thread blocked here with a P would hold up every
// stop-the-world until input came.
template <class Take>
void with_input(FILE* out, bool exits, Take take) {
  Input& in = input();
  {
    std::unique_lock lk(in.mu, std::try_to_lock);
    if (lk.owns_lock() && take(in)) return;
  }
  flush_for_input(out, exits);
  bool syscall = sched::getg() != nullptr;
  if (syscall) sched::entersyscall();
  {
    std::lock_guard lk(in.mu);
    while (!take(in)) fill(in);
  }
  if (syscall) sched::exitsyscall();
}

std::string take_bytes(Input& in, size_t n) {
  std::string s(in.buf.data() + in.pos, n);
  in.pos += n;
  in.reads++;
  return s;
}

}  // namespace

void out_write(FILE* f, std::string_view bytes, bool exits) {
  if (bytes.empty()) return;
  errno = 0;
  if (std::fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size()) check_broken(f, errno, exits);
}

bool out_flush(FILE* f, bool exits) {
  errno = 0;
  if (std::fflush(f) == 0) return true;
  check_broken(f, errno, exits);
  return false;
}

void exit_program(int code, FILE* out) {
  if (out != stdout) out_flush(out, true);
  out_flush(stdout, true);
  std::fflush(stderr);
  _exit(code);
}

void flush_at_exit(FILE* out) {
  out_flush(out, false);
  std::fflush(stderr);
}

std::optional<std::string> read_line(FILE* out, bool exits) {
  std::optional<std::string> line;
  size_t scanned = 0;  // bytes after in.pos known to hold no newline: a long line is scanned once
  uint64_t scanned_at = 0;  // in.reads when `scanned` was measured
  with_input(out, exits, [&](Input& in) {
    if (in.reads != scanned_at) scanned = 0;  // another reader took input meanwhile
    const char* start = in.buf.data() + in.pos;
    const void* nl = buffered(in) > scanned ? std::memchr(start + scanned, '\n', buffered(in) - scanned) : nullptr;
    if (nl != nullptr) {
      size_t n = size_t(static_cast<const char*>(nl) - start);
      line = take_bytes(in, n);
      in.pos++;  // the newline
      return true;
    }
    scanned = buffered(in);
    scanned_at = in.reads;
    if (!in.eof) return false;
    if (buffered(in) > 0) line = take_bytes(in, buffered(in));  // a last line without '\n'
    return true;
  });
  return line;
}

std::optional<std::string> read_bytes(FILE* out, size_t n, bool exits) {
  std::optional<std::string> s;
  with_input(out, exits, [&](Input& in) {
    if (buffered(in) >= n || in.eof) {
      size_t k = std::min(n, buffered(in));
      if (k > 0 || n == 0) s = take_bytes(in, k);
      if (n == 0 && in.eof && buffered(in) == 0) s.reset();  // read(0) at the end: nil, as Lua's
      return true;
    }
    return false;
  });
  return s;
}

std::string read_all(FILE* out, bool exits) {
  std::string s;
  with_input(out, exits, [&](Input& in) {
    if (!in.eof) return false;
    s = take_bytes(in, buffered(in));
    return true;
  });
  return s;
}

}  // namespace weft::lib
