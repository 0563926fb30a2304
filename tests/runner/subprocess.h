// Running the `vm` binary as a child process for the test runners.
//
// Anything that can hang or crash runs as a subprocess with an external
// timeout (docs/hacking.md#testing): a test that loops forever or kills the
// VM with a signal is reported as a failure and the suite goes on. The
// child gets its own process group so the timeout can kill everything it
// started.
//
// Standard input, output and error are pipes served by one poll() loop, so a
// child that writes a lot to both streams (or reads its input late) never
// deadlocks against the runner.
//
// Thread safety: run() may be called from several runner threads at once; it
// touches no shared state, and the child only calls async-signal-safe
// functions between fork and exec.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace weft::testing {

struct ProcessResult {
  std::string out;          // everything the child wrote to stdout
  std::string err;          // everything the child wrote to stderr
  int exit_code = -1;       // valid iff !signaled && !timed_out
  bool signaled = false;    // killed by a signal it did not ask for
  int signal = 0;           // valid iff signaled
  bool timed_out = false;   // we killed it after the timeout
  bool spawn_failed = false;
  long max_rss_kb = 0;      // the child's peak resident set (wait4's ru_maxrss), once reaped
};

struct ProcessSpec {
  std::vector<std::string> argv;  // argv[0] is the program path
  std::string cwd;                // empty: inherit
  std::string input;              // written to the child's stdin, then closed
  std::vector<std::string> env;   // NAME=VALUE: set in the child's environment (over the inherited one)
  double timeout_s = 10.0;
  // Called in the parent right after the fork, before the child can be
  // reaped (so the pid still names it), e.g. to signal it while it runs.
  std::function<void(int pid)> on_start;
};

ProcessResult run_process(const ProcessSpec& spec);

// "exit 2", "killed by signal 11 (Segmentation fault)", "timed out after 10 s".
std::string describe_exit(const ProcessResult& r, double timeout_s);

// Splits text into lines at '\n'; a final line without a newline counts, an
// empty text has no lines.
std::vector<std::string> split_lines(const std::string& text);

}  // namespace weft::testing
