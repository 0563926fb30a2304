// The parser: tokens to a syntax tree, reporting every syntax error it can.
#pragma once

#include <vector>

#include "lang/ast.h"
#include "lang/compiler.h"
#include "lang/lexer.h"
#include "lang/token.h"

namespace weft::lang {

// Parses a whole file into its main function (named "main", no params).
// Errors are appended to `errors`; the tree is then partial (statements
// with errors are dropped) and must not be compiled.
FuncLit* parse(TokenStream& tokens, Ast& ast, std::vector<Diagnostic>& errors);

}  // namespace weft::lang
