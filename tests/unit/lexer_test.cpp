// The lexer: tokens, literals, escapes, the newline rule, and its errors.
#include <gtest/gtest.h>

#include "lang/lexer.h"

namespace weft::lang {
namespace {

std::vector<Tok> kinds(std::string_view src) {
  std::vector<Diagnostic> errors;
  std::vector<Tok> out;
  for (const Token& t : lex(src, errors)) out.push_back(t.kind);
  EXPECT_TRUE(errors.empty()) << errors[0].message;
  return out;
}

std::vector<Token> tokens(std::string_view src) {
  std::vector<Diagnostic> errors;
  std::vector<Token> out = lex(src, errors);
  EXPECT_TRUE(errors.empty()) << errors[0].message;
  return out;
}

std::vector<Diagnostic> errors_of(std::string_view src) {
  std::vector<Diagnostic> errors;
  lex(src, errors);
  return errors;
}

TEST(Lexer, NewlineEndsStatementAfterOperandsOnly) {
  EXPECT_EQ(kinds("x\ny"), (std::vector<Tok>{Tok::Ident, Tok::Newline, Tok::Ident, Tok::Newline, Tok::Eof}));
  // After an operator the line goes on.
  EXPECT_EQ(kinds("a +\nb"), (std::vector<Tok>{Tok::Ident, Tok::Plus, Tok::Ident, Tok::Newline, Tok::Eof}));
  EXPECT_EQ(kinds("f(\n)"), (std::vector<Tok>{Tok::Ident, Tok::LParen, Tok::RParen, Tok::Newline, Tok::Eof}));
  for (const char* src : {"return\n", "break\n", "continue\n", "x]\n", "}\n", "nil\n", "\"s\"\n", "1.5\n"}) {
    std::vector<Tok> k = kinds(src);
    ASSERT_GE(k.size(), 3u) << src;
    EXPECT_EQ(k[k.size() - 2], Tok::Newline) << src;
  }
  EXPECT_EQ(kinds("let\n"), (std::vector<Tok>{Tok::Let, Tok::Eof}));
}

TEST(Lexer, BlockCommentSpanningLinesIsANewline) {
  EXPECT_EQ(kinds("x /* a\nb */ y"), (std::vector<Tok>{Tok::Ident, Tok::Newline, Tok::Ident, Tok::Newline, Tok::Eof}));
  EXPECT_EQ(kinds("x /* a */ y // c"), (std::vector<Tok>{Tok::Ident, Tok::Ident, Tok::Newline, Tok::Eof}));
}

TEST(Lexer, Integers) {
  auto t = tokens("42 0x2a 0b101010 1_000_000 0X_FF 9223372036854775807");
  EXPECT_EQ(t[0].ival, 42);
  EXPECT_EQ(t[1].ival, 42);
  EXPECT_EQ(t[2].ival, 42);
  EXPECT_EQ(t[3].ival, 1000000);
  EXPECT_EQ(t[4].ival, 255);
  EXPECT_EQ(t[5].ival, INT64_MAX);
  for (int i = 0; i < 6; i++) EXPECT_EQ(t[size_t(i)].kind, Tok::Int);
}

TEST(Lexer, Floats) {
  auto t = tokens("1.5 1e9 2.5e-3 3E+2");
  EXPECT_EQ(t[0].kind, Tok::Float);
  EXPECT_DOUBLE_EQ(t[0].fval, 1.5);
  EXPECT_DOUBLE_EQ(t[1].fval, 1e9);
  EXPECT_DOUBLE_EQ(t[2].fval, 2.5e-3);
  EXPECT_DOUBLE_EQ(t[3].fval, 300);
  // `.5` is not a float; `1..3` is a range.
  EXPECT_EQ(kinds(".5"), (std::vector<Tok>{Tok::Dot, Tok::Int, Tok::Newline, Tok::Eof}));
  EXPECT_EQ(kinds("1..3"), (std::vector<Tok>{Tok::Int, Tok::DotDot, Tok::Int, Tok::Newline, Tok::Eof}));
}

TEST(Lexer, StringEscapes) {
  auto t = tokens(R"("a\nb\t\r\0\\\"\x41\u{e9}\u{1F600}")");
  ASSERT_EQ(t[0].kind, Tok::String);
  EXPECT_EQ(t[0].str, std::string("a\nb\t\r\0\\\"A\xC3\xA9\xF0\x9F\x98\x80", 15));
}

TEST(Lexer, RawStringsSpanLinesWithoutEscapes) {
  auto t = tokens("`a\\n\nb` x");
  EXPECT_EQ(t[0].str, "a\\n\nb");
  EXPECT_EQ(t[0].line, 1);
  EXPECT_EQ(t[1].kind, Tok::Ident);
  EXPECT_EQ(t[1].line, 2);
  EXPECT_EQ(t[1].col, 4);
}

TEST(Lexer, OperatorsAndPositions) {
  EXPECT_EQ(kinds("a <- b += -= *= /= %= == != <= >= && || ! .."),
            (std::vector<Tok>{Tok::Ident, Tok::Arrow, Tok::Ident, Tok::PlusAssign, Tok::MinusAssign,
                              Tok::StarAssign, Tok::SlashAssign, Tok::PercentAssign, Tok::Eq, Tok::Ne,
                              Tok::Le, Tok::Ge, Tok::AndAnd, Tok::OrOr, Tok::Bang, Tok::DotDot, Tok::Eof}));
  auto t = tokens("let x = 1\n  foo");
  EXPECT_EQ(t[1].col, 5);
  EXPECT_EQ(t[5].line, 2);
  EXPECT_EQ(t[5].col, 3);
}

TEST(Lexer, BitwiseOperatorsLongestMatch) {
  EXPECT_EQ(kinds("& | ^ ~ << >> &= |= ^= <<= >>= && || <- <= >= < >"),
            (std::vector<Tok>{Tok::Amp, Tok::Pipe, Tok::Caret, Tok::Tilde, Tok::Shl, Tok::Shr, Tok::AmpAssign,
                              Tok::PipeAssign, Tok::CaretAssign, Tok::ShlAssign, Tok::ShrAssign, Tok::AndAnd,
                              Tok::OrOr, Tok::Arrow, Tok::Le, Tok::Ge, Tok::Lt, Tok::Gt, Tok::Eof}));
  EXPECT_EQ(kinds("a <<-b"), (std::vector<Tok>{Tok::Ident, Tok::Shl, Tok::Minus, Tok::Ident, Tok::Newline, Tok::Eof}));
  EXPECT_EQ(kinds("a &\nb"), (std::vector<Tok>{Tok::Ident, Tok::Amp, Tok::Ident, Tok::Newline, Tok::Eof}));
}

TEST(Lexer, ByteOrderMarkAndShebangLine) {
  auto t = tokens("\xEF\xBB\xBFlet x");
  EXPECT_EQ(t[0].kind, Tok::Let);
  EXPECT_EQ(t[0].col, 1);  // columns count from after the mark
  EXPECT_EQ(t[1].col, 5);
  t = tokens("#!/usr/bin/env vm \"'\nx");
  EXPECT_EQ(t[0].kind, Tok::Ident);
  EXPECT_EQ(t[0].line, 2);
  EXPECT_EQ(kinds("\xEF\xBB\xBF#!vm\n\ny"), (std::vector<Tok>{Tok::Ident, Tok::Newline, Tok::Eof}));
  EXPECT_EQ(kinds("#!"), (std::vector<Tok>{Tok::Eof}));
  EXPECT_EQ(errors_of("x\n#!vm").size(), 1u);  // only on the first line: here an invalid '#'
}

TEST(Lexer, Keywords) {
  EXPECT_EQ(kinds("fn go select case default in letter"),
            (std::vector<Tok>{Tok::Fn, Tok::Go, Tok::Select, Tok::Case, Tok::Default, Tok::In, Tok::Ident,
                              Tok::Newline, Tok::Eof}));
}

TEST(Lexer, Errors) {
  auto e = errors_of("let s = \"abc\nx");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].message, "unterminated string");
  EXPECT_EQ(e[0].line, 1);
  EXPECT_EQ(e[0].col, 9);

  e = errors_of("x /* never");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].message, "unterminated comment");
  EXPECT_EQ(e[0].col, 3);

  e = errors_of("\"a\\qb\"");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].message, "invalid escape sequence '\\q'");
  EXPECT_EQ(e[0].col, 3);

  e = errors_of("0x");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].message, "invalid number literal '0x'");

  e = errors_of("9223372036854775808");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].message, "invalid number literal '9223372036854775808'");

  e = errors_of("12ab 1e 0b102 1__0");
  EXPECT_EQ(e.size(), 4u);

  e = errors_of("a @ b");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].message, "invalid character '@'");
  EXPECT_EQ(e[0].col, 3);

  e = errors_of("`open");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].message, "unterminated string");
}

}  // namespace
}  // namespace weft::lang
