// The parser: recursive descent for statements, precedence climbing for
// binary operators (README.md#the-language-in-brief, lowest first: || && ==,!= <,<=,>,>=
// +,-,|,^ *,/,%,<<,>>,&, Go's levels; then unary - ! <- ~; then postfix
// call, index, field).
//
// Error recovery: a syntax error records a diagnostic and unwinds (with a
// private exception that never leaves this file) to the statement loop,
// which skips to the next statement boundary (a newline or `;` at brace
// depth 0, or the `}` that closes the block) and goes on. So every
// statement with an error yields one diagnostic, and the statements after
// it are still checked. Rejected: error nodes threaded through every
// production (much more code for the same messages).
//
// Newlines: the lexer emits Newline tokens by Go's rule. Inside (), [] and
// map literals the parser skips them, so multi-line calls and literals need
// no trailing commas; a function literal's body resets that.
#include "lang/parser.h"

#include <string>

namespace weft::lang {

namespace {

struct ParseError {};  // unwinds to the statement loop; never escapes parse()

int precedence(Tok t) {
  switch (t) {
    case Tok::OrOr: return 1;
    case Tok::AndAnd: return 2;
    case Tok::Eq: case Tok::Ne: return 3;
    case Tok::Lt: case Tok::Le: case Tok::Gt: case Tok::Ge: return 4;
    case Tok::Plus: case Tok::Minus: case Tok::Pipe: case Tok::Caret: return 5;
    case Tok::Star: case Tok::Slash: case Tok::Percent:
    case Tok::Shl: case Tok::Shr: case Tok::Amp: return 6;
    default: return 0;
  }
}

bool is_compound_assign(Tok t) {
  switch (t) {
    case Tok::PlusAssign: case Tok::MinusAssign: case Tok::StarAssign: case Tok::SlashAssign:
    case Tok::PercentAssign: case Tok::AmpAssign: case Tok::PipeAssign: case Tok::CaretAssign:
    case Tok::ShlAssign: case Tok::ShrAssign:
      return true;
    default:
      return false;
  }
}

class Parser {
 public:
  Parser(TokenStream& tokens, Ast* ast, std::vector<Diagnostic>& errors)
      : toks_(tokens), ast_(ast), errors_(errors) {}

  // One top-level statement of main's body into *out (nullptr: an empty
  // statement, a stray '}' or a syntax error, each reported); false at the
  // end of the file, which sets main's end_line.
  bool top_statement(Ast& ast, FuncLit* main, Stmt*& out) {
    ast_ = &ast;
    fn_ = main;
    out = nullptr;
    if (peek().kind == Tok::Eof) {
      main->body->end_line = peek().line;
      return false;
    }
    if (peek().kind == Tok::RBrace) {
      error_here("unexpected '}'");
      pos_++;
      return true;
    }
    out = statement_or_skip();
    // Between top-level statements nothing refers to a token before the
    // last one (terminator and after_skipped_newline look back one).
    if (pos_ > 0) toks_.forget_before(pos_ - 1);
    return true;
  }

 private:
  TokenStream& toks_;
  Ast* ast_;  // where nodes are made: top_statement's
  std::vector<Diagnostic>& errors_;
  size_t pos_ = 0;
  int nesting_ = 0;          // open (), [] and map literals: newlines are skipped
  int depth_ = 0;            // recursion depth (kMaxDepth bounds it); see Deeper
  FuncLit* fn_ = nullptr;    // the function being parsed
  int last_error_line_ = 0, last_error_col_ = 0;
  bool unclosed_reported_ = false;  // close_brace has reported an unclosed brace

  // ---- tokens

  const Token& peek() {
    if (nesting_ > 0)
      while (toks_.at(pos_).kind == Tok::Newline) pos_++;
    return toks_.at(pos_);
  }
  const Token& advance() {
    const Token& t = peek();
    if (t.kind != Tok::Eof) pos_++;
    return t;
  }
  bool accept(Tok k) {
    if (peek().kind != k) return false;
    advance();
    return true;
  }
  const Token& expect(Tok k, const char* what = nullptr) {
    if (peek().kind != k) fail_here("unexpected " + describe(peek()) + ", expected " + (what ? what : token_name(k)));
    return advance();
  }

  // Inside brackets newlines are skipped; an error right after one is
  // reported at the newline ("unexpected newline, expected ')'"), and
  // recovery restarts there, so the next line is still checked.
  bool after_skipped_newline() const {
    return nesting_ > 0 && pos_ > 0 && toks_.at(pos_ - 1).kind == Tok::Newline;
  }

  // ---- errors

