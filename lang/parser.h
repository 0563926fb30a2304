// The parser: tokens to a syntax tree, reporting every syntax error it can.
#pragma once

#include <memory>
#include <vector>

#include "lang/ast.h"
#include "lang/compiler.h"
#include "lang/lexer.h"
#include "lang/token.h"

namespace weft::lang {

// main's FuncLit, made in `ast`: named "main", no parameters, an empty
// body (its statements are never gathered there: see TopLevelParser).
FuncLit* make_main(Ast& ast);

// Parses a file one top-level statement at a time, so that the front end
// holds one statement's tree at once, not the file's (lang/compiler.cpp).
// Errors are appended to `errors`: every syntax error of the file, once
// next() has returned false; a statement with an error is dropped.
class TopLevelParser {
 public:
  TopLevelParser(TokenStream& tokens, std::vector<Diagnostic>& errors);
  ~TopLevelParser();
  TopLevelParser(const TopLevelParser&) = delete;
  TopLevelParser& operator=(const TopLevelParser&) = delete;

  // The next statement of main's body, its nodes made in `ast` (nullptr
  // for an empty statement or one with an error); false at the end of the
  // file, which sets main->body->end_line.
  bool next(Ast& ast, FuncLit* main, Stmt*& out);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace weft::lang
