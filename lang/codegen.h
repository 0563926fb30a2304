// The code generator: a resolved syntax tree to register bytecode.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "lang/ast.h"
#include "lang/compiler.h"
#include "vm/interp/bytecode.h"

namespace weft::lang {

// Compiles `main` and every function in it, each Proto with its line table
// and stack maps. On success returns every proto made (main first) for the
// caller to adopt; on error appends to `errors` and the result must be
// dropped. Defines the file's globals in `env` (only call it on a tree the
// resolver accepted).
std::vector<std::unique_ptr<Proto>> generate(FuncLit* main, CompileEnv& env,
                                             std::shared_ptr<const std::string> file,
                                             std::vector<Diagnostic>& errors);

}  // namespace weft::lang
