// The sandbox (weft::Config's enable_*, file_imports, exit_ends_process,
// broken_pipe_exits; docs/embedding.md#sandboxes): an embedded VM offers
// the pure library by default, each refusal is a runtime error with a
// fixed text, os.exit ends the run and never the host process, and a
// vanished stdout reader does not kill the host. Script: sandbox.wf.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <string>

#include "tests/embed/embed_test.h"

namespace {

using weft::Result;

std::string text(const Result& r) { return r.value.to_string().value_or("<" + r.message + ">"); }

struct Sandboxed {
  explicit Sandboxed(weft::Config c = {}) : vm(with_sink(std::move(c), &out)) {
    Result r = vm.load_file(weft::testing::script("sandbox.wf"));
    EXPECT_TRUE(r.ok()) << r.message;
  }
  static weft::Config with_sink(weft::Config c, std::string* out) {
    c.on_out = [out](std::string_view s) { out->append(s); };
    return c;
  }
  std::string out;
  weft::VM vm;
};

TEST(Sandbox, EmbeddedDefaultOffersThePureLibraryOnly) {
  Sandboxed s;
  EXPECT_EQ(text(s.vm.call("try_import", {"fs"})), "import: module \"fs\" is disabled in this VM");
  EXPECT_EQ(text(s.vm.call("try_import", {"os"})), "import: module \"os\" is disabled in this VM");
  EXPECT_EQ(text(s.vm.call("try_readline")), "readline: standard input is disabled in this VM");
  EXPECT_EQ(text(s.vm.call("try_read")), "io.read: standard input is disabled in this VM");
  EXPECT_EQ(text(s.vm.call("try_read_all")), "io.read_all: standard input is disabled in this VM");
  for (const char* m : {"math", "strings", "io"}) EXPECT_EQ(text(s.vm.call("try_import", {m})), "map") << m;
  ASSERT_TRUE(s.vm.call("write_out").ok());
  EXPECT_EQ(s.out, "to the sink\n8.0 OK\n");
}

TEST(Sandbox, HostEnablesModulesAndInput) {
  weft::Config c;
  c.enable_fs = c.enable_os = c.enable_stdin = true;
  Sandboxed s(c);
  EXPECT_EQ(text(s.vm.call("try_import", {"fs"})), "map");
  EXPECT_EQ(text(s.vm.call("try_import", {"os"})), "map");
  // Enabled, io.read goes to standard input (the test's: whatever it
  // holds, the answer is a string or nil, not the refusal).
  Result r = s.vm.call("try_read");
  EXPECT_TRUE(r.ok());
  EXPECT_NE(text(r), "io.read: standard input is disabled in this VM");
}

TEST(Sandbox, FileImportsOff) {
  weft::Config c;
  c.file_imports = weft::Config::FileImports::None;
  Sandboxed s(c);
  EXPECT_EQ(text(s.vm.call("try_import", {"./sandbox/inside"})),
            "import: file modules are disabled in this VM (importing \"./sandbox/inside\")");
  EXPECT_EQ(text(s.vm.call("try_import", {"nosuch"})),
            "import: file modules are disabled in this VM (importing \"nosuch\")");
  EXPECT_EQ(text(s.vm.call("try_import", {"math"})), "map");  // standard modules still
}

TEST(Sandbox, FileImportsLimitedToADirectory) {
  std::string dir = weft::testing::script("");
  {
    weft::Config c;
    c.file_imports = weft::Config::FileImports::Directory;
    c.import_dir = weft::testing::script("sandbox");
    Sandboxed s(c);
    EXPECT_EQ(s.vm.call("inside_answer").value.to_int(), 42);
    EXPECT_EQ(text(s.vm.call("try_import", {"./sandbox_outside"})),
              "import: \"" + dir + "sandbox_outside.wf\" is outside this VM's module directory");
    // `..` from a module inside leads out too: refused.
    EXPECT_EQ(text(s.vm.call("escape")),
              "import: \"" + dir + "sandbox_outside.wf\" is outside this VM's module directory");
  }
  // With the default (Any), the same import works (one VM at a time runs goroutines).
  Sandboxed any;
  EXPECT_EQ(text(any.vm.call("try_import", {"./sandbox_outside"})), "map");
}

TEST(Sandbox, ImportDirThatDoesNotExistAdmitsNothing) {
  weft::Config c;
  c.file_imports = weft::Config::FileImports::Directory;
  c.import_dir = "/no/such/dir";
  Sandboxed s(c);
  std::string dir = weft::testing::script("");
  EXPECT_EQ(text(s.vm.call("try_import", {"./sandbox_outside"})),
            "import: \"" + dir + "sandbox_outside.wf\" is outside this VM's module directory");
}

weft::Config with_os() {
  weft::Config c;
  c.enable_os = true;
  return c;
}

TEST(Sandbox, OsExitEndsTheRunNotTheProcess) {
  Sandboxed s(with_os());
  Result r = s.vm.call("exits", {3});
  EXPECT_EQ(r.kind, Result::Exit);
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.message, "os.exit(3)");
  EXPECT_NE(r.traceback.find("  at exits ("), std::string::npos) << r.traceback;
  EXPECT_EQ(s.out, "before\n");  // nothing after os.exit ran
  EXPECT_EQ(s.vm.call("sum", {1, 2}).value.to_int(), 3);  // the VM goes on
  EXPECT_EQ(s.vm.call("exits", {256 + 9}).exit_code, 9);  // as a process status: code & 0xff
}