  void error_at(int line, int col, std::string msg) {
    if (line == last_error_line_ && col == last_error_col_) return;  // no duplicates
    last_error_line_ = line;
    last_error_col_ = col;
    errors_.push_back({line, col, std::move(msg)});
  }
  void error_here(std::string msg) {
    const Token& t = peek();
    error_at(t.line, t.col, std::move(msg));
  }
  [[noreturn]] void fail_here(std::string msg) {
    if (after_skipped_newline()) {
      pos_--;
      const Token& nl = toks_.at(pos_);
      size_t cut = msg.find(", expected");
      std::string rest = cut == std::string::npos ? ", expected expression" : msg.substr(cut);
      error_at(nl.line, nl.col, "unexpected newline" + rest);
    } else {
      error_here(std::move(msg));
    }
    throw ParseError{};
  }
  // The `}` that closes `open`. At the end of the input the error is put
  // at `open` (what the reader must fix), with the end as a note; only the
  // innermost unclosed brace is reported.
  void close_brace(const Token& open, const char* what = nullptr) {
    const Token& t = peek();
    if (t.kind != Tok::Eof) {
      expect(Tok::RBrace, what);
      return;
    }
    if (!unclosed_reported_) {
      errors_.push_back({open.line, open.col, "unclosed '{': unexpected end of file, expected '}'",
                         "the file ends here", t.line, t.col});
      unclosed_reported_ = true;
    }
    throw ParseError{};
  }

  [[noreturn]] void fail_at(const Node* n, std::string msg) {
    error_at(n->line, n->col, std::move(msg));
    throw ParseError{};
  }

  // Skips to the next statement boundary after an error.
  void synchronize() {
    nesting_ = 0;
    int depth = 0;
    for (;;) {
      Tok k = toks_.at(pos_).kind;
      if (k == Tok::Eof) return;
      if (depth == 0 && (k == Tok::Newline || k == Tok::Semicolon)) {
        pos_++;
        return;
      }
      if (k == Tok::RBrace) {
        if (depth == 0) return;
        depth--;
      } else if (k == Tok::LBrace) {
        depth++;
      }
      pos_++;
    }
  }

  // One more level of recursion for the lifetime of this guard: every
  // recursive production takes one, so no input overflows the stack.
  class Deeper {
   public:
    explicit Deeper(Parser& p) : p_(p) {
      if (p_.depth_ >= kMaxDepth) p_.fail_here("nesting too deep");
      p_.depth_++;
    }
    ~Deeper() { p_.depth_--; }
    Deeper(const Deeper&) = delete;
    Deeper& operator=(const Deeper&) = delete;

   private:
    Parser& p_;
  };

  template <typename T>
  T* node(const Token& at) {
    T* n = ast_->make<T>();
    n->line = at.line;
    n->col = at.col;
    return n;
  }
  template <typename T, typename K>
  T* node(const Token& at, K kind) {
    T* n = ast_->make<T>(kind);
    n->line = at.line;
    n->col = at.col;
    return n;
  }

  // ---- statements

  // One statement and its terminator, appended to `block`; on a syntax
  // error, skips to the next statement instead.
  void statement_into(Block* block) {
    if (Stmt* s = statement_or_skip()) block->stmts.push_back(s);
  }
  Stmt* statement_or_skip() {
    Tok k = peek().kind;
    if (k == Tok::Newline || k == Tok::Semicolon) {
      pos_++;
      return nullptr;
    }
    int saved_nesting = nesting_;
    try {
      Stmt* s = statement();
      terminator();
      return s;
    } catch (const ParseError&) {
      nesting_ = saved_nesting;
      synchronize();
      return nullptr;
    }
  }

  void terminator() {
    Tok k = peek().kind;
    if (k == Tok::Newline || k == Tok::Semicolon) {
      pos_++;
      return;
    }
    if (k == Tok::RBrace || k == Tok::Eof) return;
    // Lenient where Go is not: `if c { ... } return x` on one line is fine.
    if (pos_ > 0 && toks_.at(pos_ - 1).kind == Tok::RBrace) return;
    fail_here("unexpected " + describe(peek()) + " at end of statement");
  }

  // `{ statements }`, with newline skipping off inside.
  Block* block() {
    Deeper deeper(*this);
    int saved = nesting_;
    nesting_ = 0;
    const Token& open = expect(Tok::LBrace);
    Block* b = node<Block>(open);
    while (peek().kind != Tok::RBrace && peek().kind != Tok::Eof) statement_into(b);
    b->end_line = peek().line;
    close_brace(open);
    nesting_ = saved;
    return b;
  }

