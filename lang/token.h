// Tokens: what the lexer (lexer.re) hands the parser.
//
// The lexer turns the whole file into a vector of tokens up front; the
// parser then looks ahead freely. Statement ends follow Go's rule: a newline
// becomes a Newline token only when the token before it can end a statement
// (see ends_statement), so `a +\n b` is one expression.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace weft::lang {

// clang-format off
#define WEFT_TOKENS(T)                                                   \
  T(Eof, "end of file") T(Newline, "newline") T(Semicolon, "';'")        \
  T(Ident, "identifier") T(Int, "number") T(Float, "number")            \
  T(String, "string") T(Invalid, "invalid token")                        \
  T(Let, "'let'") T(Fn, "'fn'") T(Return, "'return'") T(If, "'if'")      \
  T(Else, "'else'") T(While, "'while'") T(For, "'for'") T(In, "'in'")    \
  T(Break, "'break'") T(Continue, "'continue'") T(Go, "'go'")            \
  T(Select, "'select'") T(Case, "'case'") T(Default, "'default'")        \
  T(Nil, "'nil'") T(True, "'true'") T(False, "'false'")                  \
  T(LParen, "'('") T(RParen, "')'") T(LBracket, "'['")                   \
  T(RBracket, "']'") T(LBrace, "'{'") T(RBrace, "'}'")                   \
  T(Comma, "','") T(Dot, "'.'") T(DotDot, "'..'") T(Colon, "':'")        \
  T(Arrow, "'<-'") T(Plus, "'+'") T(Minus, "'-'") T(Star, "'*'")         \
  T(Slash, "'/'") T(Percent, "'%'") T(Bang, "'!'") T(Assign, "'='")      \
  T(PlusAssign, "'+='") T(MinusAssign, "'-='") T(StarAssign, "'*='")     \
  T(SlashAssign, "'/='") T(PercentAssign, "'%='")                        \
  T(Amp, "'&'") T(Pipe, "'|'") T(Caret, "'^'") T(Tilde, "'~'")          \
  T(Shl, "'<<'") T(Shr, "'>>'") T(AmpAssign, "'&='")                     \
  T(PipeAssign, "'|='") T(CaretAssign, "'^='") T(ShlAssign, "'<<='")     \
  T(ShrAssign, "'>>='")                                                  \
  T(Eq, "'=='") T(Ne, "'!='") T(Lt, "'<'") T(Le, "'<='") T(Gt, "'>'")    \
  T(Ge, "'>='") T(AndAnd, "'&&'") T(OrOr, "'||'")
// clang-format on

enum class Tok : uint8_t {
#define WEFT_TOK_ENUM(name, text) name,
  WEFT_TOKENS(WEFT_TOK_ENUM)
#undef WEFT_TOK_ENUM
};

struct Token {
  Tok kind = Tok::Eof;
  int line = 1;            // 1-based
  int col = 1;             // 1-based, in bytes
  std::string_view text;   // the source bytes of the token (empty for Eof)
  std::string str;         // String: the decoded value
                           // (Invalid: bad input the lexer already reported)
  int64_t ival = 0;        // Int
  double fval = 0;         // Float
};

// The token's kind as error messages name it: "'}'", "newline", ...
const char* token_name(Tok kind);

// "'}'", "newline", "identifier 'x'", "number 42": for "unexpected ...".
std::string describe(const Token& t);

}  // namespace weft::lang
