// The resolver: binds every name, finds captured variables, and reports
// the scope errors (undefined or undeclared names, redeclarations, break,
// continue and return out of place).
#pragma once

#include <vector>

#include "lang/ast.h"
#include "lang/compiler.h"
#include "vm/interp/bytecode.h"

namespace weft::lang {

// Annotates the tree of `main` in place. Reads `env` (find_global) and
// tells it the file's own globals, its top-level let/fn names
// (top_level), defining nothing. Errors are
// appended to `errors`.
void resolve(FuncLit* main, Ast& ast, CompileEnv& env, std::vector<Diagnostic>& errors);

}  // namespace weft::lang
