// Subprocess tests of asynchronous preemption
// (docs/design.md#asynchronous-preemption): what a script cannot check about
// itself, because it needs other VM flags, an expected hang, a large standard
// input, or signals from outside.
//
//   preempt_runner [--timeout-scale=X] VM SCRIPTS_DIR
//
// SCRIPTS_DIR is tests/scripts: the preemption scripts are in its preempt/
// folder (they also run in the ordinary script suite, with their own
// `// expect:` lines); the foreign-signal checks also run the goroutines,
// channels and select folders. Every run is a child process with an
// external timeout (tests/runner/subprocess.h). The checks:
//  - Go's TestAsyncPreempt: preempt/async_preempt.wf finishes on one P, and
//    with --no-async-preempt it hangs (the timeout is the expected outcome:
//    finishing means the spinners were stopped without signals).
//  - Fairness on one P: preempt/sleeper_fairness.wf and
//    preempt/ping_pong_hog.wf with --procs 1; their timings are printed as
//    information, never asserted.
//  - EINTR: readline() over a large piped stdin and sleep() loops give the
//    same output under --preempt-stress plus a storm of SIGURGs sent from
//    this process as in a quiet run.
//  - Foreign signals: one SIGURG, and a storm, sent to `vm` running
//    ordinary scripts change neither the exit status nor the output.
// The last line is `N passed, N failed`; the exit status is 1 on any
// failure.
//
// Signals go through a pidfd opened while the child cannot have been reaped
// (ProcessSpec::on_start), so a recycled pid is never signalled.
//
// Rejected: shell scripts with `kill -URG` (no portable way to get the
// child's pid without races, and timeouts in shell are fragile).
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "tests/runner/subprocess.h"

namespace fs = std::filesystem;
using weft::testing::ProcessResult;

namespace {

struct Context {
  std::string vm;
  fs::path scripts;
  double timeout_scale = 1.0;
  int passed = 0, failed = 0;
};

// Sends SIGURG to one child while it runs: once after a short delay, or as
// fast as one thread can (a storm). Owned by the runner thread; the sender
// thread only reads `stop_` and bumps `sent_`.
class SignalSender {
 public:
  enum Mode { Once, Storm };
  explicit SignalSender(Mode mode) : mode_(mode) {}
  ~SignalSender() { finish(); }

  // ProcessSpec::on_start: the child exists and is not reaped yet.
  void start(int pid) {
    pidfd_ = int(syscall(SYS_pidfd_open, pid, 0));
    if (pidfd_ < 0) {
      std::perror("preempt_runner: pidfd_open");
      return;
    }
    thread_ = std::thread([this] { mode_ == Once ? send_once() : send_storm(); });
  }
  // Stops sending; returns how many signals were delivered to the kernel.
  uint64_t finish() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    if (pidfd_ >= 0) close(pidfd_);
    pidfd_ = -1;
    return sent_;
  }

 private:
  bool send() {
    if (syscall(SYS_pidfd_send_signal, pidfd_, SIGURG, nullptr, 0) != 0) return false;
    sent_++;
    return true;
  }
  // Late enough that the VM has installed its handler and runs Weft code.
  void send_once() {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (!stop_) send();
  }
  void send_storm() {
    while (!stop_ && send()) {
    }
  }

  Mode mode_;
  int pidfd_ = -1;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> sent_{0};
};

struct Run {
  Run(std::vector<std::string> f, fs::path s, std::vector<std::string> a = {})
      : flags(std::move(f)), script(std::move(s)), args(std::move(a)) {}
  std::vector<std::string> flags;  // vm flags, before the script
  fs::path script;                 // relative to SCRIPTS_DIR
  std::vector<std::string> args;   // script arguments
  std::string input;
  double timeout_s = 20;
  SignalSender* signals = nullptr;
};

ProcessResult run_vm(const Context& cx, const Run& run) {
  weft::testing::ProcessSpec spec;
  spec.argv.push_back(cx.vm);
  for (const std::string& f : run.flags) spec.argv.push_back(f);
  fs::path path = cx.scripts / run.script;
  spec.argv.push_back(path.filename().string());
  for (const std::string& a : run.args) spec.argv.push_back(a);
  spec.cwd = path.parent_path().string();
  spec.input = run.input;
  spec.timeout_s = run.timeout_s * cx.timeout_scale;
  if (run.signals) spec.on_start = [&](int pid) { run.signals->start(pid); };
  ProcessResult r = weft::testing::run_process(spec);
  if (run.signals) run.signals->finish();
  return r;
}

std::string first_lines(const std::string& text, size_t n) {
  auto lines = weft::testing::split_lines(text);
  std::string out;
  for (size_t i = 0; i < lines.size() && i < n; i++) out += (i ? " | " : "") + lines[i];
  if (lines.size() > n) out += " | ...";
  return out;
}

