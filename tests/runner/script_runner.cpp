// The script-test runner: runs every tests/scripts/**/*.wf through the `vm`
// binary and checks the expectations written in the script (Wren's test/
// model; docs/hacking.md#the-script-suite).
//
//   script_runner [--vm-flag=FLAG]... [--jobs=N] [--timeout-scale=X]... [--rss-scale=X] [--tsan] [--emulated] VM DIR [FILTER]
//
// Timeout scales multiply (a TSan build's scale times a stress mode's);
// --tsan says the vm is a ThreadSanitizer build; --emulated that it runs under
// qemu-user without binfmt_misc (tools/ci-arm64.sh).
//
// Each script runs as a child process (tests/runner/subprocess.h) in the
// script's own directory, named by its file name, so diagnostics read
// `name.wf:LINE:COL` whatever the checkout's path. Directives, anywhere in a
// line after `//`:
//   // expect: TEXT                  the next line of stdout is exactly TEXT
//   // expect runtime error: MSG     stderr starts with `runtime error: MSG`, exit 2
//   // expect fatal error: MSG       stderr starts with `fatal error: MSG` (a deadlock), exit 2
//   // expect traceback: at F (f.wf:N)  this line appears in stderr (in order; after a
//                                    runtime or fatal error's first line)
//   // expect compile error: MSG     `f.wf:L:C: error: MSG` on this directive's line
//                                    (on any line if the directive stands alone)
//   // expect compile error at L:C: MSG   ... at exactly L:C
//   // stdin: TEXT                   a line of standard input (lines joined by \n)
//   // args: a b c                   script arguments ($DIR: the script's directory)
//   // env: NAME=VALUE               set in the script's environment (one per directive;
//                                    $DIR in VALUE as in args)
//   // timeout: N                    seconds (default 10)
//   // no-stress                     skipped when the vm runs with --gc-stress (or --gc-stress-minor)
//   // vm-flags: --heap-limit 16M    more flags for the vm, after the runner's own
//   // max-rss-mb: N                 the child's peak resident set is at most N MiB
//                                    (times --rss-scale: a sanitizer build's is larger)
//   // needs-async-preempt           skipped when the vm runs with --no-async-preempt
//                                    (a call-free loop only a signal stops)
//   // no-tsan: REASON               skipped with --tsan
//   // no-emulated: REASON           skipped with --emulated
// Files under a directory whose name starts with `_` are not tests: they
// are helpers the tests use (the modules tests/scripts/modules/ imports).
// Without error expectations a script must exit 0 with empty stderr; with
// compile errors it must exit 1, print nothing on stdout, and report exactly
// the expected errors. The last line is `N passed, N failed` (`, N skipped`
// when scripts were skipped); the exit status is 1 if any script failed.
//
// Scripts run `--jobs` at a time (default 3: the suite is mostly process
// start-up and the CI machine has 2 cores). Each worker thread takes the next
// script index from an atomic counter and writes only that script's Outcome;
// reports are printed in path order after all workers have joined.
//
// Rejected: a shell or Python runner (a fresh Debian has no python3, and
// timeouts and stdin plumbing are fragile in shell); expected output in
// separate files (inline `// expect:` lines keep a test readable as one file,
// as in Wren's test suite).
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/runner/subprocess.h"

namespace fs = std::filesystem;
using weft::testing::ProcessResult;
using weft::testing::split_lines;

