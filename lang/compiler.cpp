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

Proto* compile(CompileEnv& env, std::string_view file, std::string_view source,
               std::vector<Diagnostic>& errors) {
  size_t first = errors.size();
  Ast ast;
  FuncLit* main;
  {
    TokenStream tokens(source, errors);  // scanned as the parser goes; freed before the later stages
    main = parse(tokens, ast, errors);
  }
  if (errors.size() == first) resolve(main, ast, env, errors);
  std::vector<std::unique_ptr<Proto>> protos;
  if (errors.size() == first)
    protos = generate(main, env, std::make_shared<const std::string>(file), errors);
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
