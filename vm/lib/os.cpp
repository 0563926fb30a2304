// The `os` module (docs/language.md#os): the process's
// environment, its end, the clock, and running programs.
//
// Environment. The runtime is multithreaded and libc's getenv is not safe
// against a concurrent setenv, so every read and write of the environment
// here (getenv, setenv, env, and os.run's spawn, which reads PATH and
// environ) holds g_env_mu. Code outside this file that calls getenv while
// a script calls os.setenv is outside that lock (the lead's note in
// vm/lib/README.md).
//
// os.run. posix_spawnp (glibc spawns with CLONE_VFORK and reports an exec
// failure back, so "cannot start" is an error here, not status 127):
// no fork of a multithreaded process, no shell. Every fd the runtime opens
// is O_CLOEXEC, so the child gets exactly 0, 1 and 2; its signal mask is
// emptied and every disposition reset, so an ignored SIGPIPE does not leak
// into it. The parent's ends of the pipes are non-blocking and one poll()
// loop feeds stdin and drains stdout and stderr together (a child that
// fills one pipe while we wait on another would deadlock otherwise), and
// waits for the child's exit through a pidfd (Linux >= 5.3; else a 10 ms
// waitpid poll). All of it runs in blocking() (vm/lib/sys.h): the
// goroutine holds no P while the child runs.
//
// Children. Live children are in g_children until reaped; reaping
// (waitpid) and killing (kill_children, at the end of a run and in
// os.exit) both hold g_children_mu, so a pid is never signalled after it
// was reaped and perhaps reused.
//
// Rejected: fork/exec by hand (async-signal-safety between fork and exec
// in a process with Ms, sysmon and the collector thread is what
// posix_spawn already gets right), a thread per pipe (poll is one thread,
// the goroutine's own M).
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <vector>

#include "vm/lib/stdio.h"
#include "vm/lib/sys.h"

extern char** environ;

