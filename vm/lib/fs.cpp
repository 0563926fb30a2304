// The `fs` module (docs/language.md#fs): whole files,
// open files, and the file system's names.
//
// Model. Every call that touches the file system runs its system calls in
// blocking() (vm/lib/sys.h): no P, no allocation, no raise; it reports an
// errno and the failing operation, and the native raises after, with its P
// back. Data flows through C++ memory without a P and becomes a string
// after, except the bulk of fs.read: it allocates the string from the
// file's size first, pins it, and reads into it without a P (no second
// copy of a 50 MB file).
//
// Open files. fs.open returns a map of natives bound (Native::data) to
// [id, name]; the id finds a File in a process-wide table. A File's fd and
// buffers are guarded by its own lock, taken only inside blocking(), so a
// goroutine waiting for another's read on the same file waits without a P.
// close() removes the File from the table: a later call finds no File and
// raises `... is closed`. A run's end flushes and closes what the script
// left open (close_files, called by the host side after the scheduler
// stops). Writes are buffered (kChunk); every write and close result is
// checked, so a failed write is a runtime error, at the latest at close().
//
// Rejected: stdio FILE* (its errors and short reads are harder to report
// exactly, and it buffers again on top of what we need), closing files
// from the collector (the VM has no finalizers; an unclosed file lives
// until the run ends, as in Go without its finalizer).
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <unordered_map>
#include <utility>
#include <vector>

#include "vm/lib/sys.h"

