// The lexer: re2c matches the regular tokens (keywords, identifiers,
// numbers, operators, line comments); strings and block comments are
// scanned by hand, since their escapes and error positions are easier to
// get right in plain code than in a sub-automaton.
//
// The source is copied with a NUL sentinel appended (re2c's sentinel method,
// no refill: the whole file is in memory). A NUL before the end is an
// invalid character. Token text is mapped back into the caller's buffer.
//
// Statement ends (Go's rule): a newline, or a block comment spanning lines,
// yields a Newline token iff the previous token is an identifier, a literal,
// `)`, `]`, `}`, `return`, `break` or `continue`; the end of the file does
// too. The parser skips Newline tokens inside brackets.
#include "lang/lexer.h"

#include <cstdio>
#include <cstdlib>
#include <vector>
#include <memory>
#include <string>

namespace weft::lang {

const char* token_name(Tok kind) {
  static const char* const kNames[] = {
#define WEFT_TOK_NAME(name, text) text,
      WEFT_TOKENS(WEFT_TOK_NAME)
#undef WEFT_TOK_NAME
  };
  return kNames[static_cast<int>(kind)];
}

std::string describe(const Token& t) {
  switch (t.kind) {
    case Tok::Ident: return "identifier '" + std::string(t.text) + "'";
    case Tok::Int:
    case Tok::Float: return "number " + std::string(t.text);
    case Tok::String: return "string";
    default: return token_name(t.kind);
  }
}

namespace {

using uchar = unsigned char;

bool ends_statement(Tok k) {
  switch (k) {
    case Tok::Ident: case Tok::Int: case Tok::Float: case Tok::String:
    case Tok::Invalid: case Tok::Nil: case Tok::True: case Tok::False:
    case Tok::RParen: case Tok::RBracket: case Tok::RBrace:
    case Tok::Return: case Tok::Break: case Tok::Continue:
      return true;
    default:
      return false;
  }
}

int hex_value(uchar c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

int digit_value(uchar c, int base) {
  int v = hex_value(c);
  return v >= 0 && v < base ? v : -1;
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += char(cp);
  } else if (cp < 0x800) {
    out += char(0xC0 | cp >> 6);
    out += char(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += char(0xE0 | cp >> 12);
    out += char(0x80 | (cp >> 6 & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  } else {
    out += char(0xF0 | cp >> 18);
    out += char(0x80 | (cp >> 12 & 0x3F));
    out += char(0x80 | (cp >> 6 & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  }
}

// Digits of `base` with `_` only between digits. Returns false on any
// other character, a misplaced `_`, no digits, or int64 overflow.
bool parse_digits(std::string_view s, int base, int64_t& out) {
  if (s.empty()) return false;
  uint64_t v = 0;
  bool prev_digit = false;
  for (size_t i = 0; i < s.size(); i++) {
    if (s[i] == '_') {
      if (!prev_digit || i + 1 == s.size()) return false;
      prev_digit = false;
      continue;
    }
    int d = digit_value(uchar(s[i]), base);
    if (d < 0) return false;
    if (v > (uint64_t(INT64_MAX) - uint64_t(d)) / uint64_t(base)) return false;
    v = v * uint64_t(base) + uint64_t(d);
    prev_digit = true;
  }
  out = int64_t(v);
  return true;
}

// A decimal float: digits [. digits] [e [+-] digits], `_` between digits.
bool parse_float(std::string_view s, double& out) {
  std::string clean;
  size_t i = 0;
  auto digits = [&]() {
    size_t start = i;
    bool prev_digit = false;
    while (i < s.size() && ((s[i] >= '0' && s[i] <= '9') || s[i] == '_')) {
      if (s[i] == '_') {
        if (!prev_digit || i + 1 >= s.size() || s[i + 1] < '0' || s[i + 1] > '9') return false;
        prev_digit = false;
      } else {
        clean += s[i];
        prev_digit = true;
      }
      i++;
    }
    return i > start;
  };
  if (!digits()) return false;
  if (i < s.size() && s[i] == '.') {
    clean += s[i++];
    if (!digits()) return false;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    clean += s[i++];
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) clean += s[i++];
    if (!digits()) return false;
  }
  if (i != s.size()) return false;
  out = std::strtod(clean.c_str(), nullptr);
  return true;
}

}  // namespace

// The tokens scanned and not yet forgotten, oldest first: a queue whose
// elements keep their addresses while more are pushed (the parser holds
// references), in chunks of 256 tokens, recycled as the front is popped
// (a popped token is overwritten, not destroyed). std::deque did this in
// 512-byte nodes of 6 tokens, and its indexing and node churn were a third
// of a compile's CPU (perf, 10 MB of `a = a + 1`: TokenStream::at 24%,
// deque::emplace_back 8%).
class TokenQueue {
 public:
  size_t size() const { return end_ - begin_; }
  bool empty() const { return end_ == begin_; }
  Token& operator[](size_t i) { return slot(begin_ + i); }
  Token& back() { return slot(end_ - 1); }
  const Token& back() const { return chunks_[(end_ - 1) >> kShift][(end_ - 1) & kMask]; }
  void push_back(Token&& t) {
    if (end_ == chunks_.size() << kShift) {
      if (spare_.empty()) {
        chunks_.push_back(std::make_unique<Token[]>(kChunk));
      } else {
        chunks_.push_back(std::move(spare_.back()));
        spare_.pop_back();
      }
    }
    slot(end_++) = std::move(t);
  }
  void pop_front() {
    if (++begin_ < kChunk) return;
    spare_.push_back(std::move(chunks_.front()));
    chunks_.erase(chunks_.begin());
    begin_ -= kChunk;
    end_ -= kChunk;
  }

 private:
  static constexpr size_t kShift = 8, kChunk = size_t(1) << kShift, kMask = kChunk - 1;
  Token& slot(size_t k) { return chunks_[k >> kShift][k & kMask]; }
  std::vector<std::unique_ptr<Token[]>> chunks_, spare_;
  size_t begin_ = 0, end_ = 0;  // positions in chunks_; begin_ < kChunk
};

// Scans on demand (TokenStream): tokens_ holds the ones scanned and not yet
// forgotten; tokens_.back() is always the last one scanned (the stream
// keeps at least one), which the newline rule looks at.
class Lexer {
 public:
  Lexer(std::string_view source, std::vector<Diagnostic>& errors)
      : source_(source), buf_(source), errors_(errors) {
    cur_ = reinterpret_cast<const uchar*>(buf_.c_str());
    begin_ = cur_;
    end_ = begin_ + buf_.size();
    line_start_ = begin_;
    skip_file_header();
  }

  // Scans until a token more is in tokens_, or to the end (after Eof).
  // False once Eof has been pushed.
  bool more() {
    size_t had = tokens_.size();
    while (!done_ && tokens_.size() == had) done_ = !scan();
    return tokens_.size() > had;
  }
  TokenQueue& tokens() { return tokens_; }

 private:
  std::string_view source_;
  std::string buf_;  // source_ plus the NUL sentinel
  std::vector<Diagnostic>& errors_;
  const uchar* begin_;
  const uchar* end_;  // the sentinel
  const uchar* cur_;
  const uchar* tok_ = nullptr;
  const uchar* line_start_;
  int line_ = 1;
  bool done_ = false;  // Eof is pushed
  TokenQueue tokens_;

  int col_of(const uchar* p) const { return int(p - line_start_) + 1; }

  // A UTF-8 byte order mark at the very start, then a `#!` first line
  // (`#!/usr/bin/env vm` scripts), are not part of the program. Columns on line 1
  // count from after the mark, as an editor shows them; the `#!` line's
  // newline stays, and makes no token since nothing precedes it.
  void skip_file_header() {
    if (end_ - cur_ >= 3 && cur_[0] == 0xEF && cur_[1] == 0xBB && cur_[2] == 0xBF) {
      cur_ += 3;
      line_start_ = cur_;
    }
    if (cur_[0] == '#' && cur_[1] == '!') {
      while (cur_ < end_ && *cur_ != '\n') cur_++;
    }
  }

  void error_at(const uchar* p, std::string msg) {
    errors_.push_back({line_, col_of(p), std::move(msg)});
  }
  // Only for positions on an earlier line than the current one.
  void error_at(int line, int col, std::string msg) { errors_.push_back({line, col, std::move(msg)}); }

  Token& push(Tok kind, const uchar* start, int line, int col) {
    Token t;
    t.kind = kind;
    t.line = line;
    t.col = col;
    t.text = source_.substr(size_t(start - begin_), size_t(cur_ - start));
    tokens_.push_back(std::move(t));
    return tokens_.back();
  }
  Token& push(Tok kind) { return push(kind, tok_, line_, col_of(tok_)); }

  bool last_ends_statement() const { return !tokens_.empty() && ends_statement(tokens_.back().kind); }

  // A line break at p: emits a Newline token if the rule says so.
  void newline_at(const uchar* p) {
    if (last_ends_statement()) {
      Token t;
      t.kind = Tok::Newline;
      t.line = line_;
      t.col = col_of(p);
      t.text = "\n";
      tokens_.push_back(std::move(t));
    }
  }
  void next_line(const uchar* after_newline) {
    line_++;
    line_start_ = after_newline;
  }

  void number(int base, size_t prefix) {
    std::string_view text(reinterpret_cast<const char*>(tok_), size_t(cur_ - tok_));
    Token& t = push(Tok::Int);
    bool ok;
    if (base == 10 && text.find_first_of(".eE") != std::string_view::npos) {
      t.kind = Tok::Float;
      ok = parse_float(text, t.fval);
    } else {
      std::string_view digits = text.substr(prefix);
      if (!digits.empty() && digits[0] == '_') digits.remove_prefix(1);  // 0x_ff
      ok = parse_digits(digits, base, t.ival);
    }
    if (!ok) error_at(tok_, "invalid number literal '" + std::string(text) + "'");
  }

  void invalid_character() {
    // Take a whole UTF-8 sequence so the message shows the character.
    while (cur_ < end_ && (*cur_ & 0xC0) == 0x80) cur_++;
    std::string text(reinterpret_cast<const char*>(tok_), size_t(cur_ - tok_));
    if (text.size() == 1 && (uchar(text[0]) < 0x20 || uchar(text[0]) >= 0x80)) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", uchar(text[0]));
      text = hex;
    }
    error_at(tok_, "invalid character '" + text + "'");
    push(Tok::Invalid);
  }

  // One escape after a backslash at `bs`; cur_ is past the backslash.
  void escape(const uchar* bs, std::string& out) {
    uchar c = *cur_;
    const char* simple = nullptr;
    switch (c) {
      case 'n': simple = "\n"; break;
      case 't': simple = "\t"; break;
      case 'r': simple = "\r"; break;
      case '\\': simple = "\\"; break;
      case '"': simple = "\""; break;
      case '0': out += '\0'; cur_++; return;
      default: break;
    }
    if (simple) {
      out += simple;
      cur_++;
      return;
    }
    if (c == 'x' && hex_value(cur_[1]) >= 0 && hex_value(cur_[2]) >= 0) {
      out += char(hex_value(cur_[1]) * 16 + hex_value(cur_[2]));
      cur_ += 3;
      return;
    }
    if (c == 'u' && cur_[1] == '{') {
      const uchar* p = cur_ + 2;
      uint32_t cp = 0;
      int n = 0;
      while (hex_value(*p) >= 0 && n < 8) cp = cp * 16 + uint32_t(hex_value(*p++)), n++;
      if (*p == '}' && n > 0 && cp <= 0x10FFFF && (cp < 0xD800 || cp > 0xDFFF)) {
        append_utf8(out, cp);
        cur_ = p + 1;
        return;
      }
    }
    // Show the backslash and one character (a whole UTF-8 sequence).
    if (c != '\n' && cur_ < end_) {
      cur_++;
      while (cur_ < end_ && (*cur_ & 0xC0) == 0x80) cur_++;
    }
    error_at(bs, "invalid escape sequence '" +
                     std::string(reinterpret_cast<const char*>(bs), size_t(cur_ - bs)) + "'");
  }

  // A "..." string; cur_ is past the opening quote.
  void string() {
    std::string value;
    for (;;) {
      if (cur_ == end_ || *cur_ == '\n') {
        error_at(tok_, "unterminated string");
        break;
      }
      uchar c = *cur_;
      if (c == '"') {
        cur_++;
        break;
      }
      if (c == '\\') {
        const uchar* bs = cur_++;
        escape(bs, value);
        continue;
      }
      value += char(c);
      cur_++;
    }
    push(Tok::String).str = std::move(value);
  }

  // A `...` raw string, which may span lines; cur_ is past the backquote.
  void raw_string() {
    int line = line_, col = col_of(tok_);
    const uchar* start = tok_;
    while (cur_ < end_ && *cur_ != '`') {
      if (*cur_ == '\n') next_line(cur_ + 1);
      cur_++;
    }
    bool closed = cur_ < end_;
    if (closed) cur_++;
    else error_at(line, col, "unterminated string");
    const uchar* body_end = closed ? cur_ - 1 : cur_;
    push(Tok::String, start, line, col).str.assign(reinterpret_cast<const char*>(start + 1),
                                                    size_t(body_end - start - 1));
  }

  // A /* */ comment; cur_ is past the opener.
  void block_comment() {
    int line = line_, col = col_of(tok_);
    const uchar* first_newline = nullptr;
    while (cur_ < end_ && !(cur_[0] == '*' && cur_[1] == '/')) {
      if (*cur_ == '\n') {
        if (!first_newline) {
          first_newline = cur_;
          newline_at(cur_);
        }
        next_line(cur_ + 1);
      }
      cur_++;
    }
    if (cur_ < end_) cur_ += 2;
    else error_at(line, col, "unterminated comment");
  }

  // Eof sits at the end of the last line, so "unexpected end of file"
  // shows that line rather than an empty one.
  void end_of_file() {
    newline_at(cur_);
    tok_ = cur_;
    Token t;
    t.kind = Tok::Eof;
    t.line = line_;
    t.col = col_of(cur_);
    if (cur_ > begin_ && cur_[-1] == '\n' && line_ > 1) {
      const uchar* start = cur_ - 1;
      while (start > begin_ && start[-1] != '\n') start--;
      t.line = line_ - 1;
      t.col = int(cur_ - 1 - start) + 1;
    }
    tokens_.push_back(std::move(t));
  }

  // Scans one token (or skips blanks/comments). False at the end.
  bool scan() {
    const uchar* mar = nullptr;
    tok_ = cur_;
    /*!re2c
      re2c:define:YYCTYPE = uchar;
      re2c:define:YYCURSOR = cur_;
      re2c:define:YYMARKER = mar;
      re2c:yyfill:enable = 0;

      ident = [A-Za-z_][A-Za-z0-9_]*;
      tail = [0-9A-Za-z_]*;

      "\x00" {
        if (tok_ == end_) {
          cur_ = end_;
          end_of_file();
          return false;
        }
        invalid_character();
        return true;
      }
      [ \t\r]+ { return true; }
      "\n" { newline_at(tok_); next_line(cur_); return true; }
      "//" [^\n\x00]* { return true; }
      "/*" { block_comment(); return true; }
      ["] { string(); return true; }
      [`] { raw_string(); return true; }

      "0" [xX] tail { number(16, 2); return true; }
      "0" [bB] tail { number(2, 2); return true; }
      [0-9] [0-9_]* ("." [0-9] [0-9_]*)? ([eE] [+-]? [0-9_]*)? tail { number(10, 0); return true; }

      "let" { push(Tok::Let); return true; }
      "fn" { push(Tok::Fn); return true; }
      "return" { push(Tok::Return); return true; }
      "if" { push(Tok::If); return true; }
      "else" { push(Tok::Else); return true; }
      "while" { push(Tok::While); return true; }
      "for" { push(Tok::For); return true; }
      "in" { push(Tok::In); return true; }
      "break" { push(Tok::Break); return true; }
      "continue" { push(Tok::Continue); return true; }
      "go" { push(Tok::Go); return true; }
      "select" { push(Tok::Select); return true; }
      "case" { push(Tok::Case); return true; }
      "default" { push(Tok::Default); return true; }
      "nil" { push(Tok::Nil); return true; }
      "true" { push(Tok::True); return true; }
      "false" { push(Tok::False); return true; }
      ident { push(Tok::Ident); return true; }

      "(" { push(Tok::LParen); return true; }
      ")" { push(Tok::RParen); return true; }
      "[" { push(Tok::LBracket); return true; }
      "]" { push(Tok::RBracket); return true; }
      "{" { push(Tok::LBrace); return true; }
      "}" { push(Tok::RBrace); return true; }
      "," { push(Tok::Comma); return true; }
      ";" { push(Tok::Semicolon); return true; }
      ".." { push(Tok::DotDot); return true; }
      "." { push(Tok::Dot); return true; }
      ":" { push(Tok::Colon); return true; }
      "<-" { push(Tok::Arrow); return true; }
      "+=" { push(Tok::PlusAssign); return true; }
      "-=" { push(Tok::MinusAssign); return true; }
      "*=" { push(Tok::StarAssign); return true; }
      "/=" { push(Tok::SlashAssign); return true; }
      "%=" { push(Tok::PercentAssign); return true; }
      "&=" { push(Tok::AmpAssign); return true; }
      "|=" { push(Tok::PipeAssign); return true; }
      "^=" { push(Tok::CaretAssign); return true; }
      "<<=" { push(Tok::ShlAssign); return true; }
      ">>=" { push(Tok::ShrAssign); return true; }
      "<<" { push(Tok::Shl); return true; }
      ">>" { push(Tok::Shr); return true; }
      "&" { push(Tok::Amp); return true; }
      "|" { push(Tok::Pipe); return true; }
      "^" { push(Tok::Caret); return true; }
      "~" { push(Tok::Tilde); return true; }
      "+" { push(Tok::Plus); return true; }
      "-" { push(Tok::Minus); return true; }
      "*" { push(Tok::Star); return true; }
      "/" { push(Tok::Slash); return true; }
      "%" { push(Tok::Percent); return true; }
      "==" { push(Tok::Eq); return true; }
      "!=" { push(Tok::Ne); return true; }
      "<=" { push(Tok::Le); return true; }
      ">=" { push(Tok::Ge); return true; }
      "<" { push(Tok::Lt); return true; }
      ">" { push(Tok::Gt); return true; }
      "!" { push(Tok::Bang); return true; }
      "=" { push(Tok::Assign); return true; }
      "&&" { push(Tok::AndAnd); return true; }
      "||" { push(Tok::OrOr); return true; }
      * { invalid_character(); return true; }
    */
  }
};

TokenStream::TokenStream(std::string_view source, std::vector<Diagnostic>& errors)
    : lexer_(std::make_unique<Lexer>(source, errors)) {}
TokenStream::~TokenStream() = default;

const Token& TokenStream::at(size_t i) {
  TokenQueue& toks = lexer_->tokens();
  while (i - base_ >= toks.size()) {
    if (!lexer_->more()) return toks.back();  // past the end: Eof again
  }
  return toks[i - base_];
}

void TokenStream::forget_before(size_t i) {
  TokenQueue& toks = lexer_->tokens();
  while (base_ < i && toks.size() > 1) {
    toks.pop_front();
    base_++;
  }
}

std::vector<Token> lex(std::string_view source, std::vector<Diagnostic>& errors) {
  Lexer lexer(source, errors);
  while (lexer.more()) {
  }
  TokenQueue& toks = lexer.tokens();
  std::vector<Token> all;
  for (size_t i = 0; i < toks.size(); i++) all.push_back(std::move(toks[i]));
  return all;
}

}  // namespace weft::lang
