// The parser and resolver, through lang::compile: syntax and scope errors
// with their positions, recovery, and the diagnostics' format.
#include <gtest/gtest.h>

#include <map>
#include <memory>

#include "lang/compiler.h"
#include "tests/unit/fake_env.h"

namespace weft::lang {
namespace {

using testing::FakeEnv;

std::vector<Diagnostic> errors_of(std::string_view src) {
  FakeEnv env;
  std::vector<Diagnostic> errors;
  Proto* p = compile(env, "t.wf", src, errors);
  EXPECT_EQ(p == nullptr, !errors.empty());
  return errors;
}

std::string first_error(std::string_view src) {
  auto e = errors_of(src);
  return e.empty() ? "" : std::to_string(e[0].line) + ":" + std::to_string(e[0].col) + " " + e[0].message;
}

TEST(Parser, AcceptsEveryStatementForm) {
  const char* src = R"(
let x = 1
let y
x = x + 1
x += 2
fn add(a, b) { return a + b }
let f = fn(a) { return a }
if x < 2 { } else if x > 3 { } else { print(x) }
while x < 10 { x += 1; if x == 5 { continue } break }
for i in 0..10 { print(i) }
for v in [1, 2,] { print(v) }
for k, v in {a: 1, "b": 2, 3: "x",} { print(k, v) }
let m = {
  name: "n",
  list: [
    1,
    2
  ]
}
m.name = "o"
m["list"][0] -= 1
print(add(1,
          2), -x, !x, x % 2, x / 2 * 3 - 1, x >= 1 && x <= 9 || x != 4)
)";
  EXPECT_EQ(first_error(src), "");
}

TEST(Parser, GoroutineSyntaxParses) {
  // go, send, receive and select (every case form) compile.
  EXPECT_EQ(first_error("let ch = nil\ngo print(1)\nch <- 1\nlet v = <-ch\n"), "");
  EXPECT_EQ(first_error(R"(let c = nil
select {
case let v = <-c:
  print(v)
case c <- 1:
case <-c:
  print(2)
default:
  print(3)
}
)"),
            "");
}

TEST(Parser, SyntaxErrorsWithPositions) {
  EXPECT_EQ(first_error("let x = )"), "1:9 expected expression");
  EXPECT_EQ(first_error("let = 1"), "1:5 unexpected '=', expected identifier");
  EXPECT_EQ(first_error("print(1, 2\nlet y = 2"), "1:11 unexpected newline, expected ',' or ')'");
  EXPECT_EQ(first_error("let a = (1 +\n"), "1:13 unexpected end of file");
  EXPECT_EQ(first_error("}"), "1:1 unexpected '}'");
  EXPECT_EQ(first_error("let x = 1 2"), "1:11 unexpected number 2 at end of statement");
  EXPECT_EQ(first_error("let r = 1..3"), "1:9 range a..b is only allowed in a for loop");
  EXPECT_EQ(first_error("print(0..3)"), "1:7 range a..b is only allowed in a for loop");
  EXPECT_EQ(first_error("1 + 2 = 3"), "1:1 cannot assign to this expression");
  EXPECT_EQ(first_error("f() = 3"), "1:1 cannot assign to this expression");
}

TEST(Parser, RecoveryReportsEveryBadStatement) {
  auto e = errors_of("let a = )\nlet b = 1\nlet c = ]\nfn f() {\n  let d = +\n}\nlet e = 1 2\n");
  ASSERT_EQ(e.size(), 4u);
  EXPECT_EQ(e[0].line, 1);
  EXPECT_EQ(e[1].line, 3);
  EXPECT_EQ(e[2].line, 5);
  EXPECT_EQ(e[3].line, 7);
}

TEST(Parser, ScopeErrors) {
  EXPECT_EQ(first_error("print(zz)"), "1:7 undefined variable 'zz'");
  EXPECT_EQ(first_error("zz = 1"), "1:1 assignment to undeclared variable 'zz'");
  EXPECT_EQ(first_error("let x = 1\nlet x = 2"), "2:1 'x' already declared in this block");
  EXPECT_EQ(first_error("fn f(a, a) { }"), "1:1 'a' already declared in this block");
  EXPECT_EQ(first_error("fn f() {\n  let y = 1\n  let y = 2\n}"), "3:3 'y' already declared in this block");
  EXPECT_EQ(first_error("break"), "1:1 break outside a loop");
  EXPECT_EQ(first_error("while true { fn f() { continue } }"), "1:23 continue outside a loop");
  EXPECT_EQ(first_error("if true { return 1 }"), "1:11 return outside a function");
  // Several scope errors in one file are all reported.
  EXPECT_EQ(errors_of("print(a)\nprint(b)\nc = 1").size(), 3u);
}

TEST(Parser, ScopingRules) {
  // Shadowing in an inner block; the initializer sees the outer variable.
  EXPECT_EQ(first_error("let x = 1\nif true { let x = x + 1 }"), "");
  // Functions see globals declared later, and their block's later lets.
  EXPECT_EQ(first_error("fn f() { return g() }\nfn g() { return later }\nlet later = 1"), "");
  EXPECT_EQ(first_error("fn f() {\n  let get = fn() { return y }\n  let y = 1\n  return get()\n}"), "");
  // A block's own code sees a let only after it.
  EXPECT_EQ(first_error("fn f() {\n  print(y)\n  let y = 1\n}"), "2:9 undefined variable 'y'");
  // A for variable is scoped to its loop.
  EXPECT_EQ(first_error("fn f() {\n  for i in 0..2 { }\n  return i\n}"), "3:10 undefined variable 'i'");
}

TEST(Parser, FormatDiagnostics) {
  std::string src = "let a = 1\n\tlet b = @\n";
  auto e = errors_of(src);
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(format_diagnostics("t.wf", src, e),
            "t.wf:2:10: error: invalid character '@'\n\tlet b = @\n\t        ^\n");
}

// A missing '}' is reported at the '{' it leaves open, with where the
// input ends as a note (issue 14).
TEST(Parser, UnclosedBraceNote) {
  std::string src = "fn f() {\n  print(1)\n";
  auto e = errors_of(src);
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(format_diagnostics("t.wf", src, e),
            "t.wf:1:8: error: unclosed '{': unexpected end of file, expected '}'\nfn f() {\n       ^\n"
            "t.wf:2:11: note: the file ends here\n  print(1)\n          ^\n");
}

}  // namespace
}  // namespace weft::lang