  Stmt* statement() {
    const Token& t = peek();
    switch (t.kind) {
      case Tok::Let: return let_statement();
      case Tok::Fn:
        if (toks_.at(pos_ + 1).kind == Tok::Ident) return fn_declaration();
        return simple_statement();
      case Tok::If: return if_statement();
      case Tok::While: {
        advance();
        WhileStmt* w = node<WhileStmt>(t);
        w->cond = expression();
        w->body = block();
        return w;
      }
      case Tok::For: return for_statement();
      case Tok::Break:
      case Tok::Continue:
        advance();
        return node<SimpleStmt>(t, t.kind == Tok::Break ? StmtKind::Break : StmtKind::Continue);
      case Tok::Return: {
        advance();
        ReturnStmt* r = node<ReturnStmt>(t);
        Tok n = peek().kind;
        if (n != Tok::Newline && n != Tok::Semicolon && n != Tok::RBrace && n != Tok::Eof)
          r->value = expression();
        return r;
      }
      case Tok::Go: {
        advance();
        GoStmt* g = node<GoStmt>(t);
        Expr* e = expression();
        if (e->kind != ExprKind::Call) fail_at(e, "expression in go must be a function call");
        g->call = static_cast<CallExpr*>(e);
        return g;
      }
      case Tok::Select: return select_statement();
      case Tok::LBrace: return block();
      default: return simple_statement();
    }
  }

  Stmt* let_statement() {
    const Token& t = advance();
    LetStmt* s = node<LetStmt>(t);
    s->name = std::string(expect(Tok::Ident, "identifier").text);
    if (accept(Tok::Comma)) {  // `let v, ok = <-ch`: the only two-name let
      s->name2 = std::string(expect(Tok::Ident, "identifier").text);
      expect(Tok::Assign);
      s->init = comma_ok_receive();
      return s;
    }
    if (accept(Tok::Assign)) {
      s->init = expression();
      if (s->init->kind == ExprKind::Function) {
        FuncLit* f = static_cast<FunctionExpr*>(s->init)->fn;
        if (f->name == "<anonymous>") f->name = s->name;
      }
    }
    return s;
  }

  // The right side of a comma-ok receive: exactly `<-ch`.
  Expr* comma_ok_receive() {
    if (peek().kind != Tok::Arrow) fail_here("unexpected " + describe(peek()) + ", expected '<-'");
    Expr* e = expression();
    if (e->kind != ExprKind::Recv) fail_at(e, "two variables need a receive: let v, ok = <-ch");
    return e;
  }

  Stmt* fn_declaration() {
    const Token& t = advance();
    FnDeclStmt* s = node<FnDeclStmt>(t);
    std::string name(advance().text);
    s->fn = function(t, name);
    return s;
  }

  Stmt* if_statement() {
    const Token& t = advance();
    IfStmt* s = node<IfStmt>(t);
    s->cond = expression();
    s->then = block();
    if (accept(Tok::Else)) {
      if (peek().kind == Tok::If) {
        Deeper deeper(*this);  // an `else if` chain recurses once per link
        s->otherwise = if_statement();
      } else {
        s->otherwise = block();
      }
    }
    return s;
  }

  Stmt* for_statement() {
    const Token& t = advance();
    ForStmt* s = node<ForStmt>(t);
    s->name1 = std::string(expect(Tok::Ident, "identifier").text);
    if (accept(Tok::Comma)) s->name2 = std::string(expect(Tok::Ident, "identifier").text);
    expect(Tok::In);
    s->iterable = expression(/*allow_range=*/true);
    if (s->iterable->kind == ExprKind::Range && !s->name2.empty())
      fail_at(s->iterable, "a range a..b gives one variable");
    s->body = block();
    return s;
  }

  Stmt* select_statement() {
    Deeper deeper(*this);  // its cases' statements are not in a block()
    const Token& t = advance();
    SelectStmt* s = node<SelectStmt>(t);
    int saved = nesting_;
    nesting_ = 0;
    const Token& open = expect(Tok::LBrace);
    for (;;) {
      Tok k = peek().kind;
      if (k == Tok::Newline || k == Tok::Semicolon) {
        pos_++;
        continue;
      }
      if (k == Tok::RBrace || k == Tok::Eof) break;
      s->cases.push_back(select_case());
    }
    close_brace(open);
    nesting_ = saved;
    return s;
  }