namespace weft::lib {

namespace {

constexpr size_t kChunk = 64 * 1024;  // read size and write buffer: a pipe's worth

// The outcome of the blocking part of a call: which operation failed and
// its errno (err 0: success).
struct Failure {
  const char* op = nullptr;
  int err = 0;
  explicit operator bool() const { return err != 0; }
};

Failure fail(const char* op, int err) { return Failure{op, err}; }

int close_fd(int fd) {  // EINTR on close: the fd is gone anyway (Linux)
  return ::close(fd) == 0 || errno == EINTR ? 0 : errno;
}

// Reads until n bytes or end of file into buf; *got is what arrived.
int read_full(int fd, char* buf, size_t n, size_t* got) {
  *got = 0;
  while (*got < n) {
    ssize_t r = ::read(fd, buf + *got, n - *got);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return errno;
    if (r == 0) break;
    *got += size_t(r);
  }
  return 0;
}

// Appends what is left until end of file to out, stopping past `cap` bytes.
int read_rest(int fd, std::string* out, size_t cap) {
  char buf[kChunk];
  while (out->size() <= cap) {
    size_t got;
    if (int e = read_full(fd, buf, sizeof buf, &got)) return e;
    out->append(buf, got);
    if (got < sizeof buf) break;
  }
  return 0;
}

// Opens path for reading and sizes it (0 when the size is unknown: a pipe,
// a /proc file). A directory is EISDIR here, as read() would say later.
Failure open_for_read(const std::string& path, int* fd, uint64_t* size) {
  *fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (*fd < 0) return fail("open", errno);
  struct stat st;
  int e = fstat(*fd, &st) < 0 ? errno : S_ISDIR(st.st_mode) ? EISDIR : 0;
  if (e != 0) {
    close_fd(*fd);
    return fail(e == EISDIR ? "read" : "stat", e);
  }
  *size = S_ISREG(st.st_mode) ? uint64_t(st.st_size) : 0;
  return {};
}

// The largest string check_size (vm/lib/lib.h) lets a call make.
size_t max_string(Thread* t) { return size_t(size_cap(*t->rt)); }

// The whole file as a string, or nullptr with the error raised.
String* read_whole(Thread* t, const char* fn, const std::string& path) {
  int fd;
  uint64_t size = 0;
  if (Failure f = blocking([&] { return open_for_read(path, &fd, &size); })) {
    raise_os(t, fn, f.op, path, f.err);
    return nullptr;
  }
  if (!check_size(t, fn, size)) {
    blocking([&] { return close_fd(fd); });
    return nullptr;
  }
  Runtime& rt = *t->rt;
  String* s = rt.new_string_uninit(size_t(size));
  PinScope pins(t);  // a collection may run while we read without a P
  pins.pin(obj(s));
  size_t got = 0;
  std::string rest;  // what a growing or unsized file has beyond `size`
  size_t cap = max_string(t);
  Failure f = blocking([&] {
    int e = read_full(fd, s->data, size_t(size), &got);
    if (e == 0 && got == size) e = read_rest(fd, &rest, cap);
    int ce = close_fd(fd);
    return e != 0 ? fail("read", e) : ce != 0 ? fail("close", ce) : Failure{};
  });
  if (f) {
    raise_os(t, fn, f.op, path, f.err);
    return nullptr;
  }
  if (rest.empty()) {  // the usual case: s is the file (shrunk if it shrank)
    s->len = uint32_t(got);
    s->data[got] = '\0';
    return s;
  }
  if (!check_size(t, fn, uint64_t(got) + rest.size())) return nullptr;
  String* all = rt.new_string_uninit(got + rest.size());
  std::memcpy(all->data, s->data, got);
  std::memcpy(all->data + got, rest.data(), rest.size());
  return all;
}

// ---- whole files ----

Value fs_read(Thread* t, Value* args, int) {
  std::string path;
  if (!path_arg(t, "fs.read", args, 0, &path)) return Value::empty();
  String* s = read_whole(t, "fs.read", path);
  return s ? obj(s) : Value::empty();
}

// Lines as readline() gives them: split at '\n', a final '\n' ends the
// last line rather than starting an empty one; '\r' stays. The file is
// read kLinesChunk bytes at a time into C++ memory and each line copied
// out of it, so its text never enters the heap: read whole (as before),
// a 50 MB file was 50 MB of live data when the pacer measured during the
// call, which set the next trigger 100 MB high for the rest of the run
// (bench/compare/wordfreq.wf: a 232 MiB heap where 130 MiB does, its page
// faults a quarter of the run's CPU time). The array is sized from the
// first chunk's lines per byte, so a regular file's does not grow ~20
// times. Refuses a file larger than the heap limit before reading, as
// fs.read does.
class LineReader {
 public:
  LineReader(Thread* t, const std::string& path, int fd, uint64_t size)
      : t_(t), path_(path), fd_(fd), size_(size), buf_(new char[kLinesChunk]), cap_(kLinesChunk) {}
  ~LineReader() {
    if (fd_ >= 0) blocking([&] { return close_fd(fd_); });
  }
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  // The array of lines, or nullptr with the error raised.
  Array* run() {
    PinScope pins(t_);  // `out_` lives on through each read without a P
    for (bool eof = false; !eof;) {
      if (!fill(&eof)) return nullptr;
      if (out_ == nullptr) {
        out_ = t_->rt->new_array(0, first_capacity(eof));
        pins.pin(obj(out_));
      }
      if (!cut_lines(eof)) return nullptr;
    }
    int fd = std::exchange(fd_, -1);
    if (int e = blocking([&] { return close_fd(fd); })) return fail_os("close", e);
    return out_;
  }

 private:
  // Reads after the bytes held (the start of a line that the last read
  // cut); a held line that fills the buffer doubles it first. *eof: the
  // file ended in this read.
  bool fill(bool* eof) {
    if (have_ == cap_) {
      if (!check_size(t_, "fs.lines", uint64_t(cap_) * 2)) return false;
      std::unique_ptr<char[]> bigger(new char[cap_ * 2]);
      std::memcpy(bigger.get(), buf_.get(), have_);
      buf_ = std::move(bigger);
      cap_ *= 2;
    }
    size_t got = 0;
    if (int e = blocking([&] { return read_full(fd_, buf_.get() + have_, cap_ - have_, &got); })) {
      fail_os("read", e);
      return false;
    }
    *eof = got < cap_ - have_;
    have_ += got;
    return true;
  }

