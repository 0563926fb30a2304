// The code generator: a resolved syntax tree to register bytecode.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "lang/ast.h"
#include "lang/compiler.h"
#include "vm/interp/bytecode.h"

namespace weft::lang {

// What the code generator must know of main's body before its first
// statement, gathered as pass 1 of lang/compiler.cpp sees each statement
// (resolved): main's prologue makes every top-level fn's closure
// (hoisting), interns the selects' descriptors (8-bit constant operands)
// and decides whether main spills.
struct MainPlan {
  std::vector<std::pair<std::string, int>> fns;  // top-level fn names and lines, in order
  std::vector<int64_t> selects;                  // descriptors of main's own selects, in order
  int inner_slots = 0;  // registers the locals of one statement other than a let take, at most
  void note(Stmt* s);
};

// Compiles main one statement at a time (pass 2 of lang/compiler.cpp),
// with every function in each statement: each Proto with its line table
// and stack maps. Defines the file's globals in `env`. Only give it
// statements the resolver accepted; on an error, it appends to `errors`,
// and finish()'s protos must be dropped.
class MainGen {
 public:
  MainGen(FuncLit* main, const MainPlan& plan, int private_lets, CompileEnv& env,
          std::shared_ptr<const std::string> file, std::vector<Diagnostic>& errors);
  ~MainGen();
  MainGen(const MainGen&) = delete;
  MainGen& operator=(const MainGen&) = delete;

  void statement(Stmt* s);
  // Every proto made, main first, for the caller to adopt.
  std::vector<std::unique_ptr<Proto>> finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace weft::lang
