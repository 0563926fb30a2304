#include "tests/runner/child.h"

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

extern char** environ;

namespace weft::testing {

namespace {

using Clock = std::chrono::steady_clock;

int ms_left(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left > 0 ? int(left) : 0;
}

std::vector<char*> c_strings(std::vector<std::string>& v) {
  std::vector<char*> p;
  for (auto& s : v) p.push_back(s.data());
  p.push_back(nullptr);
  return p;
}

// In the child before exec: the signals the tests send act by default
// even if our own parent ignored them (a shell's background job ignores
// SIGINT) or blocked them.
void reset_signals() {
  for (int sig : {SIGPIPE, SIGINT, SIGTERM, SIGHUP}) signal(sig, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
}

}  // namespace

Child::Child(Io io, const std::vector<std::string>& argv, const std::string& cwd,
             const std::vector<std::string>& env) {
  std::vector<std::string> args = argv, envs;
  auto overridden = [&](const char* e) {
    for (const auto& o : env)
      if (o.compare(0, o.find('=') + 1, e, 0, o.find('=') + 1) == 0) return true;
    return false;
  };
  for (char** e = environ; *e != nullptr; e++)
    if (!overridden(*e)) envs.push_back(*e);
  for (const auto& e : env) envs.push_back(e);
  std::vector<char*> cargv = c_strings(args), cenv = c_strings(envs);
  if (io == Io::Pty) {
    int master = -1;
    winsize ws = {24, 80, 0, 0};
    pid_ = forkpty(&master, nullptr, nullptr, &ws);
    if (pid_ == 0) {
      if (chdir(cwd.c_str()) != 0) _exit(127);
      reset_signals();
      execve(cargv[0], cargv.data(), cenv.data());
      _exit(127);
    }
    in_ = out_fd_ = master;
    return;
  }
  int in[2], out[2], err[2];
  if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) return;
  pid_ = fork();
  if (pid_ == 0) {
    setpgid(0, 0);
    dup2(in[0], 0);
    dup2(out[1], 1);
    dup2(err[1], 2);
    if (chdir(cwd.c_str()) != 0) _exit(127);
    reset_signals();
    execve(cargv[0], cargv.data(), cenv.data());
    _exit(127);
  }
  ::close(in[0]);
  ::close(out[1]);
  ::close(err[1]);
  in_ = in[1];
  out_fd_ = out[0];
  err_fd_ = err[0];
}

Child::~Child() {
  if (pid_ > 0 && !exited_) {
    kill(-pid_, SIGKILL);
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  if (out_fd_ >= 0) ::close(out_fd_);
  if (err_fd_ >= 0) ::close(err_fd_);
  if (in_ >= 0 && in_ != out_fd_) ::close(in_);
}

void Child::send(const std::string& bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = write(in_, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    done += size_t(n);
  }
}

void Child::close_stdin() {
  if (in_ >= 0 && in_ != out_fd_) {
    ::close(in_);
    in_ = -1;
  }
}

void Child::close_stdout() {
  if (out_fd_ >= 0 && out_fd_ != in_) {
    ::close(out_fd_);
    out_fd_ = -1;
  }
}

bool Child::pump(int fd, std::string* sink, size_t* seen, const std::string& text, double timeout_s) {
  const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(timeout_s));
  for (;;) {
    if (!text.empty()) {
      size_t at = sink->find(text, *seen);
      if (at != std::string::npos) {
        *seen = at + text.size();
        return true;
      }
    }
    if (fd < 0) return false;
    pollfd p = {fd, POLLIN, 0};
    int r = poll(&p, 1, ms_left(deadline));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;  // timed out
    char buf[4096];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return text.empty();  // EOF (a pty says EIO once the child is gone)
    sink->append(buf, size_t(n));
  }
}

bool Child::wait_out(const std::string& text, double timeout_s) {
  return pump(out_fd_, &out_, &out_seen_, text, timeout_s);
}

bool Child::wait_err(const std::string& text, double timeout_s) {
  return pump(err_fd_, &err_, &err_seen_, text, timeout_s);
}

bool Child::reap(double timeout_s) {
  const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(timeout_s));
  for (;;) {
    int status = 0;
    pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      exited_ = true;
      if (WIFEXITED(status)) code_ = WEXITSTATUS(status);
      if (WIFSIGNALED(status)) signal_ = WTERMSIG(status);
      return true;
    }
    if (r < 0 || Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

bool Child::finish(double timeout_s) {
  const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(timeout_s));
  size_t ignored_out = 0, ignored_err = 0;
  auto left = [&] { return ms_left(deadline) / 1000.0; };
  // Read both to their end (a child blocked writing a full pipe never exits).
  while (!exited_ && left() > 0) {
    if (out_fd_ >= 0) pump(out_fd_, &out_, &ignored_out, "", std::min(0.05, left()));
    if (err_fd_ >= 0) pump(err_fd_, &err_, &ignored_err, "", std::min(0.05, left()));
    reap(0);
  }
  if (out_fd_ >= 0) pump(out_fd_, &out_, &ignored_out, "", 0.2);
  if (err_fd_ >= 0) pump(err_fd_, &err_, &ignored_err, "", 0.2);
  return exited_;
}

std::string Child::describe() const {
  if (!exited_) return "running";
  if (signal_ != 0) return "killed by signal " + std::to_string(signal_);
  return "exit " + std::to_string(code_);
}

}  // namespace weft::testing