  // The lines of the first chunk, when it is the whole file; else its
  // lines per byte times the file's size, an eighth more for slack
  // (array_push grows the rest; 0 when the size is unknown).
  uint32_t first_capacity(bool eof) const {
    if (have_ == 0) return 0;
    uint64_t lines = uint64_t(std::count(buf_.get(), buf_.get() + have_, '\n'));
    if (eof) return uint32_t(std::min<uint64_t>(lines + (buf_[have_ - 1] != '\n'), kMaxLines));
    uint64_t est = size_ * (lines + 1) / have_;
    return uint32_t(std::min<uint64_t>(est + est / 8, kMaxLines));
  }

  // Moves each complete line held into the array (at the end of the file,
  // a last one without its '\n' too) and keeps the rest at the start.
  bool cut_lines(bool eof) {
    Runtime& rt = *t_->rt;
    char* p = buf_.get();
    size_t at = 0;
    while (at < have_) {
      auto* nl = static_cast<char*>(std::memchr(p + at, '\n', have_ - at));
      if (nl == nullptr && !eof) break;
      size_t end = nl == nullptr ? have_ : size_t(nl - p);
      if (out_->len >= kMaxLines) {
        t_->raise("fs.lines: \"%s\" has too many lines", path_.c_str());
        return false;
      }
      array_push(rt.heap(), out_, str(rt, std::string_view(p + at, end - at)));
      at = end + 1;
    }
    at = std::min(at, have_);
    std::memmove(p, p + at, have_ - at);
    have_ -= at;
    return true;
  }

  Array* fail_os(const char* op, int err) {
    raise_os(t_, "fs.lines", op, path_, err);
    return nullptr;
  }

  static constexpr size_t kLinesChunk = 1 << 20;  // a read: few system calls, little memory
  static constexpr uint32_t kMaxLines = UINT32_MAX / 2;