  SelectCase select_case() {
    const Token& t = peek();
    SelectCase c;
    c.line = t.line;
    c.col = t.col;
    if (accept(Tok::Default)) {
      c.kind = SelectCase::Default;
    } else {
      expect(Tok::Case, "'case' or 'default'");
      if (accept(Tok::Let)) {
        c.bind = std::string(expect(Tok::Ident, "identifier").text);
        if (accept(Tok::Comma)) c.bind_ok = std::string(expect(Tok::Ident, "identifier").text);
        expect(Tok::Assign);
        if (peek().kind != Tok::Arrow) fail_here("unexpected " + describe(peek()) + ", expected '<-'");
      }
      Expr* e = expression();
      if (e->kind == ExprKind::Recv) {
        c.kind = SelectCase::Recv;
        c.channel = static_cast<UnaryExpr*>(e)->operand;
      } else if (c.bind.empty() && peek().kind == Tok::Arrow) {
        advance();
        c.kind = SelectCase::Send;
        c.channel = e;
        c.value = expression();
      } else {
        fail_at(e, "select case must be a send or a receive");
      }
    }
    expect(Tok::Colon);
    c.body = node<Block>(t);
    for (;;) {
      Tok k = peek().kind;
      if (k == Tok::Case || k == Tok::Default || k == Tok::RBrace || k == Tok::Eof) break;
      statement_into(c.body);
    }
    c.body->end_line = peek().line;
    return c;
  }

  // Assignment, send, or an expression statement.
  Stmt* simple_statement() {
    const Token& t = peek();
    Expr* e = expression();
    Tok k = peek().kind;
    if (k == Tok::Assign || is_compound_assign(k)) {
      advance();
      if (e->kind != ExprKind::Name && e->kind != ExprKind::Index && e->kind != ExprKind::Field)
        fail_at(e, "cannot assign to this expression");
      AssignStmt* s = node<AssignStmt>(t);
      s->op = k;
      s->target = e;
      s->value = expression();
      return s;
    }
    if (k == Tok::Arrow) {
      advance();
      SendStmt* s = node<SendStmt>(t);
      s->channel = e;
      s->value = expression();
      return s;
    }
    ExprStmt* s = node<ExprStmt>(t);
    s->expr = e;
    return s;
  }

  // ---- expressions

  Expr* expression(bool allow_range = false) {
    Deeper deeper(*this);
    Expr* e = binary(1);
    if (peek().kind == Tok::DotDot) {
      const Token& dots = advance();
      BinaryExpr* r = node<BinaryExpr>(dots, ExprKind::Range);
      r->line = e->line;
      r->col = e->col;
      r->op = Tok::DotDot;
      r->left = e;
      r->right = binary(1);
      if (!allow_range) error_at(e->line, e->col, "range a..b is only allowed in a for loop");
      return r;
    }
    return e;
  }

  Expr* binary(int min_prec) {
    Expr* left = unary();
    for (;;) {
      const Token& op = peek();
      int prec = precedence(op.kind);
      if (prec == 0 || prec < min_prec) return left;
      advance();
      ExprKind kind = op.kind == Tok::AndAnd ? ExprKind::And
                      : op.kind == Tok::OrOr ? ExprKind::Or
                                             : ExprKind::Binary;
      BinaryExpr* b = node<BinaryExpr>(op, kind);
      b->line = left->line;  // positioned at its start, like calls
      b->col = left->col;
      b->op = op.kind;
      b->left = left;
      b->right = binary(prec + 1);
      left = b;
    }
  }

  Expr* unary() {
    const Token& t = peek();
    if (t.kind == Tok::Minus || t.kind == Tok::Bang || t.kind == Tok::Arrow || t.kind == Tok::Tilde) {
      advance();
      UnaryExpr* u = node<UnaryExpr>(t, t.kind == Tok::Arrow ? ExprKind::Recv : ExprKind::Unary);
      u->op = t.kind;
      Deeper deeper(*this);
      u->operand = unary();
      return u;
    }
    return postfix(primary());
  }

  Expr* postfix(Expr* e) {
    for (;;) {
      const Token& t = peek();
      if (t.kind == Tok::LParen) {
        advance();
        CallExpr* c = node<CallExpr>(t);
        c->line = e->line;
        c->col = e->col;
        c->callee = e;
        nesting_++;
        c->args = list(Tok::RParen, "')'");
        nesting_--;
        e = c;
      } else if (t.kind == Tok::LBracket) {
        advance();
        IndexExpr* ix = node<IndexExpr>(t);
        ix->object = e;
        nesting_++;
        ix->index = expression();
        expect(Tok::RBracket);
        nesting_--;
        e = ix;
      } else if (t.kind == Tok::Dot) {
        advance();
        FieldExpr* f = node<FieldExpr>(t);
        f->object = e;
        f->name = std::string(expect(Tok::Ident, "field name").text);
        e = f;
      } else {
        return e;
      }
    }
  }

