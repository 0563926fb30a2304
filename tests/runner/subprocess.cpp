#include "tests/runner/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

namespace weft::testing {
namespace {

using Clock = std::chrono::steady_clock;

struct Pipe {
  int fd[2] = {-1, -1};
  bool open() { return pipe2(fd, O_CLOEXEC) == 0; }
  void close_both() {
    for (int& f : fd) {
      if (f >= 0) ::close(f);
      f = -1;
    }
  }
};

// In the child, between fork and exec: async-signal-safe calls only.
[[noreturn]] void exec_child(const ProcessSpec& spec, char* const* argv, char* const* envp, Pipe& in,
                             Pipe& out, Pipe& err) {
  setpgid(0, 0);
  dup2(in.fd[0], 0);
  dup2(out.fd[1], 1);
  dup2(err.fd[1], 2);
  if (!spec.cwd.empty() && chdir(spec.cwd.c_str()) != 0) _exit(127);
  signal(SIGPIPE, SIG_DFL);
  execve(argv[0], argv, envp);
  const char msg[] = "runner: exec failed\n";
  ssize_t ignored = write(2, msg, sizeof msg - 1);
  (void)ignored;
  _exit(127);
}

void set_nonblocking(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

// Serves the three pipes until both output pipes reach EOF or time runs out.
// Returns false on timeout.
bool pump(const ProcessSpec& spec, int in_fd, int out_fd, int err_fd, ProcessResult& r) {
  const auto deadline = Clock::now() + std::chrono::duration<double>(spec.timeout_s);
  size_t written = 0;
  if (spec.input.empty()) {
    ::close(in_fd);
    in_fd = -1;
  }
  int fds[3] = {in_fd, out_fd, err_fd};
  std::string* sinks[3] = {nullptr, &r.out, &r.err};
  char buf[65536];
  while (fds[1] >= 0 || fds[2] >= 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    pollfd pfd[3];
    for (int i = 0; i < 3; i++) pfd[i] = {fds[i], short(i == 0 ? POLLOUT : POLLIN), 0};
    int n = poll(pfd, 3, int(left.count()));
    if (n < 0 && errno != EINTR) return false;
    if (n <= 0) continue;
    if (fds[0] >= 0 && (pfd[0].revents & (POLLOUT | POLLERR | POLLHUP))) {
      ssize_t w = write(fds[0], spec.input.data() + written, spec.input.size() - written);
      if (w > 0) written += size_t(w);
      if (w < 0 && errno != EAGAIN) written = spec.input.size();  // child closed stdin
      if (written == spec.input.size()) {
        ::close(fds[0]);
        fds[0] = -1;
      }
    }
    for (int i = 1; i < 3; i++) {
      if (fds[i] < 0 || !(pfd[i].revents & (POLLIN | POLLERR | POLLHUP))) continue;
      ssize_t got = read(fds[i], buf, sizeof buf);
      if (got > 0) {
        sinks[i]->append(buf, size_t(got));
      } else if (got == 0 || errno != EAGAIN) {
        ::close(fds[i]);
        fds[i] = -1;
      }
    }
  }
  if (fds[0] >= 0) ::close(fds[0]);
  return true;
}

}  // namespace

ProcessResult run_process(const ProcessSpec& spec) {
  ProcessResult r;
  std::vector<char*> argv;
  for (const std::string& a : spec.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  // The environment, made before the fork (the child may only exec):
  // the inherited one less the names spec.env sets, then spec.env.
  std::vector<char*> envp;
  for (char** e = environ; *e != nullptr; e++) {
    std::string_view entry(*e);
    bool replaced = false;
    for (const std::string& v : spec.env)
      replaced = replaced || entry.substr(0, entry.find('=') + 1) == std::string_view(v).substr(0, v.find('=') + 1);
    if (!replaced) envp.push_back(*e);
  }
  for (const std::string& v : spec.env) envp.push_back(const_cast<char*>(v.c_str()));
  envp.push_back(nullptr);

  Pipe in, out, err;
  if (!in.open() || !out.open() || !err.open()) {
    in.close_both(), out.close_both(), err.close_both();
    r.spawn_failed = true;
    return r;
  }
  pid_t pid = fork();
  if (pid == 0) exec_child(spec, argv.data(), envp.data(), in, out, err);
  ::close(in.fd[0]);
  ::close(out.fd[1]);
  ::close(err.fd[1]);
  if (pid < 0) {
    ::close(in.fd[1]), ::close(out.fd[0]), ::close(err.fd[0]);
    r.spawn_failed = true;
    return r;
  }
  setpgid(pid, pid);  // also done by the child; whichever runs first wins
  if (spec.on_start) spec.on_start(int(pid));
  set_nonblocking(in.fd[1]);
  bool finished = pump(spec, in.fd[1], out.fd[0], err.fd[0], r);
  if (!finished) {
    kill(-pid, SIGKILL);
    kill(pid, SIGKILL);
    r.timed_out = true;
    // Drain nothing more: the pipes may be held open by grandchildren.
    ::close(out.fd[0]);
    ::close(err.fd[0]);
  }
  int status = 0;
  struct rusage usage = {};
  while (wait4(pid, &status, 0, &usage) < 0 && errno == EINTR) {
  }
  r.max_rss_kb = usage.ru_maxrss;
  if (r.timed_out) return r;
  if (WIFEXITED(status)) {
    r.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    r.signaled = true;
    r.signal = WTERMSIG(status);
  }
  return r;
}

std::string describe_exit(const ProcessResult& r, double timeout_s) {
  if (r.spawn_failed) return "could not start the process";
  if (r.timed_out) {
    char buf[64];
    snprintf(buf, sizeof buf, "timed out after %g s", timeout_s);
    return buf;
  }
  if (r.signaled) {
    return "killed by signal " + std::to_string(r.signal) + " (" + strsignal(r.signal) + ")";
  }
  return "exit " + std::to_string(r.exit_code);
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string::npos) {
      lines.push_back(text.substr(start));
      break;
    }
    lines.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return lines;
}

}  // namespace weft::testing