  Thread* t_;
  const std::string& path_;
  int fd_;
  uint64_t size_;   // the file's size, 0 when unknown
  std::unique_ptr<char[]> buf_;
  size_t cap_;
  size_t have_ = 0;  // bytes held in buf_: the start of a line
  Array* out_ = nullptr;
};

Value fs_lines(Thread* t, Value* args, int) {
  std::string path;
  if (!path_arg(t, "fs.lines", args, 0, &path)) return Value::empty();
  int fd;
  uint64_t size = 0;
  if (Failure f = blocking([&] { return open_for_read(path, &fd, &size); }))
    return raise_os(t, "fs.lines", f.op, path, f.err);
  LineReader reader(t, path, fd, size);
  if (!check_size(t, "fs.lines", size)) return Value::empty();
  Array* out = reader.run();
  return out != nullptr ? obj(out) : Value::empty();
}

Value write_file(Thread* t, Value* args, const char* fn, int flags) {
  std::string path;
  if (!path_arg(t, fn, args, 0, &path)) return Value::empty();
  std::string_view data = as_string(args[1])->view();
  PinScope pins(t);  // read without a P
  pins.pin(args[1]);
  Failure f = blocking([&] {
    int fd = ::open(path.c_str(), flags | O_CLOEXEC, 0666);
    if (fd < 0) return fail("open", errno);
    int e = write_all(fd, data.data(), data.size());
    int ce = close_fd(fd);
    return e != 0 ? fail("write", e) : ce != 0 ? fail("close", ce) : Failure{};
  });
  if (f) return raise_os(t, fn, f.op, path, f.err);
  return Value::nil();
}

Value fs_write(Thread* t, Value* args, int) { return write_file(t, args, "fs.write", O_WRONLY | O_CREAT | O_TRUNC); }
Value fs_append(Thread* t, Value* args, int) { return write_file(t, args, "fs.append", O_WRONLY | O_CREAT | O_APPEND); }

// ---- names ----

Value fs_exists(Thread* t, Value* args, int) {
  std::string path;
  if (!path_arg(t, "fs.exists", args, 0, &path)) return Value::empty();
  struct stat st;
  return Value::boolean(blocking([&] { return ::stat(path.c_str(), &st); }) == 0);
}

Value fs_stat(Thread* t, Value* args, int) {
  std::string path;
  if (!path_arg(t, "fs.stat", args, 0, &path)) return Value::empty();
  struct stat st;
  int e = blocking([&] { return ::stat(path.c_str(), &st) == 0 ? 0 : errno; });
  if (e == ENOENT || e == ENOTDIR) return Value::nil();
  if (e != 0) return raise_os(t, "fs.stat", "stat", path, e);
  Runtime& rt = *t->rt;
  Map* m = rt.new_map(3);
  set_field(rt, m, "size", rt.make_int(int64_t(st.st_size)));
  set_field(rt, m, "dir", Value::boolean(S_ISDIR(st.st_mode)));
  set_field(rt, m, "mtime", Value::number(double(st.st_mtim.tv_sec) + double(st.st_mtim.tv_nsec) * 1e-9));
  return obj(m);
}

Value fs_list(Thread* t, Value* args, int) {
  std::string path;
  if (!path_arg(t, "fs.list", args, 0, &path)) return Value::empty();
  std::vector<std::string> names;
  Failure f = blocking([&] {
    DIR* d = ::opendir(path.c_str());
    if (d == nullptr) return fail("open", errno);
    errno = 0;
    while (dirent* e = ::readdir(d)) {
      std::string_view n = e->d_name;
      if (n != "." && n != "..") names.emplace_back(n);
      errno = 0;
    }
    int e = errno;
    ::closedir(d);
    return e != 0 ? fail("read", e) : Failure{};
  });
  if (f) return raise_os(t, "fs.list", f.op, path, f.err);
  std::sort(names.begin(), names.end());
  Runtime& rt = *t->rt;
  Array* out = rt.new_array(0, uint32_t(names.size()));
  for (const std::string& n : names) array_push(rt.heap(), out, str(rt, n));
  return obj(out);
}

// mkdir -p: every missing parent, and no error when the directory exists.
int make_dirs(const std::string& path) {
  if (::mkdir(path.c_str(), 0777) == 0) return 0;
  int e = errno;
  struct stat st;
  if (e == EEXIST) return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode) ? 0 : EEXIST;
  if (e != ENOENT) return e;
  size_t slash = path.find_last_not_of('/');
  slash = slash == std::string::npos ? slash : path.rfind('/', slash);
  if (slash == std::string::npos || slash == 0) return e;
  if (int pe = make_dirs(path.substr(0, slash))) return pe;
  if (::mkdir(path.c_str(), 0777) == 0) return 0;
  e = errno;
  return e == EEXIST && ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode) ? 0 : e;
}

Value fs_mkdir(Thread* t, Value* args, int) {
  std::string path;
  if (!path_arg(t, "fs.mkdir", args, 0, &path)) return Value::empty();
  if (int e = blocking([&] { return make_dirs(path); })) return raise_os(t, "fs.mkdir", "mkdir", path, e);
  return Value::nil();
}

Value fs_remove(Thread* t, Value* args, int) {
  std::string path;
  if (!path_arg(t, "fs.remove", args, 0, &path)) return Value::empty();
  int e = blocking([&] {
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0) return errno;
    int r = S_ISDIR(st.st_mode) ? ::rmdir(path.c_str()) : ::unlink(path.c_str());
    return r == 0 ? 0 : errno;
  });
  if (e != 0) return raise_os(t, "fs.remove", "remove", path, e);
  return Value::nil();
}

Value fs_rename(Thread* t, Value* args, int) {
  std::string from, to;
  if (!path_arg(t, "fs.rename", args, 0, &from) || !path_arg(t, "fs.rename", args, 1, &to)) return Value::empty();
  if (int e = blocking([&] { return ::rename(from.c_str(), to.c_str()) == 0 ? 0 : errno; })) {
    return raise_os(t, "fs.rename", "rename", from + "\" to \"" + to, e);
  }
  return Value::nil();
}

// ---- open files ----

