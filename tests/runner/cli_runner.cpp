// Tests of the `vm` command line and the examples, each run as a child
// process (tests/runner/subprocess.h):
//
//   cli_runner VM EXAMPLES_DIR EXPECTED_DIR
//
// Covers --help, --version, unknown options, a missing file, -e, --check,
// --disasm (stack maps shown as `live:`), --trace=gc, script arguments; then
// `vm --check` on every examples/*.wf, and a real run of each example that
// has an EXPECTED_DIR/NAME.out file, compared byte for byte.
// The last line is `N passed, N failed`.
#include <signal.h>
#include <stdlib.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "tests/runner/subprocess.h"

#ifndef WEFT_VERSION
#error "WEFT_VERSION must be defined by the build"
#endif

namespace fs = std::filesystem;
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
  check(cx, "no script", [&] { return expect(vm(cx, {}), 1, "", ""); });
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
    return expect(vm(cx, {"--heap-limit=32M", "--procs", "2", f}), 2, "", "runtime error: out of memory");
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
  check(cx, "--gc-stress", [&] {
    ProcessResult r = vm(cx, {"--gc-stress", "-e", "let a = []\nfor i in 0..100 { push(a, [i]) }\n"
                                                   "print(len(a), a[99][0])"});
    if (r.out != "100 99\n") return "stdout: '" + r.out + "'";
    return expect(r, 0, "", "");
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
  example_checks(cx);
  fs::remove_all(cx.tmp);
  std::printf("%d passed, %d failed\n", cx.passed, cx.failed);
  return cx.failed ? 1 : 0;
}
