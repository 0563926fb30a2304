// The resolver: binds every name, finds captured variables, and reports
// the scope errors (undefined or undeclared names, redeclarations, break,
// continue and return out of place).
#pragma once

#include <memory>
#include <vector>

#include "lang/ast.h"
#include "lang/compiler.h"
#include "vm/interp/bytecode.h"

namespace weft::lang {

// Binds main's statements one at a time, in the two passes over the file
// that lang/compiler.cpp makes (each statement's tree is freed before the
// next is parsed). Pass 1, survey(), sees every statement in order and
// learns the file's globals and which top-level lets may become locals of
// main; decide() chooses them; pass 2, resolve(), annotates each statement
// of a second parse for the code generator. Reads `env` (find_global) and
// tells it the file's own globals, its top-level let/fn names
// (top_level), defining nothing. Errors are appended to `errors`:
// redeclared globals by pass 1, the rest by pass 2.
class TopLevelResolver {
 public:
  TopLevelResolver(FuncLit* main, CompileEnv& env, std::vector<Diagnostic>& errors);
  ~TopLevelResolver();
  TopLevelResolver(const TopLevelResolver&) = delete;
  TopLevelResolver& operator=(const TopLevelResolver&) = delete;

  void survey(Stmt* s, Ast& ast);  // Vars of s made in ast
  void decide(Ast& top);           // the private lets' Vars made in top, which outlives pass 2
  void resolve(Stmt* s, Ast& ast);
  // How many lets became locals of main (after decide): registers the
  // code generator reserves (local_slots).
  int private_lets() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace weft::lang