struct File {
  Mutex mu{LockRank::LibFile};  // guards everything below; taken only inside blocking()
  Runtime* rt;                  // the run that opened it (close_files)
  std::string name;
  int fd = -1;                  // -1 once closed
  bool readable = false, writable = false;
  std::string in;               // read buffer: bytes [in_pos, size) are unread
  size_t in_pos = 0;
  bool eof = false;             // read() returned 0
  std::string out;              // written, not yet flushed
};

Mutex g_files_mu{LockRank::Leaf};  // guards g_files and g_next_id
std::unordered_map<int64_t, std::shared_ptr<File>> g_files;
int64_t g_next_id = 1;

// The bound file of a method, or nullptr (raised) once closed.
std::shared_ptr<File> self_file(Thread* t, const Value* args, const char* fn) {
  Array* data = as_array(native_self(args)->data);
  int64_t id = int_of(data->inline_items[0]);
  {
    std::lock_guard lk(g_files_mu);
    auto it = g_files.find(id);
    if (it != g_files.end()) return it->second;
  }
  std::string name(as_string(data->inline_items[1])->view());
  t->raise("%s: file \"%s\" is closed", fn, name.c_str());
  return nullptr;
}

int flush_out(File& f) {  // f.mu held
  if (f.out.empty()) return 0;
  int e = write_all(f.fd, f.out.data(), f.out.size());
  f.out.clear();  // written or failed: a failure is reported once, not again at close
  return e;
}

// Refills the read buffer; 0 at end of file too (then f.eof).
int fill(File& f) {  // f.mu held
  f.in.erase(0, f.in_pos);
  f.in_pos = 0;
  size_t had = f.in.size();
  f.in.resize(had + kChunk);
  ssize_t r;
  while ((r = ::read(f.fd, f.in.data() + had, kChunk)) < 0 && errno == EINTR) {}
  f.in.resize(had + size_t(r > 0 ? r : 0));
  if (r < 0) return errno;
  if (r == 0) f.eof = true;
  return 0;
}

// What a method's blocking part found: a failure, the file closed under
// it, or done.
enum class Io { Done, Closed, Failed };

// Runs op(file) under the file's lock without a P.
template <class Op>
Io with_file(File& file, Failure* f, Op op) {
  return blocking([&] {
    std::lock_guard lk(file.mu);
    if (file.fd < 0) return Io::Closed;
    *f = op(file);
    return *f ? Io::Failed : Io::Done;
  });
}

Value io_error(Thread* t, const char* fn, File& file, Io io, const Failure& f) {
  if (io == Io::Closed) {
    t->raise("%s: file \"%s\" is closed", fn, file.name.c_str());
    return Value::empty();
  }
  return raise_os(t, fn, f.op, file.name, f.err);
}

bool want_mode(Thread* t, const char* fn, File& file, bool reading) {
  if (reading ? file.readable : file.writable) return true;
  t->raise("%s: file \"%s\" is not open for %s", fn, file.name.c_str(), reading ? "reading" : "writing");
  return false;
}

Value file_read(Thread* t, Value* args, int) {
  const char* fn = "file.read";
  int64_t n = int_of(args[0]);
  if (n < 0) {
    t->raise("%s: argument 1 must not be negative, got %lld", fn, (long long)n);
    return Value::empty();
  }
  auto file = self_file(t, args, fn);
  if (!file || !want_mode(t, fn, *file, true)) return Value::empty();
  size_t want = size_t(std::min<uint64_t>(uint64_t(n), max_string(t)));
  std::string got;
  bool end = false;
  Failure f;
  Io io = with_file(*file, &f, [&](File& fl) {
    while (got.size() < want) {
      if (fl.in_pos == fl.in.size()) {
        if (fl.eof) break;
        if (int e = fill(fl)) return fail("read", e);
        continue;
      }
      size_t take = std::min(want - got.size(), fl.in.size() - fl.in_pos);
      got.append(fl.in, fl.in_pos, take);
      fl.in_pos += take;
    }
    end = got.empty() && want > 0;
    return Failure{};
  });
  if (io != Io::Done) return io_error(t, fn, *file, io, f);
  if (end) return Value::nil();
  return str(*t->rt, got);
}