namespace weft::lib {

namespace {

Mutex g_env_mu{LockRank::LibEnv};            // the process environment (see above)
Mutex g_children_mu{LockRank::LibChildren};  // guards g_children
std::vector<pid_t> g_children;               // spawned by os.run, not yet reaped

// ---- the environment ----

Value os_getenv(Thread* t, Value* args, int) {
  std::string name;
  if (!path_arg(t, "os.getenv", args, 0, &name)) return Value::empty();
  std::string value;
  bool found;
  {
    std::lock_guard lk(g_env_mu);
    const char* v = std::getenv(name.c_str());
    found = v != nullptr;
    if (found) value = v;
  }
  return found ? str(*t->rt, value) : Value::nil();
}

bool env_name_ok(Thread* t, const char* fn, std::string_view name) {
  if (!name.empty() && name.find('=') == std::string_view::npos) return true;
  std::string n(name);
  t->raise("%s: invalid environment variable name \"%s\"", fn, n.c_str());
  return false;
}

// setenv(name, value); a nil value removes the variable.
Value os_setenv(Thread* t, Value* args, int n) {
  const char* fn = "os.setenv";
  std::string name, value;
  if (!path_arg(t, fn, args, 0, &name) || !env_name_ok(t, fn, name)) return Value::empty();
  bool unset = n < 2 || args[1].is_nil();
  if (!unset && !path_arg(t, fn, args, 1, &value)) return Value::empty();
  int r;
  {
    std::lock_guard lk(g_env_mu);
    r = unset ? ::unsetenv(name.c_str()) : ::setenv(name.c_str(), value.c_str(), 1);
  }
  if (r != 0) return raise_os(t, fn, "setenv", name, errno);
  return Value::nil();
}

Value os_env(Thread* t, Value*, int) {
  std::vector<std::string> vars;
  {
    std::lock_guard lk(g_env_mu);
    for (char** e = environ; *e != nullptr; e++) vars.emplace_back(*e);
  }
  Runtime& rt = *t->rt;
  Map* m = rt.new_map(uint32_t(vars.size()));
  for (const std::string& v : vars) {
    size_t eq = v.find('=');
    if (eq == std::string::npos) continue;
    std::string_view sv = v;
    set_field(rt, m, sv.substr(0, eq), str(rt, sv.substr(eq + 1)));
  }
  return obj(m);
}

// ---- the program's end and the clock ----

// exit(code): closes the script's files, kills its children, flushes what
// it wrote and ends the process at once: no other goroutine runs again
// (lib::exit_program, vm/lib/stdio.h; standard output's reader gone: 141).
//
// In an embedded VM (RuntimeOptions::exit_process false) the process is
// the host's: exit ends the run instead, as interrupt() would, and the
// request waiting on it gets Status::Exit with the code. The calling
// goroutine parks for good (nothing after os.exit runs, and pcall cannot
// catch it, as it cannot catch the process's end); the others stop at
// their next safe-point.
Value os_exit(Thread* t, Value* args, int n) {
  int64_t code = given(args, n, 0) ? int_of(args[0]) : 0;
  Runtime& rt = *t->rt;
  bool process = rt.options().exit_process;
  sched::G* g = sched::getg();
  if (!process && g == nullptr) {
    t->raise("os.exit: not on a goroutine");
    return Value::empty();
  }
  blocking([&] {  // a flush into a full pipe waits for its reader
    close_files(rt);
    kill_children();
    std::fflush(rt.options().err);
    if (process) exit_program(int(code & 0xff), rt.options().out);
    flush_at_exit(rt.options().out);
    return 0;
  });
  std::string why = "os.exit(" + std::to_string(code) + ")";
  sched::report_done(g->owner, sched::Sched::Exit::Exited, why, t->stack_trace(), int(code & 0xff));
  g->resume = sched::Resume::Complete;
  g->resume_value = Value::nil();
  return sched::gopark(nullptr, nullptr, sched::WaitReason::Exited) == sched::Parked::Unwound ? sched::kParked
                                                                                               : Value::nil();
}

Value os_time(Thread* t, Value*, int) {
  (void)t;
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return Value::number(double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9);
}

// ---- os.run ----

struct RunSpec {
  std::vector<std::string> argv;
  bool has_env = false;
  std::vector<std::string> env;  // "NAME=value"
  std::string cwd;               // empty: ours
  bool has_stdin = false;
  std::string_view stdin_data;   // in a string the caller keeps (pinned)
  int64_t timeout_ns = -1;       // -1: none
  size_t max_output = 0;         // per stream; beyond it the child is killed
};

struct RunResult {
  const char* op = nullptr;  // what failed, when err != 0
  int err = 0;
  int status = 0;
  bool killed = false;     // by us: past the timeout, or too much output
  bool timed_out = false;
  bool too_large = false;
  std::string out, err_text;
};

bool parse_argv(Thread* t, Value v, RunSpec* spec) {
  Array* a = as_array(v);
  if (a->len == 0) {
    t->raise("os.run: argument 1 must not be empty (it names the program)");
    return false;
  }
  Value s;
  for (uint32_t i = 0; array_get(a, i, &s); i++) {  // racing pushes: bounds checked
    if (!is_type(s, ObjType::String)) {
      t->raise("os.run: argv[%u] must be a string, got %s", i, type_name(s));
      return false;
    }
    std::string_view sv = as_string(s)->view();
    if (sv.find('\0') != std::string_view::npos) {
      t->raise("os.run: argv[%u] must not contain a NUL byte", i);
      return false;
    }
    spec->argv.emplace_back(sv);
  }
  return true;
}

bool parse_env(Thread* t, Value v, RunSpec* spec) {
  if (!is_type(v, ObjType::Map)) {
    t->raise("os.run: option env must be a map, got %s", type_name(v));
    return false;
  }
  spec->has_env = true;
  MapEntry en;
  Map* m = as_map(v);
  for (int64_t e = map_next(m, 0, &en); e >= 0; e = map_next(m, e + 1, &en)) {
    if (!is_type(en.key, ObjType::String) || !is_type(en.value, ObjType::String)) {
      t->raise("os.run: option env must map strings to strings, got %s: %s", type_name(en.key), type_name(en.value));
      return false;
    }
    std::string_view k = as_string(en.key)->view(), val = as_string(en.value)->view();
    if (!env_name_ok(t, "os.run", k)) return false;
    if (k.find('\0') != std::string_view::npos || val.find('\0') != std::string_view::npos) {
      t->raise("os.run: option env must not contain NUL bytes");
      return false;
    }
    spec->env.push_back(std::string(k) + "=" + std::string(val));
  }
  return true;
}

bool parse_option(Thread* t, std::string_view key, Value v, RunSpec* spec) {
  if (key == "env") return parse_env(t, v, spec);
  if (key == "stdin" || key == "cwd") {
    if (!is_type(v, ObjType::String)) {
      t->raise("os.run: option %s must be a string, got %s", key == "cwd" ? "cwd" : "stdin", type_name(v));
      return false;
    }
    std::string_view s = as_string(v)->view();
    if (key == "stdin") {
      spec->has_stdin = true;
      spec->stdin_data = s;
      return true;
    }
    if (s.empty() || s.find('\0') != std::string_view::npos) {
      t->raise("os.run: option cwd must be a directory's path");
      return false;
    }
    spec->cwd = s;
    return true;
  }
  if (key == "timeout") {
    if (!is_number(v) || !(number_of(v) >= 0)) {
      t->raise("os.run: option timeout must be a non-negative number of ms, got %s", type_name(v));
      return false;
    }
    double ms = number_of(v);
    spec->timeout_ns = ms >= 9e12 ? -1 : int64_t(ms * 1e6);
    return true;
  }
  std::string k(key);
  t->raise("os.run: unknown option \"%s\" (expected stdin, env, cwd or timeout)", k.c_str());
  return false;
}

bool parse_opts(Thread* t, Value v, RunSpec* spec) {
  if (v.is_nil()) return true;
  MapEntry en;
  Map* m = as_map(v);
  for (int64_t e = map_next(m, 0, &en); e >= 0; e = map_next(m, e + 1, &en)) {
    if (!is_type(en.key, ObjType::String)) {
      t->raise("os.run: option names must be strings, got %s", type_name(en.key));
      return false;
    }
    if (!en.value.is_nil() && !parse_option(t, as_string(en.key)->view(), en.value, spec)) return false;
  }
  return true;
}

// The pipes of one child: [0] the parent's end, [1] the child's (for
// stdin the other way round: the parent writes [1]). -1 when closed.
struct Pipes {
  int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1};
  ~Pipes() {
    for (int fd : {in[0], in[1], out[0], out[1], err[0], err[1]}) {
      if (fd >= 0) ::close(fd);
    }
  }
};

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

int make_pipes(const RunSpec& spec, Pipes& p) {
  if (spec.has_stdin) {
    if (::pipe2(p.in, O_CLOEXEC) != 0) return errno;
  } else if ((p.in[0] = ::open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0) {
    return errno;
  }
  if (::pipe2(p.out, O_CLOEXEC) != 0 || ::pipe2(p.err, O_CLOEXEC) != 0) return errno;
  for (int fd : {p.in[1], p.out[0], p.err[0]}) {
    if (fd >= 0) ::fcntl(fd, F_SETFL, O_NONBLOCK);
  }
  return 0;
}

// posix_spawnp with the pipes on 0, 1, 2; registers the child. 0 or errno.
int spawn(const RunSpec& spec, Pipes& p, pid_t* pid) {
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&fa);
  posix_spawnattr_init(&attr);
  posix_spawn_file_actions_adddup2(&fa, p.in[0], 0);
  posix_spawn_file_actions_adddup2(&fa, p.out[1], 1);
  posix_spawn_file_actions_adddup2(&fa, p.err[1], 2);
  if (!spec.cwd.empty()) posix_spawn_file_actions_addchdir_np(&fa, spec.cwd.c_str());
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  sigdelset(&all, SIGKILL);
  sigdelset(&all, SIGSTOP);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  std::vector<char*> argv, envp;
  for (const std::string& a : spec.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (const std::string& e : spec.env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  int r;
  {
    std::lock_guard env(g_env_mu);  // posix_spawnp reads PATH and environ
    r = posix_spawnp(pid, argv[0], &fa, &attr, argv.data(), spec.has_env ? envp.data() : environ);
    if (r == 0) {
      std::lock_guard lk(g_children_mu);
      g_children.push_back(*pid);
    }
  }
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  return r;
}

// Reaps pid if it has exited (never blocks). True once reaped.
bool try_reap(pid_t pid, int* status) {
  std::lock_guard lk(g_children_mu);
  pid_t r;
  while ((r = ::waitpid(pid, status, WNOHANG)) < 0 && errno == EINTR) {}
  if (r == 0) return false;
  if (r < 0) *status = 0;  // ECHILD: reaped elsewhere (SIGCHLD ignored); no status to give
  g_children.erase(std::remove(g_children.begin(), g_children.end(), pid), g_children.end());
  return true;
}

void kill_child(pid_t pid) {
  std::lock_guard lk(g_children_mu);
  if (std::find(g_children.begin(), g_children.end(), pid) != g_children.end()) ::kill(pid, SIGKILL);
}

// Reads what fd has now into out; closes fd at end of file or error.
void drain(int& fd, std::string& out) {
  char buf[65536];
  for (;;) {
    ssize_t r = ::read(fd, buf, sizeof buf);
    if (r > 0) {
      out.append(buf, size_t(r));
      continue;
    }
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && errno == EAGAIN) return;
    close_fd(fd);
    return;
  }
}

// Writes what the pipe takes of the rest of stdin; closes it when done or
// when the child stopped reading (EPIPE: not an error, as in Python's
// communicate()).
void feed(int& fd, std::string_view data, size_t* fed) {
  while (*fed < data.size()) {
    size_t n = std::min<size_t>(data.size() - *fed, 65536);
    size_t wrote = 0;
    int e = write_once(fd, data.data() + *fed, n, &wrote);
    *fed += wrote;
    if (e == 0) continue;
    if (e == EAGAIN) return;
    break;
  }
  close_fd(fd);
}

int64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// The poll loop: feeds, drains, waits for the exit, enforces the timeout.
void communicate(const RunSpec& spec, Pipes& p, pid_t pid, RunResult* res) {
  int pidfd = int(::syscall(SYS_pidfd_open, pid, 0));
  int64_t deadline = spec.timeout_ns >= 0 ? now_ns() + spec.timeout_ns : -1;
  size_t fed = 0;
  int wstatus = 0;
  bool reaped = false;
  if (p.in[1] >= 0 && spec.stdin_data.empty()) close_fd(p.in[1]);
  for (;;) {
    if (!reaped && (reaped = try_reap(pid, &wstatus)) && res->killed) {
      drain(p.out[0], res->out);  // killed: what grandchildren still hold open is not waited for
      drain(p.err[0], res->err_text);
      break;
    }
    if (reaped && p.out[0] < 0 && p.err[0] < 0) break;
    pollfd fds[4];
    int nfds = 0;
    if (p.in[1] >= 0) fds[nfds++] = {p.in[1], POLLOUT, 0};
    if (p.out[0] >= 0) fds[nfds++] = {p.out[0], POLLIN, 0};
    if (p.err[0] >= 0) fds[nfds++] = {p.err[0], POLLIN, 0};
    if (!reaped && pidfd >= 0) fds[nfds++] = {pidfd, POLLIN, 0};
    int wait_ms = -1;
    if (deadline >= 0 && !res->killed) wait_ms = int(std::max<int64_t>(0, (deadline - now_ns() + 999999) / 1000000));
    if (!reaped && pidfd < 0 && (wait_ms < 0 || wait_ms > 10)) wait_ms = 10;  // no pidfd: poll waitpid
    if (::poll(fds, nfds_t(nfds), wait_ms) < 0 && errno != EINTR) {
      res->op = "poll";
      res->err = errno;
      res->killed = true;
      kill_child(pid);
    }
    if (p.in[1] >= 0) feed(p.in[1], spec.stdin_data, &fed);
    if (p.out[0] >= 0) drain(p.out[0], res->out);
    if (p.err[0] >= 0) drain(p.err[0], res->err_text);
    bool over = res->out.size() > spec.max_output || res->err_text.size() > spec.max_output;
    bool late = deadline >= 0 && now_ns() >= deadline;
    if (!res->killed && (over || late)) {  // killed: the pipes are not waited for once it is reaped
      (over ? res->too_large : res->timed_out) = true;
      res->killed = true;
      kill_child(pid);
    }
  }
  if (pidfd >= 0) ::close(pidfd);
  if (WIFEXITED(wstatus)) res->status = WEXITSTATUS(wstatus);
  else if (WIFSIGNALED(wstatus)) res->status = 128 + WTERMSIG(wstatus);
}

void run_child(const RunSpec& spec, RunResult* res) {
  if (!spec.cwd.empty()) {
    struct stat st;
    int e = ::stat(spec.cwd.c_str(), &st) != 0 ? errno : S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
    if (e != 0) {
      res->op = "chdir";
      res->err = e;
      return;
    }
  }
  Pipes p;
  if (int e = make_pipes(spec, p)) {
    res->op = "pipe";
    res->err = e;
    return;
  }
  pid_t pid;
  if (int e = spawn(spec, p, &pid)) {
    res->op = "start";
    res->err = e;
    return;
  }
  close_fd(p.in[0]);  // the child's ends: EOF comes when the child's copies close
  close_fd(p.out[1]);
  close_fd(p.err[1]);
  communicate(spec, p, pid, res);
}

Value os_run(Thread* t, Value* args, int n) {
  const char* fn = "os.run";
  RunSpec spec;
  if (!parse_argv(t, args[0], &spec)) return Value::empty();
  if (n > 1 && !parse_opts(t, args[1], &spec)) return Value::empty();
  spec.max_output = size_t(size_cap(*t->rt));
  PinScope pins(t);  // stdin is read without a P
  if (n > 1) pins.pin(args[1]);
  RunResult res;
  blocking([&] {
    run_child(spec, &res);
    return 0;
  });
  if (res.err != 0) {
    return raise_os(t, fn, res.op, res.op == std::string_view("chdir") ? spec.cwd : spec.argv[0], res.err);
  }
  if (res.too_large) {
    t->raise("%s: output of \"%s\" is too large (over %zu bytes): killed", fn, spec.argv[0].c_str(), spec.max_output);
    return Value::empty();
  }
  Runtime& rt = *t->rt;
  Map* m = rt.new_map(4);
  set_field(rt, m, "status", Value::inline_int(res.status));
  set_field(rt, m, "out", str(rt, res.out));
  set_field(rt, m, "err", str(rt, res.err_text));
  if (res.timed_out) set_field(rt, m, "timed_out", Value::boolean(true));
  return obj(m);
}

constexpr Fn kOsFns[] = {
    {"exit", os_exit, "|i"},   {"getenv", os_getenv, "s"}, {"setenv", os_setenv, "s|s"},
    {"env", os_env, ""},       {"run", os_run, "a|m"},     {"time", os_time, ""},
};
constexpr Const kOsConsts[] = {Const::string("platform", WEFT_PLATFORM)};
constexpr char kOsName[] = "os";

}  // namespace

extern const Module kOsModule = make_module<kOsName, kOsFns, kOsConsts>();

void kill_children() {
  std::lock_guard lk(g_children_mu);
  for (pid_t pid : g_children) ::kill(pid, SIGKILL);
}

}  // namespace weft::lib
