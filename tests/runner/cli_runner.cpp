// Tests of the `vm` command line and the examples, each run as a child
// process (tests/runner/subprocess.h):
//
//   cli_runner VM EXAMPLES_DIR EXPECTED_DIR
//
// Covers --help, --version, unknown options, a missing file, -e, --check,
// --disasm (stack maps shown as `live:`), --trace=gc, script arguments;
// `vm -` and piped stdin; standard output's flush on SIGTERM, SIGINT and
// SIGHUP and status 141 when its reader goes; standard input shared by
// readline and io, and a goroutine blocked on it while others collect; the
// REPL through a pseudo-terminal (tests/runner/child.h); then
// `vm --check` on every examples/*.wf, examples/wc.wf on files and stdin
// (and README.md's copy of it), and a real run of each example that
// has an EXPECTED_DIR/NAME.out file, compared byte for byte.
// The last line is `N passed, N failed`.
#include <signal.h>
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/runner/child.h"
#include "tests/runner/subprocess.h"

#ifndef WEFT_VERSION
#error "WEFT_VERSION must be defined by the build"
#endif

namespace fs = std::filesystem;
using weft::testing::Child;
using weft::testing::ProcessResult;

namespace {

struct Context {
  std::string vm;
  fs::path examples;
  fs::path expected;
  fs::path tmp;  // scratch directory for the scripts these tests write
  int passed = 0, failed = 0;
};

ProcessResult vm(const Context& cx, std::vector<std::string> args, const std::string& input = "") {
  weft::testing::ProcessSpec spec;
  spec.argv.push_back(cx.vm);
  for (auto& a : args) spec.argv.push_back(a);
  spec.cwd = cx.tmp.string();
  spec.input = input;
  spec.timeout_s = 20;
  return weft::testing::run_process(spec);
}

std::string write_script(const Context& cx, const std::string& name, const std::string& text) {
  std::ofstream(cx.tmp / name, std::ios::binary) << text;
  return name;
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

// One check: a name, and a function that returns "" on success or why it failed.
void check(Context& cx, const std::string& name, const std::function<std::string()>& body) {
  std::string why = body();
  if (why.empty()) {
    cx.passed++;
  } else {
    cx.failed++;
    std::printf("FAIL %s: %s\n", name.c_str(), why.c_str());
  }
}

std::string expect(const ProcessResult& r, int code, const std::string& out_has,
                   const std::string& err_has) {
  std::string got = weft::testing::describe_exit(r, 20);
  if (r.timed_out || r.signaled || r.exit_code != code)
    return "expected exit " + std::to_string(code) + ", got " + got + "; stderr: " + r.err;
  if (!out_has.empty() && !contains(r.out, out_has))
    return "stdout lacks '" + out_has + "': '" + r.out + "'";
  if (!err_has.empty() && !contains(r.err, err_has))
    return "stderr lacks '" + err_has + "': '" + r.err + "'";
  return "";
}

void cli_checks(Context& cx) {
  check(cx, "--help", [&] {
    ProcessResult r = vm(cx, {"--help"});
    std::string lower = r.out;
    std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
    if (!contains(lower, "usage")) return std::string("no usage on stdout: '" + r.out + "'");
    return expect(r, 0, "--check", "");
  });
  check(cx, "--version", [&] {
    ProcessResult r = vm(cx, {"--version"});
    std::string want = std::string("weft ") + WEFT_VERSION + "\n";
    if (r.out != want) return "expected '" + want + "', got '" + r.out + "'";
    return expect(r, 0, "", "");
  });
  check(cx, "unknown option", [&] {
    return expect(vm(cx, {"--foo", "x.wf"}), 1, "", "vm: unknown option '--foo' (see vm --help)");
  });
  check(cx, "no script, stdin not a terminal: the script is read from stdin", [&] {
    ProcessResult r = vm(cx, {}, "print(\"from stdin\", 6 * 7)\n");
    if (r.out != "from stdin 42\n") return "stdout: '" + r.out + "'";
    return expect(r, 0, "", "");
  });
  check(cx, "empty stdin is an empty program", [&] { return expect(vm(cx, {}), 0, "", ""); });
  check(cx, "--check reads the script from stdin too", [&] {
    return expect(vm(cx, {"--check"}, "print(1)"), 0, "", "");
  });
  check(cx, "missing file", [&] {
    return expect(vm(cx, {"no_such_file.wf"}), 1, "",
                  "vm: cannot open 'no_such_file.wf': No such file or directory");
  });
  check(cx, "-e", [&] {
    ProcessResult r = vm(cx, {"-e", "print(1 + 2, \"x\")"});
    if (r.out != "3 x\n") return "expected '3 x\\n', got '" + r.out + "'";
    return expect(r, 0, "", "");
  });
  check(cx, "-e args", [&] {
    ProcessResult r = vm(cx, {"-e", "print(args())", "a", "b c"});
    if (r.out != "[\"a\", \"b c\"]\n") return "got '" + r.out + "'";
    return expect(r, 0, "", "");
  });
  check(cx, "script args", [&] {
    std::string f = write_script(cx, "args.wf", "print(len(args()), args())\n");
    ProcessResult r = vm(cx, {f, "--check", "-e"});
    if (r.out != "2 [\"--check\", \"-e\"]\n") return "got '" + r.out + "'";
    return expect(r, 0, "", "");
  });
  check(cx, "-e compile error", [&] {
    ProcessResult r = vm(cx, {"-e", "let x = )"});
    if (!r.out.empty()) return "stdout not empty: '" + r.out + "'";
    return expect(r, 1, "", ":1:9: error: ");
  });
  check(cx, "-e runtime error", [&] {
    ProcessResult r = vm(cx, {"-e", "error(\"boom\")"});
    if (r.err.rfind("runtime error: boom\n", 0) != 0) return "stderr: '" + r.err + "'";
    return expect(r, 2, "", "");
  });
  // import: paths in -e and stdin code are relative to the current
  // directory; a script's, to its own file; other names are also looked
  // for in the main script's directory.
  check(cx, "import from -e and stdin: relative to the current directory", [&] {
    write_script(cx, "impmod.wf", "let where = \"cwd\"\n");
    ProcessResult r = vm(cx, {"-e", "print(import(\"./impmod\").where)"});
    if (r.out != "cwd\n") return "-e: got '" + r.out + "'; stderr: " + r.err;
    r = vm(cx, {"-"}, "print(import(\"./impmod.wf\").where)");
    if (r.out != "cwd\n") return "stdin: got '" + r.out + "'; stderr: " + r.err;
    return expect(r, 0, "", "");
  });
  check(cx, "import from a script: its own directory, then the main script's", [&] {
    fs::create_directories(cx.tmp / "impdir" / "lib");
    write_script(cx, "impdir/main.wf",
                 "print(import(\"./lib/a\").who, import(\"helper\").who)\nimport(\"./lib/bad\")\n");
    write_script(cx, "impdir/lib/a.wf", "let who = import(\"../helper\").who + \"+a\"\n");
    write_script(cx, "impdir/helper.wf", "let who = \"helper\"\n");
    write_script(cx, "impdir/lib/bad.wf", "fn f() { return 1 }\nf()\nlet x = (\n");
    ProcessResult r = vm(cx, {"impdir/main.wf"});
    if (r.out != "helper+a helper\n") return "got '" + r.out + "'; stderr: " + r.err;
    return expect(r, 2, "", "runtime error: impdir/lib/bad.wf:3:10: error: unexpected end of file");
  });
  check(cx, "stdout flushed before a runtime error", [&] {
    ProcessResult r = vm(cx, {"-e", "print(\"before\")\nlet a = [1]\nprint(a[3])"});
    if (r.out != "before\n") return "stdout: '" + r.out + "'";
    return expect(r, 2, "", "runtime error: index out of range [3] with length 1");
  });
  check(cx, "--check ok", [&] {
    std::string f = write_script(cx, "ok.wf", "print(\"ran\")\nerror(\"ran\")\n");
    ProcessResult r = vm(cx, {"--check", f});
    if (!r.out.empty() || !r.err.empty()) return "output from --check: '" + r.out + r.err + "'";
    return expect(r, 0, "", "");
  });
  check(cx, "--check error", [&] {
    std::string f = write_script(cx, "bad.wf", "print(\"ran\")\nlet = 3\n");
    ProcessResult r = vm(cx, {"--check", f});
    if (!r.out.empty()) return "stdout not empty: '" + r.out + "'";
    return expect(r, 1, "", "bad.wf:2:");
  });
  check(cx, "--disasm", [&] {
    std::string f = write_script(cx, "dis.wf",
                                 "fn add(a, b) { return a + b }\nlet x = [1, 2]\n"
                                 "print(add(x[0], 40))\n");
    ProcessResult r = vm(cx, {"--disasm", f});
    for (const char* want : {"function main", "function add", "live:", "CALL"})
      if (!contains(r.out, want)) return std::string("no '") + want + "' in: " + r.out;
    if (contains(r.out, "\n42\n")) return std::string("--disasm ran the script");
    return expect(r, 0, "", "");
  });
  check(cx, "--disasm: top-level lets no function uses are registers", [&] {
    // lang/resolver.cpp: only `n`, which a function reads, stays a global
    // (and the function `limit` itself).
    std::string f = write_script(cx, "top.wf",
                                 "let s = 0\nlet i = 0\nlet n = 10\nfn limit() { return n }\n"
                                 "while i < limit() { s += i\n i += 1 }\nprint(s)\n");
    ProcessResult r = vm(cx, {"--disasm", f});
    size_t sets = 0;
    for (size_t at = r.out.find("SETGLOBAL"); at != std::string::npos; at = r.out.find("SETGLOBAL", at + 1)) sets++;
    if (sets != 2) return "want two SETGLOBALs (limit and n), got " + std::to_string(sets) + " in: " + r.out;
    return expect(r, 0, "", "");
  });
  check(cx, "--disasm compile error", [&] {
    std::string f = write_script(cx, "bad2.wf", "fn (\n");
    return expect(vm(cx, {"--disasm", f}), 1, "", "bad2.wf:");
  });
  check(cx, "--trace=gc", [&] {
    ProcessResult r = vm(cx, {"--trace=gc", "-e", "gc()\nprint(gcstats().collections > 0)"});
    if (r.out != "true\n") return "stdout: '" + r.out + "'";
    return expect(r, 0, "", "gc ");
  });
  check(cx, "--trace=sched: a line a second, with the preemption counters", [&] {
    ProcessResult r = vm(cx, {"--trace=sched", "--procs", "1", "-e",
                              "let stop = false\ngo fn() { let x = 0\n while !stop { x = x + 1 } }()\n"
                              "sleep(1300)\nstop = true\nprint(\"done\")"});
    if (r.out != "done\n") return "stdout: '" + r.out + "'";
    if (!contains(r.err, "preempt: signals=")) return "no preemption counters: '" + r.err + "'";
    return expect(r, 0, "", "SCHED ");
  });
  check(cx, "--heap-limit: out of memory is a runtime error", [&] {
    std::string f = write_script(cx, "oom.wf",
                                 "let keep = []\nwhile true { keep = [repeat(\"x\", 1000), keep] }\n");
    return expect(vm(cx, {"--heap-limit", "32M", f}), 2, "", "runtime error: out of memory\n  at main (oom.wf:2)");
  });
  check(cx, "--heap-limit: in a goroutine, on two threads", [&] {
    std::string f = write_script(cx, "oom_go.wf",
                                 "for g in 0..4 {\n  go fn() {\n    let k = []\n"
                                 "    while true { k = [repeat(\"z\", 2000), k] }\n  }()\n}\nsleep(20000)\n");
    // Several runs: the goroutine's error ends the program while the others
    // still ask for collections, and a stop of the world that ended during
    // the shutdown once lost a P with work (1 run in 8 hung).
    for (int run = 0; run < 6; run++) {
      std::string e = expect(vm(cx, {"--heap-limit=32M", "--procs", "2", f}), 2, "", "runtime error: out of memory");
      if (!e.empty()) return "run " + std::to_string(run) + ": " + e;
    }
    return std::string();
  });
  check(cx, "--heap-limit: pcall catches it, garbage under the limit is fine", [&] {
    std::string f = write_script(cx, "oom_pcall.wf",
                                 "fn grow() {\n  let keep = []\n  while true { keep = [repeat(\"x\", 1000), keep] }\n}\n"
                                 "print(pcall(grow))\ngc()\nlet n = 0\n"
                                 "for i in 0..100000 { n = n + len(repeat(\"y\", 1000)) }\nprint(n)\n");
    ProcessResult r = vm(cx, {"--heap-limit", "32M", f});
    if (r.out != "[false, \"out of memory\"]\n100000000\n") return "stdout: '" + r.out + "'";
    return expect(r, 0, "", "");
  });
  check(cx, "--heap-limit: strings functions refuse a result past it before making it", [&] {
    std::string f = write_script(cx, "oom_strings.wf",
                                 "let s = import(\"strings\")\nlet big = repeat(\"x\", 12000000)\n"
                                 "print(pcall(s.format, \"%100000000d\", 1)[1])\n"
                                 "print(pcall(s.pad_left, \"x\", 100000000)[1])\n"
                                 "print(pcall(s.replace, big, \"x\", \"yyy\")[1])\n"
                                 "print(pcall(s.bytes, big)[1])\nprint(len(s.replace(big, \"x\", \"y\")))\n");
    ProcessResult r = vm(cx, {"--heap-limit", "32M", f});
    if (r.out != "out of memory\nout of memory\nout of memory\nout of memory\n12000000\n") return "stdout: '" + r.out + "'";
    return expect(r, 0, "", "");
  });
  check(cx, "--heap-limit: bad values", [&] {
    std::string e = expect(vm(cx, {"--heap-limit", "12Q", "-e", "1"}), 1, "", "invalid --heap-limit value '12Q'");
    return e.empty() ? expect(vm(cx, {"--heap-limit", "0", "-e", "1"}), 1, "", "invalid --heap-limit") : e;
  });
  // A tree that lives across collections, checked after each: marked
  // right by one marker and by several (bdwgc's parallel markers).
  check(cx, "--gc-markers 1 and 4 keep a live tree", [&] {
    const std::string code =
        "fn tree(d) { if d == 0 { return nil } return [tree(d - 1), tree(d - 1)] }\n"
        "fn size(t) { if t == nil { return 0 } return 1 + size(t[0]) + size(t[1]) }\n"
        "let t = tree(14)\nfor i in 0..5 { let junk = tree(10)\ngc()\n }\nprint(size(t))";
    for (const char* n : {"1", "4"}) {
      ProcessResult r = vm(cx, {"--gc-markers", n, "-e", code});
      if (std::string e = expect(r, 0, "16383\n", ""); !e.empty()) return std::string("markers ") + n + ": " + e;
    }
    return std::string();
  });
  check(cx, "--gc-markers: bad values", [&] {
    for (const char* bad : {"0", "17", "x", ""}) {
      std::string e = expect(vm(cx, {"--gc-markers", bad, "-e", "1"}), 1, "",
                             std::string("invalid --gc-markers value '") + bad + "'");
      if (!e.empty()) return e;
    }
    return std::string();
  });
  check(cx, "WEFT_GC_MARKERS: a bad value is reported and ignored", [&] {
    weft::testing::ProcessSpec spec;
    spec.argv = {cx.vm, "-e", "gc()\nprint(1)"};
    spec.cwd = cx.tmp.string();
    spec.env = {"WEFT_GC_MARKERS=lots"};
    spec.timeout_s = 20;
    return expect(weft::testing::run_process(spec), 0, "1\n", "ignoring WEFT_GC_MARKERS='lots'");
  });
  check(cx, "--gc-stress", [&] {
    ProcessResult r = vm(cx, {"--gc-stress", "-e", "let a = []\nfor i in 0..100 { push(a, [i]) }\n"
                                                   "print(len(a), a[99][0])"});
    if (r.out != "100 99\n") return "stdout: '" + r.out + "'";
    return expect(r, 0, "", "");
  });
  // The write barrier's checker (vm/gc/barrier.h): 2,000 old maps each get
  // a young string, then enough churn for minor collections (a nursery of
  // 1.6 MiB at --gc-percent 10). With the barriers dropped on purpose
  // (WEFT_GC_TEST_DROP_BARRIERS) the old maps' pages stay clean, the minors
  // do not mark the strings, and --gc-verify must say so; with them, all
  // 2,000 survive. A vm on the system's libgc has no minors: it says so.
  // Without asynchronous preemption: a goroutine stopped by a signal has
  // its top frame's registers and its native stack scanned conservatively,
  // and a stale word there (fill's `young`, an argument slot, a spilled
  // C++ local) may retain the young strings, so the minor marks them and
  // the verifier has nothing to find (2 runs in 20 under ASan; 0 in 40
  // stopped only at safe-points).
  check(cx, "--gc-generational: --gc-verify catches a missing write barrier; --gc-stress-minor runs minors", [&] {
    const std::string code =
        "let old = []\nfor i in 0..2000 { push(old, {v: nil}) }\ngc()\n"
        "fn fill() {\n  let young = []\n  for i in 0..2000 { push(young, str(i) + \"-young\") }\n"
        "  for i in 0..2000 { old[i].v = young[i] }\n}\nfill()\n"
        "fn churn() { let j = nil; for i in 0..300000 { j = [i] } }\nchurn()\n"
        "let n = 0\nfor i in 0..2000 { if old[i].v == str(i) + \"-young\" { n += 1 } }\n"
        "print(n, gcstats().minor_collections > 0)";
    weft::testing::ProcessSpec spec;
    spec.argv = {cx.vm, "--no-async-preempt", "--gc-generational", "--gc-percent", "10", "--gc-verify", "-e", code};
    spec.cwd = cx.tmp.string();
    spec.timeout_s = 30;
    ProcessResult good = weft::testing::run_process(spec);
    if (contains(good.err, "need the bdwgc of tools/bdwgc.sh")) return expect(good, 0, "2000 false\n", "");
    if (std::string e = expect(good, 0, "2000 true\n", ""); !e.empty()) return "with barriers: " + e;
    spec.env = {"WEFT_GC_TEST_DROP_BARRIERS=1"};
    ProcessResult bad = weft::testing::run_process(spec);
    if (!bad.signaled || bad.signal != SIGABRT)
      return "without barriers: expected death by SIGABRT, got " + weft::testing::describe_exit(bad, 20);
    if (!contains(bad.err, "reachable but not marked") || !contains(bad.err, "after a minor collection"))
      return "without barriers: stderr: " + bad.err;
    // --gc-stress-minor's collections are minors, but one in 256 (its waits
    // once asked for full ones like gc(): 1 minor in 9).
    const std::string churn =
        "let a = []\nfor i in 0..2000 { push(a, [i]) }\nlet s = gcstats()\n"
        "print(len(a), s.minor_collections > 1000, s.minor_collections > 50 * s.full_collections)";
    spec.argv = {cx.vm, "--gc-stress-minor", "-e", churn};
    spec.env.clear();
    return expect(weft::testing::run_process(spec), 0, "2000 true true\n", "");
  });
  check(cx, "--gc-percent", [&] {
    ProcessResult r = vm(cx, {"--gc-percent", "50", "-e", "print(1)"});
    if (r.out != "1\n") return "stdout: '" + r.out + "'";
    return expect(r, 0, "", "");
  });
  check(cx, "--gc-percent bad", [&] {
    return expect(vm(cx, {"--gc-percent", "abc", "-e", "print(1)"}), 1, "", "vm: ");
  });
  check(cx, "readline from stdin", [&] {
    ProcessResult r = vm(cx, {"-e", "print(readline(), readline(), readline())"}, "one\ntwo\n");
    if (r.out != "one two nil\n") return "stdout: '" + r.out + "'";
    return expect(r, 0, "", "");
  });
}

std::vector<std::string> vm_argv(const Context& cx, std::vector<std::string> args) {
  args.insert(args.begin(), cx.vm);
  return args;
}

// "" if the child ended by `sig` (as an unhandled signal would end it).
std::string died_by(Child& c, int sig) {
  if (!c.finish(20)) return "still running after the signal";
  if (c.signal() != sig) return "expected death by signal " + std::to_string(sig) + ", got " + c.describe();
  return "";
}

// Standard output's buffering and its flush on signals
// (docs/language.md#the-vm-command): block-buffered into a pipe, yet every line printed
// before SIGTERM, SIGINT or SIGHUP arrives, and the process then dies by
// that signal. The script says it is ready on stderr (unbuffered) once its
// 1,000 lines sit in the buffer.
void signal_checks(Context& cx) {
  const std::string script =
      "let io = import(\"io\")\nfor i in 0..1000 { print(\"line\", i) }\n"
      "io.eprint(\"ready\")\nsleep(100000)\n";
  for (int sig : {SIGTERM, SIGINT, SIGHUP}) {
    check(cx, std::string("stdout flushed on ") + sigabbrev_np(sig) + ", then death by it", [&] {
      Child c(Child::Io::Pipes, vm_argv(cx, {"-e", script}), cx.tmp.string());
      if (!c.wait_err("ready", 20)) return "no 'ready' on stderr: '" + c.err() + "'";
      if (!c.out().empty()) return std::string("stdout was not block-buffered");
      kill(c.pid(), sig);
      std::string why = died_by(c, sig);
      if (!why.empty()) return why + "; stderr: " + c.err();
      auto lines = weft::testing::split_lines(c.out());
      if (lines.size() != 1000 || lines.back() != "line 999")
        return "expected 1000 lines, got " + std::to_string(lines.size());
      return std::string();
    });
  }
  check(cx, "print then sleep, piped: the line arrives on SIGTERM", [&] {
    Child c(Child::Io::Pipes,
            vm_argv(cx, {"-e", "print(\"start\")\nimport(\"io\").eprint(\"ready\")\nsleep(100000)"}),
            cx.tmp.string());
    if (!c.wait_err("ready", 20)) return "no 'ready' on stderr: '" + c.err() + "'";
    kill(c.pid(), SIGTERM);
    std::string why = died_by(c, SIGTERM);
    if (!why.empty()) return why;
    return c.out() == "start\n" ? std::string() : "stdout: '" + c.out() + "'";
  });
  check(cx, "stdout's reader gone: status 141, quietly", [&] {
    Child c(Child::Io::Pipes, vm_argv(cx, {"-e", "let i = 0\nwhile true { print(\"x\", i)\n i += 1 }"}),
            cx.tmp.string());
    if (!c.wait_out("x 1\n", 20)) return std::string("no output");
    c.close_stdout();
    if (!c.finish(20)) return std::string("still running with its reader gone");
    if (!c.exited() || c.signal() != 0 || c.exit_code() != 141) return "expected exit 141, got " + c.describe();
    return c.err().empty() ? std::string() : "stderr: '" + c.err() + "'";
  });
  check(cx, "reader gone before the last flush: status 141", [&] {
    Child c(Child::Io::Pipes, vm_argv(cx, {"-e", "let io = import(\"io\")\nprint(\"a\")\nio.eprint(\"ready\")\n"
                                                 "readline()\nprint(\"b\")"}),
            cx.tmp.string());
    if (!c.wait_err("ready", 20)) return "no 'ready': " + c.err();
    c.close_stdout();
    c.close_stdin();
    if (!c.finish(20)) return std::string("still running");
    return c.exit_code() == 141 ? std::string() : "expected exit 141, got " + c.describe();
  });
}

// Standard input: one buffer for readline, io.read and io.read_all; a
// goroutine waiting on it gives up its P (one P here), so others run and
// collections complete meanwhile.
void stdin_checks(Context& cx) {
  check(cx, "readline, io.read and io.read_all share one buffer", [&] {
    ProcessResult r = vm(cx, {"-e", "let io = import(\"io\")\nprint(readline())\nprint(io.read(3))\n"
                                    "print(readline())\nprint(io.read_all())\nprint(io.read(1), readline())"},
                         "first\nabcdef\nlast line\nno newline");
    if (r.out != "first\nabc\ndef\nlast line\nno newline\nnil nil\n") return "stdout: '" + r.out + "'";
    return expect(r, 0, "", "");
  });
  check(cx, "a goroutine blocked on readline from a pipe does not stop others or gc()", [&] {
    const std::string script =
        "let io = import(\"io\")\nlet got = chan(1)\ngo fn() { got <- readline() }()\nsleep(50)\n"
        "let before = gcstats().collections\nfor i in 0..3 { gc() }\nlet n = 0\n"
        "for i in 0..100000 { n += 1 }\n"
        "print(\"while blocked:\", gcstats().collections - before >= 3, n, len(got))\n"
        "io.eprint(\"ready\")\nprint(<-got)\n";
    Child c(Child::Io::Pipes, vm_argv(cx, {"--procs", "1", "-e", script}), cx.tmp.string());
    if (!c.wait_err("ready", 20)) return "no 'ready' (blocked?): '" + c.err() + "'";
    c.send("hello\n");
    if (!c.finish(20)) return std::string("did not end");
    if (c.out() != "while blocked: true 100000 0\nhello\n") return "stdout: '" + c.out() + "'";
    return c.exit_code() == 0 ? std::string() : c.describe();
  });
  check(cx, "readline into a pipe makes no write per line", [&] {
    // 20,000 lines echoed: the block buffer writes them in a few chunks,
    // so output is all there and in order (strace is not on CI; the
    // benchmark bench/compare/echo.* measures the cost).
    std::string in;
    for (int i = 0; i < 20000; i++) in += "line " + std::to_string(i) + "\n";
    ProcessResult r = vm(cx, {"-e", "let l = readline()\nwhile l != nil { print(l)\n l = readline() }"}, in);
    if (r.out != in) return std::string("echo differs");
    return expect(r, 0, "", "");
  });
  check(cx, "io.eprint and io.ewrite write to stderr", [&] {
    ProcessResult r = vm(cx, {"-e", "let io = import(\"io\")\nio.eprint(\"a\", 1)\nio.ewrite(\"b\", 2, \"\\n\")\n"
                                    "print(\"out\")"});
    if (r.out != "out\n" || r.err != "a 1\nb2\n") return "stdout: '" + r.out + "', stderr: '" + r.err + "'";
    return expect(r, 0, "", "");
  });
  check(cx, "vm - reads the script from stdin; args follow", [&] {
    ProcessResult r = vm(cx, {"-", "a", "b"}, "print(args(), readline())\n");
    if (r.out != "[\"a\", \"b\"] nil\n") return "stdout: '" + r.out + "'";
    return expect(r, 0, "", "");
  });
  check(cx, "vm - compile error names <stdin>", [&] {
    return expect(vm(cx, {"-"}, "let = 1\n"), 1, "", "<stdin>:1:");
  });
  check(cx, "exit statuses: deadlock 2", [&] {
    return expect(vm(cx, {"-e", "let c = chan(0)\n<-c"}), 2, "", "fatal error: all goroutines are asleep");
  });
  check(cx, "--help lists every option", [&] {
    ProcessResult r = vm(cx, {"--help"});
    for (const char* opt : {"-e CODE", "--check", "--disasm", "--gc-percent", "--gc-stress", "--gc-markers", "--procs",
                            "--heap-limit", "--gc-verify", "--no-async-preempt", "--preempt-stress",
                            "--trace=gc", "--trace=sched", "--version", "--help", "  -  "})
      if (!contains(r.out, opt)) return std::string("no '") + opt + "' in --help";
    return expect(r, 0, "", "");
  });
}

// The REPL, typed at through a pseudo-terminal.
struct Repl {
  Child c;
  explicit Repl(const Context& cx)
      : c(Child::Io::Pty, vm_argv(cx, {}), cx.tmp.string(), {"HOME=" + cx.tmp.string(), "TERM=dumb"}) {}
  bool prompt() { return c.wait_out("> ", 20); }
  // Types a line and waits for `want` in what the terminal shows after it,
  // then for the next prompt (typing ahead of it would race libedit's
  // switch of the terminal's mode).
  std::string line(const std::string& text, const std::string& want) {
    c.send(text + "\r");
    if (!c.wait_out(want, 20)) return "after '" + text + "' no '" + want + "' in: '" + c.out() + "'";
    if (want != "> " && want != "... " && !c.wait_out("> ", 20)) return "no prompt after '" + text + "'";
    return "";
  }
};

void repl_checks(Context& cx) {
  check(cx, "repl: state between lines, expression echo, Ctrl-D", [&] {
    Repl r(cx);
    if (!r.prompt()) return "no prompt: '" + r.c.out() + "'";
    std::string why = r.line("let x = 40", "> ");
    if (why.empty()) why = r.line("x + 2", "42\r\n");
    if (why.empty()) why = r.line("\"a\" + \"b\"", "\"ab\"\r\n");
    if (why.empty()) why = r.line("print(x * 10)", "400\r\n");
    if (!why.empty()) return why;
    r.c.send("\x04");
    if (!r.c.finish(20)) return std::string("Ctrl-D did not end the REPL");
    if (!r.c.exited() || r.c.exit_code() != 0) return "expected exit 0, got " + r.c.describe();
    if (contains(r.c.out(), "nil")) return "nil was echoed: " + r.c.out();
    // libedit's history file escapes spaces (strvis): look for a part without.
    if (!contains(read_file(cx.tmp / ".weft_history"), "print(x")) return std::string("no history file");
    return std::string();
  });
  check(cx, "repl: multi-line input while brackets are open", [&] {
    Repl r(cx);
    if (!r.prompt()) return "no prompt: '" + r.c.out() + "'";
    std::string why = r.line("fn twice(a) {", "... ");
    if (why.empty()) why = r.line("  return a * 2", "... ");
    if (why.empty()) why = r.line("}", "> ");
    if (why.empty()) why = r.line("twice(", "... ");
    if (why.empty()) why = r.line("  21)", "42\r\n");
    return why;
  });
  check(cx, "repl: errors are reported and the REPL goes on", [&] {
    Repl r(cx);
    if (!r.prompt()) return "no prompt: '" + r.c.out() + "'";
    std::string why = r.line("error(\"bo\" + \"om\")", "runtime error: boom");
    if (why.empty()) why = r.line("let = 3", "error: ");
    if (why.empty()) why = r.line("6 * 7", "42\r\n");
    return why;
  });
  check(cx, "repl: Ctrl-C abandons the line, and interrupts running code", [&] {
    Repl r(cx);
    if (!r.prompt()) return "no prompt: '" + r.c.out() + "'";
    r.c.send("print(9000 + 1");
    if (!r.c.wait_out("1", 20)) return std::string("no echo of the typing");
    r.c.send("\x03");
    if (!r.c.wait_out("> ", 20)) return "no prompt after Ctrl-C: '" + r.c.out() + "'";
    std::string why = r.line("3 + 4", "7\r\n");
    if (!why.empty()) return why;
    if (contains(r.c.out(), "9001")) return "the abandoned line ran: " + r.c.out();
    why = r.line("let n = 0", "> ");
    if (!why.empty()) return why;
    r.c.send("while true { n += 1 }\r");
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    r.c.send("\x03");
    if (!r.c.wait_out("interrupted", 20) || !r.c.wait_out("> ", 20))
      return "Ctrl-C did not interrupt: '" + r.c.out() + "'";
    why = r.line("n > 0", "true\r\n");
    if (!why.empty()) return why;
    r.c.send("\x04");
    if (!r.c.finish(20) || r.c.exit_code() != 0) return "after Ctrl-D: " + r.c.describe() + ": " + r.c.out();
    return std::string();
  });
}

// examples/wc.wf, the tool README.md shows first: files given as
// arguments (a missing one reported, status 1), and standard input; and
// README.md shows the script as it is and the run of its first check.
void wc_checks(Context& cx, const fs::path& wc) {
  check(cx, "README.md shows examples/wc.wf", [&] {
    std::string readme = read_file(wc.parent_path().parent_path() / "README.md");
    if (!contains(readme, "```\n" + read_file(wc) + "```\n")) return std::string("README.md's copy of examples/wc.wf differs from the file");
    if (!contains(readme, "$ ./build/vm examples/wc.wf a.txt b.txt\n      2       3       14 a.txt\n"))
      return std::string("README.md's run of examples/wc.wf is not the one tested here");
    return std::string();
  });
  write_script(cx, "a.txt", "one two\nthree\n");
  write_script(cx, "b.txt", "x  y\tz");
  check(cx, "vm examples/wc.wf FILES", [&] {
    ProcessResult r = vm(cx, {wc.string(), "a.txt", "b.txt"});
    std::string want = "      2       3       14 a.txt\n"
                       "      0       3        6 b.txt\n"
                       "      2       6       20 total\n";
    if (r.out != want) return "stdout differs:\n--- expected\n" + want + "--- got\n" + r.out;
    return expect(r, 0, "", "");
  });
  check(cx, "vm examples/wc.wf with a missing file", [&] {
    ProcessResult r = vm(cx, {wc.string(), "a.txt", "none.txt"});
    return expect(r, 1, "      2       3       14 a.txt\n",
                  "wc: fs.read: open \"none.txt\": No such file or directory");
  });
  check(cx, "vm examples/wc.wf < stdin", [&] {
    ProcessResult r = vm(cx, {wc.string()}, "a b\nc\n");
    if (r.out != "      2       3        6\n") return "stdout: '" + r.out + "'";
    return expect(r, 0, "", "");
  });
}

void example_checks(Context& cx) {
  std::vector<fs::path> examples;
  for (const auto& e : fs::directory_iterator(cx.examples))
    if (e.path().extension() == ".wf") examples.push_back(e.path());
  std::sort(examples.begin(), examples.end());
  if (examples.empty()) {
    check(cx, "examples", [] { return std::string("no examples found"); });
  }
  for (const fs::path& p : examples) {
    std::string name = p.filename().string();
    check(cx, "vm --check examples/" + name, [&] {
      return expect(vm(cx, {"--check", p.string()}), 0, "", "");
    });
    if (name == "wc.wf") wc_checks(cx, p);
    fs::path out = cx.expected / (p.stem().string() + ".out");
    if (!fs::exists(out)) continue;
    check(cx, "vm examples/" + name, [&] {
      ProcessResult r = vm(cx, {p.string()});
      std::string want = read_file(out);
      if (r.out != want) return "stdout differs:\n--- expected\n" + want + "--- got\n" + r.out;
      return expect(r, 0, "", "");
    });
  }
}

}  // namespace

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  if (argc != 4) {
    std::fprintf(stderr, "usage: cli_runner VM EXAMPLES_DIR EXPECTED_DIR\n");
    return 2;
  }
  Context cx;
  cx.vm = fs::absolute(argv[1]).string();
  cx.examples = fs::absolute(argv[2]);
  cx.expected = fs::absolute(argv[3]);
  std::string tmpl = (fs::temp_directory_path() / "weft-cli-XXXXXX").string();
  if (!mkdtemp(tmpl.data())) {
    std::perror("cli_runner: mkdtemp");
    return 2;
  }
  cx.tmp = tmpl;
  cli_checks(cx);
  signal_checks(cx);
  stdin_checks(cx);
  repl_checks(cx);
  example_checks(cx);
  fs::remove_all(cx.tmp);
  std::printf("%d passed, %d failed\n", cx.passed, cx.failed);
  return cx.failed ? 1 : 0;
}
