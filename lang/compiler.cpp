// The front end's driver: lex, parse, resolve, generate; and the format of
// compile errors. Each stage reports every error it can find; a stage runs
// only if the ones before it found none (except lexing, whose errors leave a
// usable token stream, so the parser still looks for its own).
#include "lang/compiler.h"

#include <algorithm>
#include <memory>

#include "lang/ast.h"
#include "lang/codegen.h"
#include "lang/lexer.h"
#include "lang/parser.h"
#include "lang/resolver.h"

namespace weft::lang {

namespace {

// Sorts the errors from `first` on by position, dropping repeats of one.
void sort_errors(std::vector<Diagnostic>& errors, size_t first) {
  auto begin = errors.begin() + std::ptrdiff_t(first);
  std::stable_sort(begin, errors.end(), [](const Diagnostic& a, const Diagnostic& b) {
    return a.line != b.line ? a.line < b.line : a.col < b.col;
  });
  auto last = std::unique(begin, errors.end(), [](const Diagnostic& a, const Diagnostic& b) {
    return a.line == b.line && a.col == b.col;
  });
  errors.erase(last, errors.end());
}

std::string_view source_line(std::string_view source, int line) {
  size_t start = 0;
  for (int l = 1; l < line; l++) {
    size_t nl = source.find('\n', start);
    if (nl == std::string_view::npos) return {};
    start = nl + 1;
  }
  size_t end = source.find('\n', start);
  std::string_view text = source.substr(start, end == std::string_view::npos ? source.size() - start : end - start);
  if (line == 1 && text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // columns start after a BOM
  if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
  return text;
}

// "FILE:LINE:COL: WHAT", the source line and a caret under COL.
void located(std::string& out, std::string_view file, std::string_view source, int line, int col,
             const std::string& what) {
  out += std::string(file) + ":" + std::to_string(line) + ":" + std::to_string(col) + ": " + what + "\n";
  std::string_view text = source_line(source, line);
  out += text;
  out += '\n';
  for (int i = 0; i + 1 < col; i++) out += size_t(i) < text.size() && text[size_t(i)] == '\t' ? '\t' : ' ';
  out += "^\n";
}

}  // namespace

namespace {

// Pass 1: parses each statement of main, tells the resolver of it (which
// lets may become locals, the file's globals, its errors) and the plan,
// then frees its tree. Every syntax error goes to `errors`.
void survey(std::string_view source, FuncLit* main, TopLevelResolver& resolver, MainPlan& plan,
            std::vector<Diagnostic>& errors) {
  TokenStream tokens(source, errors);
  TopLevelParser parser(tokens, errors);
  Ast ast;
  size_t first = errors.size();
  Stmt* s;
  while (parser.next(ast, main, s)) {
    if (s && errors.size() == first) {  // a file with a syntax error goes no further
      resolver.survey(s, ast);
      plan.note(s);
    }
    ast.clear();
  }
}

// Pass 2, for a file pass 1 found no errors in: parses each statement
// again, resolves it and generates its code, then frees its tree.
std::vector<std::unique_ptr<Proto>> translate(std::string_view source, FuncLit* main, TopLevelResolver& resolver,
                                              MainGen& gen) {
  std::vector<Diagnostic> again;  // the lexer's and parser's, reported by pass 1
  TokenStream tokens(source, again);
  TopLevelParser parser(tokens, again);
  Ast ast;
  Stmt* s;
  while (parser.next(ast, main, s)) {
    if (s) {
      resolver.resolve(s, ast);
      gen.statement(s);
    }
    ast.clear();
  }
  return gen.finish();
}

}  // namespace

// Two passes over the source, each holding one top-level statement's tree
// at a time (the design comment of lang/resolver.cpp says why).
Proto* compile(CompileEnv& env, std::string_view file, std::string_view source,
               std::vector<Diagnostic>& errors) {
  size_t first = errors.size();
  Ast top;  // main's node and its private lets' Vars: they last both passes
  FuncLit* main = make_main(top);
  TopLevelResolver resolver(main, env, errors);
  MainPlan plan;
  survey(source, main, resolver, plan, errors);
  if (errors.size() == first) resolver.decide(top);  // reports the resolver's errors
  std::vector<std::unique_ptr<Proto>> protos;
  std::vector<Diagnostic> gen_errors;
  if (errors.size() == first) {  // code generation defines globals in env: only for a file without errors
    MainGen gen(main, plan, resolver.private_lets(), env, std::make_shared<const std::string>(file), gen_errors);
    protos = translate(source, main, resolver, gen);
  }
  if (errors.size() == first) errors.insert(errors.end(), gen_errors.begin(), gen_errors.end());
  if (errors.size() != first) {
    sort_errors(errors, first);
    return nullptr;
  }
  Proto* result = nullptr;
  for (auto& p : protos) {
    Proto* adopted = env.adopt(std::move(p));
    if (!result) result = adopted;  // main comes first
  }
  return result;
}

std::string format_diagnostics(std::string_view file, std::string_view source,
                               const std::vector<Diagnostic>& errors) {
  std::string out;
  for (const Diagnostic& d : errors) {
    located(out, file, source, d.line, d.col, "error: " + d.message);
    if (!d.note.empty()) located(out, file, source, d.note_line, d.note_col, "note: " + d.note);
  }
  return out;
}

}  // namespace weft::lang