TEST(Sandbox, OsExitIsNotCaughtByPcall) {
  Sandboxed s(with_os());
  Result r = s.vm.call("exits_in_pcall");
  EXPECT_EQ(r.kind, Result::Exit);
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_EQ(s.out, "before\n");
}

TEST(Sandbox, OsExitInAnotherGoroutineEndsTheWaitingCall) {
  Sandboxed s(with_os());
  Result r = s.vm.call("exits_in_goroutine");
  EXPECT_EQ(r.kind, Result::Exit);
  EXPECT_EQ(r.exit_code, 5);
  EXPECT_EQ(s.vm.call("sum", {2, 2}).value.to_int(), 4);
}

TEST(Sandbox, OsExitInAProgramRun) {
  Sandboxed s(with_os());
  Result r = s.vm.run_source("p.wf", "print(1)\nimport(\"os\").exit(6)\nprint(2)\n");
  EXPECT_EQ(r.kind, Result::Exit);
  EXPECT_EQ(r.exit_code, 6);
  EXPECT_EQ(s.out, "1\n");
}

TEST(Sandbox, ResultKindsHaveNames) {
  EXPECT_STREQ(weft::to_string(Result::Ok), "ok");
  EXPECT_STREQ(weft::to_string(Result::Runtime), "runtime error");
  EXPECT_STREQ(weft::to_string(Result::Exit), "exit");
  EXPECT_STREQ(weft::to_string(Result::Deadlock), "deadlock");
}

// Standard output into a pipe whose reader has gone: the embedding host
// lives on (the `vm` binary's 141 is tests/scripts' and the CLI tests').
// In a re-executed child (a death test), with SIGPIPE ignored as a server
// would, stdout a pipe with no reader.
void print_into_a_broken_pipe() {
  signal(SIGPIPE, SIG_IGN);
  int fds[2];
  if (pipe(fds) != 0) _exit(10);
  close(fds[0]);
  if (dup2(fds[1], 1) < 0) _exit(11);
  weft::VM vm;  // Config::out is stdout; broken_pipe_exits false
  Result r = vm.run_source("p.wf", "for i in 0..2000 { print(\"line\", i) }\nimport(\"io\").flush()\n");
  _exit(r.ok() ? 7 : 8);
}

TEST(SandboxDeathTest, BrokenStdoutDoesNotEndTheHost) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(print_into_a_broken_pipe(), ::testing::ExitedWithCode(7), "");
}

}  // namespace