// The next line when it is whole in the buffer: taken with the P held and
// no system call (most readline calls). try_lock, because a holder may be
// waiting in read() without a P, and this thread must not wait with one.
// Copied out under the lock, allocated after: allocating may take heap
// locks, which rank below the file's (vm/core/lockrank.h).
bool buffered_line(File& fl, std::string* line) {
  std::unique_lock lk(fl.mu, std::try_to_lock);
  if (!lk.owns_lock() || fl.fd < 0) return false;
  size_t nl = fl.in.find('\n', fl.in_pos);
  if (nl == std::string::npos) return false;
  line->assign(fl.in, fl.in_pos, nl - fl.in_pos);
  fl.in_pos = nl + 1;
  return true;
}

Value file_readline(Thread* t, Value* args, int) {
  const char* fn = "file.readline";
  auto file = self_file(t, args, fn);
  if (!file || !want_mode(t, fn, *file, true)) return Value::empty();
  std::string line;
  if (buffered_line(*file, &line)) return str(*t->rt, line);
  bool any = false;
  size_t cap = max_string(t);
  Failure f;
  Io io = with_file(*file, &f, [&](File& fl) {
    for (;;) {
      if (fl.in_pos == fl.in.size()) {
        if (fl.eof) return Failure{};
        if (int e = fill(fl)) return fail("read", e);
        continue;
      }
      any = true;
      size_t nl = fl.in.find('\n', fl.in_pos);
      size_t end = nl == std::string::npos ? fl.in.size() : nl;
      line.append(fl.in, fl.in_pos, end - fl.in_pos);
      fl.in_pos = nl == std::string::npos ? end : nl + 1;
      if (nl != std::string::npos) return Failure{};
      if (line.size() > cap) return fail("read", EFBIG);
    }
  });
  if (io != Io::Done) return io_error(t, fn, *file, io, f);
  if (!any) return Value::nil();
  return str(*t->rt, line);
}

Value file_write(Thread* t, Value* args, int) {
  const char* fn = "file.write";
  std::string_view data = as_string(args[0])->view();
  auto file = self_file(t, args, fn);
  if (!file || !want_mode(t, fn, *file, false)) return Value::empty();
  PinScope pins(t);  // read without a P
  pins.pin(args[0]);
  Failure f;
  Io io = with_file(*file, &f, [&](File& fl) {
    if (fl.out.size() + data.size() < kChunk) {
      fl.out.append(data);
      return Failure{};
    }
    if (int e = flush_out(fl)) return fail("write", e);
    if (data.size() < kChunk) {
      fl.out.append(data);
      return Failure{};
    }
    int e = write_all(fl.fd, data.data(), data.size());
    return e != 0 ? fail("write", e) : Failure{};
  });
  if (io != Io::Done) return io_error(t, fn, *file, io, f);
  return Value::nil();
}

// Flushes and closes; the File leaves the table first, so no other call
// starts on it, and one already inside finishes before (the lock).
Failure close_file(File& fl) {  // fl.mu held
  int e = flush_out(fl);
  int ce = close_fd(fl.fd);
  fl.fd = -1;
  fl.in.clear();
  fl.in.shrink_to_fit();
  return e != 0 ? fail("write", e) : ce != 0 ? fail("close", ce) : Failure{};
}

Value file_close(Thread* t, Value* args, int) {
  const char* fn = "file.close";
  auto file = self_file(t, args, fn);
  if (!file) return Value::empty();
  {
    std::lock_guard lk(g_files_mu);
    g_files.erase(int_of(as_array(native_self(args)->data)->inline_items[0]));
  }
  Failure f;
  Io io = with_file(*file, &f, close_file);
  if (io != Io::Done) return io_error(t, fn, *file, io, f);
  return Value::nil();
}