// "" if r is a clean exit 0 with exactly `out` on stdout (when `out` is not
// empty) and nothing on stderr; otherwise why not.
std::string clean_exit(const ProcessResult& r, double timeout_s, const std::string& out = "") {
  if (r.timed_out || r.signaled || r.exit_code != 0)
    return "expected exit 0, got " + weft::testing::describe_exit(r, timeout_s) +
           "; stderr: " + first_lines(r.err, 5);
  if (!r.err.empty()) return "unexpected stderr: " + first_lines(r.err, 5);
  if (!out.empty() && r.out != out) return "stdout: '" + first_lines(r.out, 5) + "', expected '" +
                                           first_lines(out, 5) + "'";
  return "";
}

// "" if the two runs ended the same way with the same output.
std::string same_outcome(const ProcessResult& quiet, const ProcessResult& loud, double timeout_s) {
  if (loud.timed_out || loud.signaled || loud.exit_code != quiet.exit_code)
    return "quiet run: " + weft::testing::describe_exit(quiet, timeout_s) + ", under signals: " +
           weft::testing::describe_exit(loud, timeout_s) + "; stderr: " + first_lines(loud.err, 5);
  if (loud.out != quiet.out) {
    auto a = weft::testing::split_lines(quiet.out), b = weft::testing::split_lines(loud.out);
    size_t i = 0;
    while (i < a.size() && i < b.size() && a[i] == b[i]) i++;
    return "stdout differs at line " + std::to_string(i + 1) + ": quiet '" +
           (i < a.size() ? a[i] : "<end>") + "', under signals '" + (i < b.size() ? b[i] : "<end>") +
           "'";
  }
  if (loud.err != quiet.err)
    return "stderr differs: quiet '" + first_lines(quiet.err, 3) + "', under signals '" +
           first_lines(loud.err, 3) + "'";
  return "";
}

void check(Context& cx, const std::string& name, const std::function<std::string()>& body) {
  auto t0 = std::chrono::steady_clock::now();
  std::string why = body();
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (why.empty()) {
    cx.passed++;
    std::printf("ok   %s (%.1f s)\n", name.c_str(), s);
  } else {
    cx.failed++;
    std::printf("FAIL %s: %s\n", name.c_str(), why.c_str());
  }
  std::fflush(stdout);
}

void info(const std::string& what) {
  std::printf("     %s\n", what.c_str());
  std::fflush(stdout);
}

// The last line of the run's stdout, printed as information.
void info_last_line(const ProcessResult& r) {
  auto lines = weft::testing::split_lines(r.out);
  if (!lines.empty()) info(lines.back());
}

void async_preempt_checks(Context& cx) {
  const std::string want = "true\ntrue\ntrue\n";
  check(cx, "async preemption stops call-free loops on one P", [&] {
    Run run{{"--procs", "1"}, "preempt/async_preempt.wf"};
    return clean_exit(run_vm(cx, run), run.timeout_s, want);
  });
  check(cx, "async preemption on one P under --preempt-stress", [&] {
    Run run{{"--procs", "1", "--preempt-stress"}, "preempt/async_preempt.wf"};
    return clean_exit(run_vm(cx, run), run.timeout_s, want);
  });
  // The hang is the expected outcome, so its timeout is not scaled up.
  check(cx, "--no-async-preempt: call-free loops hold the only P (must time out)", [&] {
    Run run{{"--procs", "1", "--no-async-preempt"}, "preempt/async_preempt.wf"};
    run.timeout_s = 3 / cx.timeout_scale;
    ProcessResult r = run_vm(cx, run);
    if (r.timed_out) return std::string();
    return "expected a hang, but it ended: " + weft::testing::describe_exit(r, 3) + "; stdout: '" +
           first_lines(r.out, 3) + "'; stderr: '" + first_lines(r.err, 3) + "'";
  });
}

void fairness_checks(Context& cx) {
  check(cx, "one P: two spinners do not starve a 1 ms sleeper", [&] {
    Run run{{"--procs", "1"}, "preempt/sleeper_fairness.wf", {"verbose"}};
    ProcessResult r = run_vm(cx, run);
    std::string why = clean_exit(r, run.timeout_s);
    if (why.empty() && r.out.rfind("sleeper iterations 100\ntrue\n", 0) != 0) why = "stdout: " + r.out;
    if (why.empty()) info_last_line(r);
    return why;
  });
  check(cx, "one P: hog pair and light pair both progress (TestPingPongHog)", [&] {
    Run run{{"--procs", "1"}, "preempt/ping_pong_hog.wf", {"verbose"}};
    ProcessResult r = run_vm(cx, run);
    std::string why = clean_exit(r, run.timeout_s);
    if (why.empty() && r.out.rfind("true true\ntrue\n", 0) != 0) why = "stdout: " + r.out;
    if (why.empty()) info_last_line(r);
    return why;
  });
}

// 100,000 lines of 0 to 119 bytes, some empty, with their count and total.
std::string big_input(int* lines, long* bytes) {
  std::string in;
  *lines = 100000;
  *bytes = 0;
  for (int i = 0; i < *lines; i++) {
    int n = (i * 7919) % 120;
    for (int j = 0; j < n; j++) in += char('a' + (i + j) % 26);
    in += '\n';
    *bytes += n;
  }
  return in;
}