namespace {

struct CompileErrorExpect {
  int line = 0;  // 0: any line
  int col = 0;  // 0: any column
  std::string message;
};

// A script and its directives; read-only once loaded.
struct Script {
  fs::path path;
  std::string rel;                  // path relative to the scripts dir, for reports
  std::vector<std::string> out;     // expected stdout lines, in order
  bool expects_runtime_error = false;
  std::string runtime_error;        // valid iff expects_runtime_error
  bool expects_fatal_error = false;
  std::string fatal_error;          // valid iff expects_fatal_error
  std::vector<std::string> traceback;  // lines expected in stderr, in order
  std::vector<CompileErrorExpect> compile_errors;
  std::vector<std::string> stdin_lines;
  std::vector<std::string> args;
  std::vector<std::string> env;     // NAME=VALUE
  double timeout_s = 10.0;
  std::vector<std::string> vm_flags;  // this script's own (vm-flags:)
  long max_rss_mb = 0;                // 0: not checked
  bool no_stress = false;
  bool needs_async_preempt = false;
  bool no_tsan = false;
  bool no_emulated = false;
  std::vector<std::string> problems;  // malformed directives, reported as failures
};

struct Outcome {
  enum { Passed, Failed, Skipped } status = Passed;
  std::vector<std::string> failures;
};

struct Options {
  std::vector<std::string> vm_flags;
  std::string vm;
  fs::path dir;
  std::string filter;
  int jobs = 3;
  double timeout_scale = 1.0;
  double rss_scale = 1.0;
  bool tsan = false;
  bool emulated = false;
  // --shard=K/N: only the scripts whose index in sorted order is K mod N,
  // so that N stress modes together run every script once (tests/CMakeLists.txt).
  int shard = 0, shards = 1;
};

// The text after `key` in `line`, if the directive is there.
bool directive(const std::string& line, const std::string& key, std::string* rest) {
  size_t at = line.find("// " + key);
  if (at == std::string::npos) return false;
  *rest = line.substr(at + 3 + key.size());
  if (!rest->empty() && rest->front() == ' ') rest->erase(0, 1);
  return true;
}

std::vector<std::string> words(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

void parse_compile_error(Script& s, int line_no, bool alone, const std::string& rest) {
  CompileErrorExpect e;
  e.line = alone ? 0 : line_no;
  int l = 0, c = 0, used = 0;
  if (std::sscanf(rest.c_str(), "at %d:%d:%n", &l, &c, &used) == 2 && used > 0) {
    e.line = l;
    e.col = c;
    e.message = rest.substr(size_t(used));
    if (!e.message.empty() && e.message.front() == ' ') e.message.erase(0, 1);
  } else if (!rest.empty() && rest.front() == ':') {
    e.message = rest.substr(rest.size() > 1 && rest[1] == ' ' ? 2 : 1);
  } else {
    s.problems.push_back("line " + std::to_string(line_no) + ": malformed compile error directive");
    return;
  }
  s.compile_errors.push_back(e);
}

void parse_line(Script& s, int line_no, const std::string& line) {
  std::string rest;
  if (directive(line, "expect:", &rest)) {
    s.out.push_back(rest);
  } else if (directive(line, "expect runtime error:", &rest)) {
    s.expects_runtime_error = true;
    s.runtime_error = rest;
  } else if (directive(line, "expect fatal error:", &rest)) {
    s.expects_fatal_error = true;
    s.fatal_error = rest;
  } else if (directive(line, "expect traceback:", &rest)) {
    s.traceback.push_back(rest);
  } else if (directive(line, "expect compile error", &rest)) {
    bool alone = line.find_first_not_of(" \t") == line.find("//");
    parse_compile_error(s, line_no, alone, rest);
  } else if (directive(line, "stdin:", &rest)) {
    s.stdin_lines.push_back(rest);
  } else if (directive(line, "args:", &rest)) {
    for (auto& w : words(rest)) s.args.push_back(w);
  } else if (directive(line, "env:", &rest)) {
    s.env.push_back(rest);
  } else if (directive(line, "timeout:", &rest)) {
    s.timeout_s = std::atof(rest.c_str());
  } else if (directive(line, "vm-flags:", &rest)) {
    for (auto& w : words(rest)) s.vm_flags.push_back(w);
  } else if (directive(line, "max-rss-mb:", &rest)) {
    s.max_rss_mb = std::atol(rest.c_str());
  } else if (directive(line, "no-stress", &rest)) {
    s.no_stress = true;
  } else if (directive(line, "needs-async-preempt", &rest)) {
    s.needs_async_preempt = true;
  } else if (directive(line, "no-emulated:", &rest)) {
    s.no_emulated = true;
  } else if (directive(line, "no-tsan:", &rest)) {
    s.no_tsan = true;
  } else if (line.find("// expect") != std::string::npos) {
    s.problems.push_back("line " + std::to_string(line_no) + ": unknown expect directive");
  }
}

Script load(const fs::path& path, const fs::path& root) {
  Script s;
  s.path = path;
  s.rel = fs::relative(path, root).string();
  std::ifstream in(path, std::ios::binary);
  std::string line;
  for (int n = 1; std::getline(in, line); n++) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    parse_line(s, n, line);
  }
  return s;
}

// s in quotes, control bytes escaped, cut at 200 bytes.
std::string quote(const std::string& s) {
  constexpr size_t kMax = 200;
  std::string q = "'";
  for (unsigned char c : s.substr(0, kMax)) {
    if (c == '\n') q += "\\n";
    else if (c < 0x20 || c == 0x7f) { char b[8]; std::snprintf(b, sizeof b, "\\x%02x", c); q += b; }
    else q += char(c);
  }
  return q + (s.size() > kMax ? "'..." : "'");
}

std::string first_lines(const std::string& text, size_t n) {
  auto lines = split_lines(text);
  std::string out;
  for (size_t i = 0; i < lines.size() && i < n; i++) out += (i ? " | " : "") + lines[i];
  if (lines.size() > n) out += " | ...";
  return out;
}

// A wrong exit status, with what the process wrote to stderr: a status
// that disagrees with the message printed needs both to be understood.
std::string wrong_exit(const std::string& want, const ProcessResult& r, double timeout_s) {
  std::string msg = "expected " + want + ", got " + weft::testing::describe_exit(r, timeout_s);
  if (r.err.empty()) return msg;
  constexpr size_t kTail = 600;
  std::string tail = r.err.size() > kTail ? "..." + r.err.substr(r.err.size() - kTail) : r.err;
  for (size_t at; (at = tail.find('\n')) != std::string::npos;) tail.replace(at, 1, " | ");
  return msg + "; stderr: " + tail;
}

void check_stdout(const Script& s, const ProcessResult& r, Outcome& o) {
  auto got = split_lines(r.out);
  size_t n = std::max(got.size(), s.out.size());
  for (size_t i = 0; i < n; i++) {
    if (i >= got.size()) {
      o.failures.push_back("stdout line " + std::to_string(i + 1) + ": expected " +
                           quote(s.out[i]) + ", got end of output");
      return;
    }
    if (i >= s.out.size()) {
      o.failures.push_back("stdout line " + std::to_string(i + 1) + ": unexpected extra output " +
                           quote(got[i]));
      return;
    }
    if (got[i] != s.out[i]) {
      o.failures.push_back("stdout line " + std::to_string(i + 1) + ": expected " +
                           quote(s.out[i]) + ", got " + quote(got[i]));
      return;
    }
  }
}

std::string trim(const std::string& s) {
  size_t a = s.find_first_not_of(" \t"), b = s.find_last_not_of(" \t");
  return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

void check_traceback(const Script& s, const ProcessResult& r, Outcome& o);

void check_runtime_error(const Script& s, const ProcessResult& r, Outcome& o) {
  if (r.exit_code != 2) o.failures.push_back(wrong_exit("exit 2 (runtime error)", r, s.timeout_s));
  auto lines = split_lines(r.err);
  std::string want = "runtime error: " + s.runtime_error;
  if (lines.empty() || lines[0] != want) {
    o.failures.push_back("stderr: expected " + quote(want) + ", got " +
                         quote(lines.empty() ? "" : lines[0]));
    return;
  }
  check_traceback(s, r, o);
}

// The `expect traceback:` lines, in order, after stderr's first line.
void check_traceback(const Script& s, const ProcessResult& r, Outcome& o) {
  auto lines = split_lines(r.err);
  size_t at = 1;
  for (const std::string& t : s.traceback) {
    while (at < lines.size() && trim(lines[at]) != trim(t)) at++;
    if (at == lines.size()) {
      o.failures.push_back("traceback: missing (in order) " + quote(t) + "; stderr: " +
                           quote(first_lines(r.err, 8)));
      return;
    }
    at++;
  }
}

void check_fatal_error(const Script& s, const ProcessResult& r, Outcome& o) {
  if (r.exit_code != 2) o.failures.push_back(wrong_exit("exit 2 (fatal error)", r, s.timeout_s));
  auto lines = split_lines(r.err);
  std::string want = "fatal error: " + s.fatal_error;
  if (lines.empty() || lines[0] != want) {
    o.failures.push_back("stderr: expected " + quote(want) + ", got " +
                         quote(lines.empty() ? "" : lines[0]));
    return;
  }
  check_traceback(s, r, o);  // the deadlock report's goroutines
}

// Parses `FILE:L:C: error: MSG`; false for other lines (source, caret).
bool parse_diagnostic(const std::string& file, const std::string& line, CompileErrorExpect* d) {
  if (line.compare(0, file.size() + 1, file + ":") != 0) return false;
  int used = 0;
  if (std::sscanf(line.c_str() + file.size() + 1, "%d:%d: error: %n", &d->line, &d->col, &used) !=
          2 || used == 0)
    return false;
  d->message = line.substr(file.size() + 1 + size_t(used));
  return true;
}

void check_compile_errors(const Script& s, const ProcessResult& r, Outcome& o) {
  if (r.exit_code != 1) o.failures.push_back(wrong_exit("exit 1 (compile error)", r, s.timeout_s));
  if (!r.out.empty()) o.failures.push_back("expected no stdout, got " + quote(first_lines(r.out, 3)));
  std::vector<CompileErrorExpect> got;
  std::string file = s.path.filename().string();
  for (const std::string& line : split_lines(r.err)) {
    CompileErrorExpect d;
    if (parse_diagnostic(file, line, &d)) got.push_back(d);
  }
  std::vector<bool> used(got.size(), false);
  for (const CompileErrorExpect& e : s.compile_errors) {
    bool found = false;
    for (size_t i = 0; i < got.size() && !found; i++) {
      if (used[i] || got[i].message != e.message) continue;
      if (e.line != 0 && got[i].line != e.line) continue;
      if (e.col != 0 && got[i].col != e.col) continue;
      used[i] = found = true;
    }
    if (!found) {
      std::string where = (e.line ? std::to_string(e.line) : "*") +
                          (e.col ? ":" + std::to_string(e.col) : ":*");
      o.failures.push_back("missing compile error " + quote(where + ": " + e.message) +
                           "; stderr: " + quote(first_lines(r.err, 9)));
    }
  }
  for (size_t i = 0; i < got.size(); i++) {
    if (used[i]) continue;
    o.failures.push_back("unexpected compile error " +
                         quote(std::to_string(got[i].line) + ":" + std::to_string(got[i].col) +
                               ": " + got[i].message));
  }
}

Outcome run_script(const Script& s, const Options& opt) {
  Outcome o;
  auto has_flag = [&](const char* f) {
    return std::find(opt.vm_flags.begin(), opt.vm_flags.end(), f) != opt.vm_flags.end();
  };
  bool stress = has_flag("--gc-stress") || has_flag("--gc-stress-minor");
  if ((s.no_stress && stress) || (s.needs_async_preempt && has_flag("--no-async-preempt")) ||
      (s.no_tsan && opt.tsan) || (s.no_emulated && opt.emulated)) {
    o.status = Outcome::Skipped;
    return o;
  }
  for (const std::string& p : s.problems) o.failures.push_back(p);
  weft::testing::ProcessSpec spec;
  spec.argv.push_back(opt.vm);
  for (const std::string& f : opt.vm_flags) spec.argv.push_back(f);
  for (const std::string& f : s.vm_flags) spec.argv.push_back(f);
  spec.argv.push_back(s.path.filename().string());
  spec.cwd = s.path.parent_path().string();
  auto expand = [&](std::string v) {  // $DIR: the script's directory (absolute)
    for (size_t at; (at = v.find("$DIR")) != std::string::npos;) v.replace(at, 4, spec.cwd);
    return v;
  };
  for (const std::string& a : s.args) spec.argv.push_back(expand(a));
  for (const std::string& v : s.env) spec.env.push_back(expand(v));
  for (size_t i = 0; i < s.stdin_lines.size(); i++) spec.input += (i ? "\n" : "") + s.stdin_lines[i];
  spec.timeout_s = s.timeout_s * opt.timeout_scale;
  ProcessResult r = weft::testing::run_process(spec);

  if (r.timed_out || r.signaled || r.spawn_failed) {
    o.failures.push_back(weft::testing::describe_exit(r, spec.timeout_s) +
                         (r.err.empty() ? "" : "; stderr: " + quote(first_lines(r.err, 5))));
  } else if (!s.compile_errors.empty()) {
    check_compile_errors(s, r, o);
  } else {
    check_stdout(s, r, o);
    if (s.expects_runtime_error) {
      check_runtime_error(s, r, o);
    } else if (s.expects_fatal_error) {
      check_fatal_error(s, r, o);
    } else {
      if (r.exit_code != 0) o.failures.push_back(wrong_exit("exit 0", r, spec.timeout_s));
      if (!r.err.empty()) o.failures.push_back("unexpected stderr: " + quote(first_lines(r.err, 5)));
    }
  }
  double rss_limit_kb = double(s.max_rss_mb) * 1024 * opt.rss_scale;
  if (s.max_rss_mb > 0 && r.max_rss_kb > rss_limit_kb) {
    o.failures.push_back("peak RSS " + std::to_string(r.max_rss_kb / 1024) + " MiB, over the limit of " +
                         std::to_string(long(rss_limit_kb / 1024)) + " MiB");
  }
  if (!o.failures.empty()) o.status = Outcome::Failed;
  return o;
}

[[noreturn]] void usage() {
  std::fprintf(stderr,
               "usage: script_runner [--vm-flag=FLAG]... [--jobs=N] [--timeout-scale=X]... [--rss-scale=X] [--shard=K/N] [--tsan] "
               "[--emulated] "
               "VM SCRIPTS_DIR [FILTER]\n");
  std::exit(2);
}

Options parse_options(int argc, char** argv) {
  Options opt;
  std::vector<std::string> pos;
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    if (a.rfind("--vm-flag=", 0) == 0) opt.vm_flags.push_back(a.substr(10));
    else if (a.rfind("--jobs=", 0) == 0) opt.jobs = std::max(1, std::atoi(a.c_str() + 7));
    else if (a.rfind("--timeout-scale=", 0) == 0) opt.timeout_scale *= std::atof(a.c_str() + 16);
    else if (a.rfind("--rss-scale=", 0) == 0) opt.rss_scale *= std::atof(a.c_str() + 12);
    else if (a.rfind("--shard=", 0) == 0) {
      if (std::sscanf(a.c_str() + 8, "%d/%d", &opt.shard, &opt.shards) != 2 || opt.shards < 1 || opt.shard < 0 ||
          opt.shard >= opt.shards)
        usage();
    } else if (a == "--tsan") opt.tsan = true;
    else if (a == "--emulated") opt.emulated = true;
    else if (a.rfind("--", 0) == 0) usage();
    else pos.push_back(a);
  }
  if (pos.size() < 2 || pos.size() > 3) usage();
  opt.vm = fs::absolute(pos[0]).string();
  opt.dir = fs::absolute(pos[1]);
  if (pos.size() == 3) opt.filter = pos[2];
  if (opt.timeout_scale <= 0) opt.timeout_scale = 1.0;
  if (opt.rss_scale <= 0) opt.rss_scale = 1.0;
  return opt;
}

std::vector<Script> find_scripts(const Options& opt) {
  std::vector<fs::path> paths;
  for (const auto& e : fs::recursive_directory_iterator(opt.dir)) {
    if (!e.is_regular_file() || e.path().extension() != ".wf") continue;
    std::string rel = fs::relative(e.path(), opt.dir).string();
    bool helper = false;
    for (const fs::path& part : fs::path(rel).parent_path()) helper = helper || part.string().starts_with('_');
    if (helper) continue;
    if (opt.filter.empty() || rel.find(opt.filter) != std::string::npos) paths.push_back(e.path());
  }
  std::sort(paths.begin(), paths.end());
  std::vector<Script> scripts;
  for (size_t i = 0; i < paths.size(); i++)
    if (int(i % size_t(opt.shards)) == opt.shard) scripts.push_back(load(paths[i], opt.dir));
  return scripts;
}

}  // namespace

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);  // a child that exits without reading its stdin
  Options opt = parse_options(argc, argv);
  std::vector<Script> scripts = find_scripts(opt);
  std::vector<Outcome> outcomes(scripts.size());
  std::atomic<size_t> next{0};
  std::vector<std::thread> workers;
  for (int j = 0; j < opt.jobs; j++) {
    workers.emplace_back([&] {
      for (size_t i; (i = next.fetch_add(1)) < scripts.size();) outcomes[i] = run_script(scripts[i], opt);
    });
  }
  for (auto& w : workers) w.join();

  int passed = 0, failed = 0, skipped = 0;
  for (size_t i = 0; i < scripts.size(); i++) {
    const Outcome& o = outcomes[i];
    if (o.status == Outcome::Skipped) skipped++;
    else if (o.status == Outcome::Passed) passed++;
    else failed++;
    for (const std::string& f : o.failures) std::printf("FAIL %s: %s\n", scripts[i].rel.c_str(), f.c_str());
  }
  if (scripts.empty()) std::printf("no scripts found in %s\n", opt.dir.c_str());
  if (skipped) std::printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
  else std::printf("%d passed, %d failed\n", passed, failed);
  return failed || scripts.empty() ? 1 : 0;
}
