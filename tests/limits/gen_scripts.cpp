// Writes the limit scripts: programs too large to commit (a million
// globals, 100,000-element literals, 20,000-statement loop bodies) that
// docs/language.md#limits says must run (no small fixed limit turns a
// valid program away; issue 14). Each is an ordinary script-suite test with `// expect:`
// lines, whose expected values this generator computes itself, and the
// `limits` test runs them through tests/runner/script_runner.cpp.
//
//   gen_limit_scripts OUT_DIR
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

namespace {

std::string out_dir;

void write(const std::string& name, const std::function<void(std::ofstream&)>& body) {
  std::ofstream f(out_dir + "/" + name);
  f << "// timeout: 600\n";  // seconds: compiling megabytes on a loaded 2-core machine
  body(f);
  if (!f) {
    std::fprintf(stderr, "gen_limit_scripts: cannot write %s\n", name.c_str());
    std::exit(1);
  }
}

// `op` between n copies of `term`.
std::string chain(const std::string& term, const std::string& op, int n) {
  std::string s = term;
  for (int i = 1; i < n; i++) s += " " + op + " " + term;
  return s;
}

// "0, 1, ... n-1", each formatted by `item`.
std::string list(int n, const std::function<std::string(int)>& item) {
  std::string s;
  for (int i = 0; i < n; i++) s += (i ? ", " : "") + item(i);
  return s;
}
std::string num(int i) { return std::to_string(i); }
// "P0 + P1 + ... + P(n-1)".
std::string sum_of(const std::string& prefix, int n) {
  std::string s;
  for (int i = 0; i < n; i++) s += (i ? " + " : "") + prefix + num(i);
  return s;
}

// Globals past 65,536 once aliased each other and the builtins (slots
// wrapped at 16 bits): the last call found an int where print was.
void globals(int n, const char* name) {
  write(name, [&](std::ofstream& f) {
    f << "// " << n << " globals, each its own slot; builtins are still reachable after them.\n"
      << "// no-stress\n";
    for (int i = 0; i < n; i++) f << "let g" << i << " = " << i << "\n";
    f << "fn total() { return g0 + g65535 + g65536 + g" << n - 1 << " }\n"
      << "g65536 = g65536 + 1\n"
      << "print(g0, g65535, g65536, g" << n - 1 << ", total())\n"
      << "print(len(\"abc\"), type(print))\n"
      << "// expect: 0 65535 65537 " << n - 1 << " " << 65535 + 65537 + int64_t(n - 1) << "\n"
      << "// expect: 3 function\n";
  });
}

// Flat chains: not nesting, and one register whatever their length.
void chains() {
  for (int n : {500, 2000, 100000}) {
    write("chain_" + num(n) + ".wf", [&](std::ofstream& f) {
      f << "// A flat chain of " << n << " terms compiles (no register or nesting limit).\n"
        << "let x = 1\nlet s = \"a\"\n"
        << "print(" << chain("x", "+", n) << ")\n"
        << "print(len(" << chain("s", "+", n) << "))\n"
        << "print(" << chain("x == 1", "&&", n) << ")\n"
        << "if " << chain("x == 2", "||", n) << " { print(\"no\") } else { print(\"yes\") }\n"
        << "fn f(a) { return " << chain("a", "-", n) << " }\n"
        << "print(f(3))\n"
        << "// expect: " << n << "\n// expect: " << n << "\n// expect: true\n// expect: yes\n"
        << "// expect: " << 3 - 3 * int64_t(n - 1) << "\n";
    });
  }
}

// Calls and functions with more arguments, parameters, locals and
// captured variables than a frame has registers: they spill.
void frames() {
  write("call_300_args.wf", [](std::ofstream& f) {
    f << "// print with 300 arguments; a function of 300 parameters called, started and pcall'd.\n"
      << "print(" << list(300, num) << ")\n"
      << "fn p(" << list(300, [](int i) { return "a" + num(i); }) << ") { return a0 + a199 + a200 + a299 }\n"
      << "print(p(" << list(300, num) << "))\n"
      << "let ch = chan(1)\n"
      << "fn q(" << list(300, [](int i) { return "b" + num(i); }) << ") { ch <- b299 }\n"
      << "go q(" << list(300, num) << ")\n"
      << "print(<-ch)\n"
      << "print(pcall(p, " << list(300, num) << "))\n"
      << "print(pcall(p, 1)[0])\n"
      << "// expect: " << [] {
           std::string s;
           for (int i = 0; i < 300; i++) s += (i ? " " : "") + num(i);
           return s;
         }() << "\n"
      << "// expect: 698\n// expect: 299\n// expect: [true, 698]\n// expect: false\n";
  });
  for (int n : {300, 65535}) {
    int64_t sum = int64_t(n) * (n - 1) / 2;
    write("locals_" + num(n) + ".wf", [&](std::ofstream& f) {
      f << "// " << n << " locals live at once, " << n << " parameters, and closures capturing them.\n"
        << "fn many() {\n";
      for (int i = 0; i < n; i++) f << "  let v" << i << " = " << i << "\n";
      f << "  v" << n - 1 << " += 1\n"
        << "  let bump = fn() { v250 = v250 + 1 }\n"
        << "  bump()\n"
        << "  let all = fn() { return " << sum_of("v", n) << " }\n"
        << "  return [v0, v250, v" << n - 1 << ", all()]\n}\n"
        << "print(many())\n"
        << "fn p(" << list(n, [](int i) { return "a" + num(i); }) << ") {\n"
        << "  let get = fn() { return a" << n - 1 << " }\n"
        << "  return a0 + a250 + get()\n}\n"
        << "print(p(" << list(n, num) << "))\n"
        << "// expect: [0, 251, " << n << ", " << sum + 2 << "]\n"
        << "// expect: " << 250 + n - 1 << "\n";
    });
  }
}

// Literals and constants past 16-bit operands; loop bodies past 16-bit jumps.
void wide() {
  write("literals_100000.wf", [](std::ofstream& f) {
    f << "// 100,000-element array and map literals, 70,000 string and float constants in a function.\n"
      << "let a = [" << list(100000, [](int i) { return num(i * 3); }) << "]\n"
      << "print(len(a), a[99999])\n"
      << "let m = {" << list(100000, [](int i) { return "\"k" + num(i) + "\": " + num(i); }) << "}\n"
      << "print(len(m), m[\"k99999\"])\n"
      << "fn strings() { let s = [" << list(70000, [](int i) { return "\"s" + num(i) + "\""; }) << "]\n"
      << "  return s[69999] }\n"
      << "fn floats() { let s = [" << list(70000, [](int i) { return num(i) + ".5"; }) << "]\n"
      << "  return s[69999] }\n"
      << "print(strings(), floats())\n"
      << "// expect: 100000 299997\n// expect: 100000 99999\n// expect: s69999 69999.5\n";
  });
  write("loop_20000.wf", [](std::ofstream& f) {
    const int n = 20000;
    std::string body;
    for (int i = 0; i < n; i++) body += "    s = s + " + num(i % 7) + "\n";
    int64_t per = 0;
    for (int i = 0; i < n; i++) per += i % 7;
    f << "// Loop and if bodies of 20,000 statements: jumps past 16 bits.\n"
      << "let s = 0\n"
      << "for i in 0..3 {\n" << body << "    if s < 0 { break }\n    if i == 1 { continue }\n}\n"
      << "print(s)\n"
      << "let j = 0\nwhile j < 2 {\n" << body << "    j = j + 1\n}\n"
      << "print(s)\n"
      << "for k, v in [1, 2] {\n" << body << "}\n"
      << "print(s)\n"
      << "if s > 0 && j == 2 {\n" << body << "} else {\n" << body << body << "}\n"
      << "print(s)\n"
      << "let t = s > 0 && (j == 2 || j == 3)\nprint(t)\n"
      << "// expect: " << 3 * per << "\n// expect: " << 5 * per << "\n// expect: " << 7 * per << "\n"
      << "// expect: " << 8 * per << "\n// expect: true\n";
  });
}

// main compiled a top-level statement at a time (lang/compiler.cpp): a
// statement whose jumps overflow is compiled again, wide, and what its
// first try made (closures, a select's code) is dropped; main's spilling
// is decided before its first statement from what pass 1 saw.
void main_streamed() {
  write("main_wide.wf", [](std::ofstream& f) {
    const int n = 12000;  // `g += 1` on a global: 3 instructions each, past the 32767 of a conditional jump
    f << "// A top-level if whose body overflows a conditional jump: main goes wide from it on.\n"
      << "let g = 0\nfn bump() { g += 1 }\nlet before = fn() { return \"before\" }\nlet ch = chan(1)\n"
      << "if g == 0 {\n    let inner = fn() { return \"inner\" }\n    ch <- 1\n"
      << "    select {\n    case let v = <-ch:\n        g += v\n    }\n";
    for (int i = 0; i < n; i++) f << "    g += 1\n";
    f << "    print(inner())\n}\nlet k = 0\nwhile k < 3 { bump(); k += 1 }\n"
      << "print(before(), g, after())\nfn after() { return \"after\" }\n"
      << "// expect: inner\n// expect: before " << n + 4 << " after\n";
  });
  write("main_spill.wf", [](std::ofstream& f) {
    f << "// 130 top-level lets main alone uses (128 become its locals) and a block of 120 locals: main spills.\n";
    for (int i = 0; i < 130; i++) f << "let p" << i << " = " << i << "\n";
    f << "{\n";
    for (int i = 0; i < 120; i++) f << "    let b" << i << " = " << i << "\n";
    f << "    print(" << sum_of("b", 120) << ")\n}\n"
      << "print(" << sum_of("p", 130) << ")\n"
      << "// expect: 7140\n// expect: 8385\n";
  });
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: gen_limit_scripts OUT_DIR\n");
    return 2;
  }
  out_dir = argv[1];
  std::filesystem::create_directories(out_dir);
  globals(70000, "globals_70000.wf");
  globals(1000000, "globals_1000000.wf");
  chains();
  frames();
  wide();
  main_streamed();
  return 0;
}