// A quiet run, then the same under --preempt-stress and a SIGURG storm.
std::string quiet_vs_storm(const Context& cx, Run run, const std::string& expect_tail) {
  ProcessResult quiet = run_vm(cx, run);
  std::string why = clean_exit(quiet, run.timeout_s);
  if (why.empty() && quiet.out.size() >= expect_tail.size() &&
      quiet.out.compare(quiet.out.size() - expect_tail.size(), expect_tail.size(), expect_tail) != 0)
    why = "quiet run ends with '" + weft::testing::split_lines(quiet.out).back() + "', expected '" +
          expect_tail + "'";
  if (!why.empty()) return "quiet run: " + why;
  SignalSender storm(SignalSender::Storm);
  run.flags.push_back("--preempt-stress");
  run.signals = &storm;
  ProcessResult loud = run_vm(cx, run);
  uint64_t sent = storm.finish();
  if (sent == 0) return "no SIGURG could be sent";
  info(std::to_string(sent) + " SIGURGs sent");
  return same_outcome(quiet, loud, run.timeout_s);
}

void eintr_checks(Context& cx) {
  check(cx, "readline over a large stdin under a SIGURG storm", [&] {
    int lines = 0;
    long bytes = 0;
    Run run{{}, "preempt/readline_echo.wf"};
    run.input = big_input(&lines, &bytes);
    run.timeout_s = 60;
    return quiet_vs_storm(cx, run, std::to_string(lines) + " " + std::to_string(bytes) + "\n");
  });
  check(cx, "sleep loops under a SIGURG storm", [&] {
    Run run{{}, "preempt/sleep_loops.wf"};
    run.timeout_s = 60;
    return quiet_vs_storm(cx, run, "early wake-ups 0\n");
  });
}

bool has_directive(const fs::path& script, const char* what) {
  std::ifstream in(script);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str().find(what) != std::string::npos;
}

void foreign_signal_checks(Context& cx) {
  // Without async preemption the spinners of sleep_loops.wf would keep
  // every P: that run uses a script of sleepers only.
  const std::pair<const char*, const char*> once_runs[] = {
      {"--procs=2", "preempt/sleep_loops.wf"}, {"--no-async-preempt", "goroutines/sleep_order.wf"}};
  for (const auto& one : once_runs) {
    const char* flag = one.first;  // not a structured binding: clang 14 cannot capture those
    const char* script = one.second;
    check(cx, std::string("one foreign SIGURG: ") + script + " " + flag, [&] {
      SignalSender once(SignalSender::Once);
      Run run{{flag}, script};
      run.signals = &once;
      ProcessResult r = run_vm(cx, run);
      if (once.finish() != 1) return std::string("the signal was not sent (the run ended first?)");
      return clean_exit(r, run.timeout_s);
    });
  }
  // Scripts that need no input or arguments (a quiet run is the reference).
  std::vector<fs::path> scripts;
  for (const char* dir : {"goroutines", "channels", "select", "preempt"}) {
    for (const auto& e : fs::directory_iterator(cx.scripts / dir)) {
      if (e.path().extension() != ".wf") continue;
      if (has_directive(e.path(), "// stdin:") || has_directive(e.path(), "// args:")) continue;
      scripts.push_back(fs::relative(e.path(), cx.scripts));
    }
  }
  std::sort(scripts.begin(), scripts.end());
  // A script that ends within microseconds may get no signal at all (the
  // sender thread had no CPU yet): only the total must not be zero.
  uint64_t total = 0;
  for (const fs::path& script : scripts) {
    check(cx, "SIGURG storm: " + script.string(), [&] {
      Run run{{}, script};
      run.timeout_s = 60;
      ProcessResult quiet = run_vm(cx, run);
      SignalSender storm(SignalSender::Storm);
      run.signals = &storm;
      ProcessResult loud = run_vm(cx, run);
      total += storm.finish();
      return same_outcome(quiet, loud, run.timeout_s);
    });
  }
  check(cx, "SIGURG storms reached the scripts", [&] {
    info(std::to_string(total) + " SIGURGs sent to " + std::to_string(scripts.size()) + " scripts");
    return total > 0 ? std::string() : std::string("no SIGURG could be sent");
  });
}

[[noreturn]] void usage() {
  std::fprintf(stderr, "usage: preempt_runner [--timeout-scale=X] VM SCRIPTS_DIR\n");
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);  // a child that exits without reading its stdin
  Context cx;
  std::vector<std::string> pos;
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    if (a.rfind("--timeout-scale=", 0) == 0) cx.timeout_scale = std::atof(a.c_str() + 16);
    else if (a.rfind("--", 0) == 0) usage();
    else pos.push_back(a);
  }
  if (pos.size() != 2 || cx.timeout_scale <= 0) usage();
  cx.vm = fs::absolute(pos[0]).string();
  cx.scripts = fs::absolute(pos[1]);

  async_preempt_checks(cx);
  fairness_checks(cx);
  eintr_checks(cx);
  foreign_signal_checks(cx);
  std::printf("%d passed, %d failed\n", cx.passed, cx.failed);
  return cx.failed ? 1 : 0;
}
