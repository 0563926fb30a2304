// A child process the test drives step by step, for what run_process
// (subprocess.h) cannot do: type at a REPL through a pseudo-terminal, signal
// a script once it is ready, keep its standard input open while it runs, or
// close its standard output under it.
//
// The child gets its own process group (a pty: its own session, with the pty
// as its controlling terminal, so Ctrl-C typed at it reaches it as SIGINT).
// Every wait has a timeout; the destructor kills the group and reaps it, so
// a stuck child is one failed check, never a stuck suite.
//
// Thread safety: one thread uses a Child.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace weft::testing {

class Child {
 public:
  enum class Io { Pipes, Pty };
  // argv[0] is the program path; env entries ("HOME=/x") are added to ours.
  Child(Io io, const std::vector<std::string>& argv, const std::string& cwd,
        const std::vector<std::string>& env = {});
  ~Child();
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  bool started() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }

  // Writes to its standard input (the pty: as if typed).
  void send(const std::string& bytes);
  void close_stdin();   // Pipes only
  void close_stdout();  // Pipes only: its reader goes away

  // Reads its standard output (Pipes) or the terminal (Pty) until `text`
  // appears after what earlier waits consumed; false on timeout or EOF.
  bool wait_out(const std::string& text, double timeout_s);
  // The same on standard error (Pipes only).
  bool wait_err(const std::string& text, double timeout_s);
  // Everything read so far.
  const std::string& out() const { return out_; }
  const std::string& err() const { return err_; }

  // Reads until both outputs end and the child exits. False on timeout.
  bool finish(double timeout_s);
  bool exited() const { return exited_; }
  int exit_code() const { return code_; }    // valid iff exited()
  int signal() const { return signal_; }     // nonzero iff it died of a signal
  std::string describe() const;              // "exit 0", "killed by signal 15", "running"

 private:
  bool pump(int fd, std::string* sink, size_t* seen, const std::string& text, double timeout_s);
  bool reap(double timeout_s);

  pid_t pid_ = -1;
  int in_ = -1, out_fd_ = -1, err_fd_ = -1;  // the pty is in_ == out_fd_
  std::string out_, err_;
  size_t out_seen_ = 0, err_seen_ = 0;  // where the next wait_* starts looking
  bool exited_ = false;
  int code_ = -1, signal_ = 0;
};

}  // namespace weft::testing