  // Comma-separated expressions up to `close` (consumed); trailing comma ok.
  std::vector<Expr*> list(Tok close, const char* close_name) {
    std::vector<Expr*> items;
    while (peek().kind != close) {
      items.push_back(expression());
      if (!accept(Tok::Comma)) break;
    }
    expect(close, (std::string("',' or ") + close_name).c_str());
    return items;
  }

  Expr* primary() {
    const Token& t = peek();
    switch (t.kind) {
      case Tok::Int: case Tok::Float: case Tok::String:
      case Tok::Nil: case Tok::True: case Tok::False: {
        advance();
        static constexpr ExprKind kinds[] = {ExprKind::Int, ExprKind::Float, ExprKind::String};
        ExprKind k = t.kind == Tok::Nil      ? ExprKind::Nil
                     : t.kind == Tok::True   ? ExprKind::True
                     : t.kind == Tok::False  ? ExprKind::False
                                             : kinds[int(t.kind) - int(Tok::Int)];
        LiteralExpr* lit = node<LiteralExpr>(t, k);
        lit->ival = t.ival;
        lit->fval = t.fval;
        lit->str = t.str;
        return lit;
      }
      case Tok::Ident: {
        advance();
        NameExpr* n = node<NameExpr>(t);
        n->name = t.text;  // a view of the source (NameExpr::name)
        return n;
      }
      case Tok::LParen: {
        advance();
        nesting_++;
        Expr* e = expression();
        expect(Tok::RParen);
        nesting_--;
        return e;
      }
      case Tok::LBracket: {
        advance();
        ArrayExpr* a = node<ArrayExpr>(t);
        nesting_++;
        a->items = list(Tok::RBracket, "']'");
        nesting_--;
        return a;
      }
      case Tok::LBrace: return map_literal();
      case Tok::Fn: {
        advance();
        FunctionExpr* f = node<FunctionExpr>(t);
        f->fn = function(t, "<anonymous>");
        return f;
      }
      case Tok::Invalid:  // already reported by the lexer
        advance();
        return node<LiteralExpr>(t, ExprKind::Nil);
      case Tok::Eof: fail_here("unexpected end of file");
      default:
        fail_here("expected expression");
    }
  }

  Expr* map_literal() {
    const Token& t = advance();
    MapExpr* m = node<MapExpr>(t);
    nesting_++;
    while (peek().kind != Tok::RBrace && peek().kind != Tok::Eof) {
      const Token& k = peek();
      if (k.kind == Tok::Ident && toks_.at(pos_ + 1).kind == Tok::Colon) {
        advance();
        LiteralExpr* key = node<LiteralExpr>(k, ExprKind::String);
        key->str = std::string(k.text);
        m->keys.push_back(key);
      } else {
        m->keys.push_back(expression());
      }
      expect(Tok::Colon);
      m->values.push_back(expression());
      if (!accept(Tok::Comma)) break;
    }
    close_brace(t, "',' or '}'");
    nesting_--;
    return m;
  }

  // `(params) { body }` after `fn` [name].
  FuncLit* function(const Token& at, std::string name) {
    FuncLit* f = node<FuncLit>(at);
    f->name = std::move(name);
    f->parent = fn_;
    nesting_++;
    expect(Tok::LParen);
    while (peek().kind != Tok::RParen) {
      f->params.push_back(std::string(expect(Tok::Ident, "parameter name").text));
      if (!accept(Tok::Comma)) break;
    }
    expect(Tok::RParen, "',' or ')'");
    nesting_--;
    FuncLit* saved = fn_;
    fn_ = f;
    try {
      f->body = block();
    } catch (const ParseError&) {
      fn_ = saved;
      throw;
    }
    fn_ = saved;
    return f;
  }
};

}  // namespace

FuncLit* make_main(Ast& ast) {
  FuncLit* main = ast.make<FuncLit>();
  main->name = "main";
  main->line = 1;
  main->col = 1;
  Block* body = ast.make<Block>();
  body->line = 1;
  body->col = 1;
  main->body = body;
  return main;
}

struct TopLevelParser::Impl {
  Parser parser;
};

TopLevelParser::TopLevelParser(TokenStream& tokens, std::vector<Diagnostic>& errors)
    : impl_(std::make_unique<Impl>(Impl{Parser(tokens, nullptr, errors)})) {}
TopLevelParser::~TopLevelParser() = default;

bool TopLevelParser::next(Ast& ast, FuncLit* main, Stmt*& out) { return impl_->parser.top_statement(ast, main, out); }

}  // namespace weft::lang