// The methods of an open file: a module of its own for the registry's
// checks (`file.read: argument 1 must be an int, got string`), whose
// natives are made per file and bound to it.
constexpr Fn kFileFns[] = {
    {"read", file_read, "i"},
    {"readline", file_readline, ""},
    {"write", file_write, "s"},
    {"close", file_close, ""},
};
constexpr char kFileName[] = "file";
constexpr Module kFileMethods = make_module<kFileName, kFileFns>();

Value fs_open(Thread* t, Value* args, int) {
  const char* fn = "fs.open";
  std::string path;
  if (!path_arg(t, fn, args, 0, &path)) return Value::empty();
  std::string_view mode = as_string(args[1])->view();
  int flags;
  if (mode == "r") flags = O_RDONLY;
  else if (mode == "w") flags = O_WRONLY | O_CREAT | O_TRUNC;
  else if (mode == "a") flags = O_WRONLY | O_CREAT | O_APPEND;
  else {
    std::string m(mode);
    t->raise("%s: argument 2 must be \"r\", \"w\" or \"a\", got \"%s\"", fn, m.c_str());
    return Value::empty();
  }
  int fd = -1;
  Failure f = blocking([&] {
    fd = ::open(path.c_str(), flags | O_CLOEXEC, 0666);
    if (fd < 0) return fail("open", errno);
    struct stat st;
    if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
      close_fd(fd);
      return fail("open", EISDIR);
    }
    return Failure{};
  });
  if (f) return raise_os(t, fn, f.op, path, f.err);
  auto file = std::make_shared<File>();
  file->rt = t->rt;
  file->name = path;
  file->fd = fd;
  file->readable = mode == "r";
  file->writable = !file->readable;
  int64_t id;
  {
    std::lock_guard lk(g_files_mu);
    id = g_next_id++;
    g_files.emplace(id, file);
  }
  Runtime& rt = *t->rt;
  Array* data = rt.new_array(2, 2);
  data->inline_items[0] = rt.make_int(id);
  data->inline_items[1] = args[0];
  const Module& fm = kFileMethods;
  Map* m = rt.new_map(uint32_t(fm.nfns) + 1);
  for (size_t i = 0; i < fm.nfns; i++) {
    Native* method = rt.new_native(fm.qnames[i], fm.checked[i], sig_min(fm.fns[i].sig), sig_max(fm.fns[i].sig));
    method->data = obj(data);
    set_field(rt, m, fm.fns[i].name, obj(method));
  }
  set_field(rt, m, "name", args[0]);
  return obj(m);
}

constexpr Fn kFsFns[] = {
    {"read", fs_read, "s"},     {"write", fs_write, "ss"},   {"append", fs_append, "ss"},
    {"lines", fs_lines, "s"},   {"open", fs_open, "ss"},     {"exists", fs_exists, "s"},
    {"stat", fs_stat, "s"},     {"list", fs_list, "s"},      {"mkdir", fs_mkdir, "s"},
    {"remove", fs_remove, "s"}, {"rename", fs_rename, "ss"},
};
constexpr char kFsName[] = "fs";

}  // namespace

extern const Module kFsModule = make_module<kFsName, kFsFns>();

void close_files(Runtime& rt) {
  std::vector<std::shared_ptr<File>> mine;
  {
    std::lock_guard lk(g_files_mu);
    for (auto it = g_files.begin(); it != g_files.end();) {
      if (it->second->rt != &rt) {
        ++it;
        continue;
      }
      mine.push_back(std::move(it->second));
      it = g_files.erase(it);
    }
  }
  for (auto& file : mine) {
    // A goroutine stuck in a read on it (a FIFO) holds the lock: skip it.
    std::unique_lock lk(file->mu, std::try_to_lock);
    if (!lk.owns_lock() || file->fd < 0) continue;
    Failure f = close_file(*file);
    if (f) std::fprintf(stderr, "vm: fs: %s \"%s\": %s\n", f.op, file->name.c_str(), os_reason(f.err).c_str());
  }
}

}  // namespace weft::lib
