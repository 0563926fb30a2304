// The resolver binds each name to a local, an upvalue or a global, in one
// walk over the tree.
//
// Scopes: a function's parameters and its body's top level share one scope
// (redeclaring a parameter is an error); every other block, each `for`'s
// variables and each select case's binding opens one. The top level of the
// main chunk is not a scope: its let/fn declare globals, collected before
// the walk so that functions see globals declared later in the file.
//
// Hoisting: on entering a block, every let and fn of that block is entered
// in the block's scope at once. A fn is visible from the start of the block;
// a let becomes visible to the block's own code at its declaration (so
// `let x = x + 1` in an inner block reads the outer x), but is visible from
// the start to nested functions, which may run later. A variable reached
// from a nested function is `captured`: the code generator keeps it in a
// Cell, created at block entry, so every closure shares it.
//
// Upvalues chain through intermediate functions: if g inside f inside h uses
// h's local x, f gets an upvalue for x from h's register and g one from f's
// upvalue list (Lua's scheme).
//
// Private top-level lets. A top-level `let` that no function reads or
// writes, and that the environment does not need as a global (not a
// module's export, not REPL or embedding state: CompileEnv::private_top_level),
// becomes a local of the main chunk: a register (or a spill slot past the
// register file), so a loop at the top level runs as fast as one inside a
// function. It is decided after the walk, when every use is known: each use
// from main's own code is recorded, and the let qualifies only if no nested
// function names it and none of those uses comes before the let's own
// statement ends (`print(x)` above `let x` still reads the global's nil).
#include "lang/resolver.h"

#include <algorithm>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace weft::lang {

namespace {

struct Entry {
  Var* var;
  bool declared;  // visible to the scope's own function (always to nested ones)
};

struct Scope {
  std::unordered_map<std::string, Entry> names;
};

struct FuncState {
  FuncLit* fn;
  FuncState* parent;
  std::vector<Scope> scopes;
  int loops = 0;  // enclosing loops within this function
};

class Resolver {
 public:
  Resolver(Ast& ast, CompileEnv& env, std::vector<Diagnostic>& errors)
      : ast_(ast), env_(env), errors_(errors) {}

  void run(FuncLit* main) {
    FuncState fs{main, nullptr, {}, 0};
    fs_ = &fs;
    collect_globals(main->body);
    for (Stmt* s : main->body->stmts) {
      statement(s);
      top_index_++;
    }
    fs_ = nullptr;
    privatize(main);
  }

 private:
  Ast& ast_;
  CompileEnv& env_;
  std::vector<Diagnostic>& errors_;
  FuncState* fs_ = nullptr;
  std::unordered_set<std::string> globals_;  // this file's top-level names
  // A top-level let's name: where it is declared and how main's code uses it.
  struct TopLet {
    LetStmt* let = nullptr;       // nullptr: a fn, or declared twice
    bool second = false;          // the `ok` of `let v, ok = <-ch`
    size_t index = 0;             // its statement's index in main's body
    bool keep = false;            // a function uses it, or main before its let
    std::vector<NameExpr*> uses;  // main's uses, after the let
  };
  std::unordered_map<std::string, TopLet> top_lets_;
  size_t top_index_ = 0;  // the top-level statement being walked
  int depth_ = 0;             // statements and expressions being walked
  bool too_deep_ = false;     // "nesting too deep" reported (once per file)

  void error(const Node* at, std::string msg) { errors_.push_back({at->line, at->col, std::move(msg)}); }

  // The parser bounds its own recursion, but operator chains (a + b + c,
  // f()()(), a.b.c) are built by loops into trees as deep as they are long:
  // this walk refuses to go below kMaxDepth, so the code generator, which
  // runs only on a tree this walk accepted, never recurses deeper either.
  // Returns false (and reports once) when `at` is one level too deep.
  bool enter(const Node* at) {
    if (depth_ >= kMaxDepth) {
      if (!too_deep_) error(at, "nesting too deep");
      too_deep_ = true;
      return false;
    }
    depth_++;
    return true;
  }

  void collect_globals(Block* top) {
    for (size_t i = 0; i < top->stmts.size(); i++) {
      Stmt* s = top->stmts[i];
      note_top_let(s, i);
      const std::string* name = declared_name(s);
      if (name && !globals_.insert(*name).second) error(s, "'" + *name + "' already declared in this block");
      if (name) env_.top_level(*name);
      const std::string* name2 = second_name(s);
      if (name2 && !globals_.insert(*name2).second) error(s, "'" + *name2 + "' already declared in this block");
      if (name2) env_.top_level(*name2);
    }
  }

  void note_top_let(Stmt* s, size_t index) {
    const std::string* names[] = {declared_name(s), second_name(s)};
    for (int j = 0; j < 2; j++) {
      if (!names[j]) continue;
      auto [it, fresh] = top_lets_.try_emplace(*names[j]);
      if (fresh && s->kind == StmtKind::Let) it->second = {static_cast<LetStmt*>(s), j == 1, index, false, {}};
      else it->second.let = nullptr;
    }
  }

  // A use of top-level name n, bound as a global: kept a global if a
  // nested function makes it, or main's code before the let's end.
  void note_top_use(NameExpr* n) {
    auto it = top_lets_.find(std::string(n->name));
    if (it == top_lets_.end()) return;
    TopLet& t = it->second;
    if (fs_->parent || top_index_ <= t.index) t.keep = true;
    else t.uses.push_back(n);
  }

  // The lets that qualify become locals of main (see the head comment), at
  // most kMaxPrivate of them, the most used first: they take registers
  // below the spill point and slots of the spill array's 65,535, which
  // main's other locals must keep (of a script's 70,000 top-level lets, the
  // rest stay globals: tests/limits).
  void privatize(FuncLit* main) {
    static constexpr size_t kMaxPrivate = 128;
    std::vector<std::pair<const std::string*, TopLet*>> chosen;
    for (auto& [name, t] : top_lets_)
      if (t.let && !t.keep && env_.private_top_level(name)) chosen.push_back({&name, &t});
    std::sort(chosen.begin(), chosen.end(), [](const auto& a, const auto& b) {
      if (a.second->uses.size() != b.second->uses.size()) return a.second->uses.size() > b.second->uses.size();
      return a.second->index != b.second->index ? a.second->index < b.second->index : b.second->second;
    });
    if (chosen.size() > kMaxPrivate) chosen.resize(kMaxPrivate);
    for (auto [name, t] : chosen) {
      Var* v = ast_.make_var();
      v->name = *name;
      v->owner = main;
      v->top_level = true;
      (t->second ? t->let->var2 : t->let->var) = v;
      for (NameExpr* n : t->uses) {
        n->binding = Binding::Local;
        n->var = v;
      }
    }
  }

  static const std::string* declared_name(Stmt* s) {
    if (s->kind == StmtKind::Let) return &static_cast<LetStmt*>(s)->name;
    if (s->kind == StmtKind::FnDecl) return &static_cast<FnDeclStmt*>(s)->fn->name;
    return nullptr;
  }
  // `ok` of `let v, ok = <-ch`, or nullptr.
  static const std::string* second_name(Stmt* s) {
    if (s->kind != StmtKind::Let || static_cast<LetStmt*>(s)->name2.empty()) return nullptr;
    return &static_cast<LetStmt*>(s)->name2;
  }

  // ---- scopes

  Var* declare(const Node* at, const std::string& name, bool declared) {
    Var* v = ast_.make_var();
    v->name = name;
    v->owner = fs_->fn;
    auto [it, fresh] = fs_->scopes.back().names.try_emplace(name, Entry{v, declared});
    if (!fresh) error(at, "'" + name + "' already declared in this block");
    return v;
  }

  Entry* find(FuncState* fs, const std::string& name, bool own) {
    for (auto s = fs->scopes.rbegin(); s != fs->scopes.rend(); ++s) {
      auto it = s->names.find(name);
      if (it != s->names.end() && (it->second.declared || !own)) return &it->second;
    }
    return nullptr;
  }

  int add_upvalue(FuncState* fs, Var* var, bool from_register, int parent_index) {
    auto& ups = fs->fn->upvalues;
    for (size_t i = 0; i < ups.size(); i++)
      if (ups[i].var == var) return int(i);
    ups.push_back({var, from_register, parent_index});
    return int(ups.size() - 1);
  }

  // The index of `name` among fs's upvalues, adding it (and the chain
  // through enclosing functions) as needed; -1 if no enclosing function
  // has such a local.
  int find_upvalue(FuncState* fs, const std::string& name) {
    FuncState* parent = fs->parent;
    if (!parent) return -1;
    if (Entry* e = find(parent, name, /*own=*/false)) {
      e->var->captured = true;
      return add_upvalue(fs, e->var, true, -1);
    }
    int index = find_upvalue(parent, name);
    if (index < 0) return -1;
    return add_upvalue(fs, parent->fn->upvalues[size_t(index)].var, false, index);
  }

  void name(NameExpr* n, bool assign) {
    const std::string name(n->name);  // the scopes are keyed by std::string (short names stay inline)
    if (Entry* e = find(fs_, name, /*own=*/true)) {
      n->binding = Binding::Local;
      n->var = e->var;
      return;
    }
    int up = find_upvalue(fs_, name);
    if (up >= 0) {
      n->binding = Binding::Upvalue;
      n->index = up;
      n->var = fs_->fn->upvalues[size_t(up)].var;
      return;
    }
    if (globals_.count(name)) {
      n->binding = Binding::Global;
      note_top_use(n);
      return;
    }
    if (env_.find_global(n->name) >= 0) {
      n->binding = Binding::Global;
      return;
    }
    error(n, (assign ? "assignment to undeclared variable '" : "undefined variable '") + name + "'");
  }

  // ---- statements

  // A block's statements in a new scope (or in `scope_ready`, already pushed).
  void block(Block* b, bool scope_ready = false) {
    if (!scope_ready) fs_->scopes.emplace_back();
    for (Stmt* s : b->stmts) {
      if (s->kind == StmtKind::Let) {
        LetStmt* let = static_cast<LetStmt*>(s);
        let->var = declare(s, let->name, false);
        if (!let->name2.empty()) let->var2 = declare(s, let->name2, false);
      } else if (s->kind == StmtKind::FnDecl) {
        FnDeclStmt* fd = static_cast<FnDeclStmt*>(s);
        fd->var = declare(s, fd->fn->name, true);
      }
    }
    for (Stmt* s : b->stmts) statement(s);
    fs_->scopes.pop_back();
  }

  void mark_declared(const std::string& n, Var* v) {
    auto it = fs_->scopes.back().names.find(n);
    if (it != fs_->scopes.back().names.end() && it->second.var == v) it->second.declared = true;
  }

  void statement(Stmt* s) {
    if (!enter(s)) return;
    statement_kind(s);
    depth_--;
  }

  void statement_kind(Stmt* s) {
    switch (s->kind) {
      case StmtKind::Let: {
        LetStmt* let = static_cast<LetStmt*>(s);
        if (let->init) expr(let->init);
        if (let->var) mark_declared(let->name, let->var);
        if (let->var2) mark_declared(let->name2, let->var2);
        break;
      }
      case StmtKind::FnDecl: function(static_cast<FnDeclStmt*>(s)->fn); break;
      case StmtKind::Assign: {
        AssignStmt* a = static_cast<AssignStmt*>(s);
        if (a->target->kind == ExprKind::Name) name(static_cast<NameExpr*>(a->target), true);
        else expr(a->target);
        expr(a->value);
        break;
      }
      case StmtKind::Expr: expr(static_cast<ExprStmt*>(s)->expr); break;
      case StmtKind::If: {
        IfStmt* i = static_cast<IfStmt*>(s);
        expr(i->cond);
        block(i->then);
        if (i->otherwise) statement(i->otherwise);
        break;
      }
      case StmtKind::While: {
        WhileStmt* w = static_cast<WhileStmt*>(s);
        expr(w->cond);
        loop_body(w->body);
        break;
      }
      case StmtKind::For: for_statement(static_cast<ForStmt*>(s)); break;
      case StmtKind::Break:
        if (fs_->loops == 0) error(s, "break outside a loop");
        break;
      case StmtKind::Continue:
        if (fs_->loops == 0) error(s, "continue outside a loop");
        break;
      case StmtKind::Return: {
        ReturnStmt* r = static_cast<ReturnStmt*>(s);
        if (!fs_->parent) error(s, "return outside a function");
        if (r->value) expr(r->value);
        break;
      }
      case StmtKind::Go: expr(static_cast<GoStmt*>(s)->call); break;
      case StmtKind::Send: {
        SendStmt* send = static_cast<SendStmt*>(s);
        expr(send->channel);
        expr(send->value);
        break;
      }
      case StmtKind::Select: select(static_cast<SelectStmt*>(s)); break;
      case StmtKind::Block: block(static_cast<Block*>(s)); break;
    }
  }

  void loop_body(Block* body) {
    fs_->loops++;
    block(body);
    fs_->loops--;
  }

  void for_statement(ForStmt* f) {
    if (f->iterable->kind == ExprKind::Range) {
      BinaryExpr* r = static_cast<BinaryExpr*>(f->iterable);
      expr(r->left);
      expr(r->right);
    } else {
      expr(f->iterable);
    }
    fs_->scopes.emplace_back();
    f->var1 = declare(f, f->name1, true);
    if (!f->name2.empty()) f->var2 = declare(f, f->name2, true);
    loop_body(f->body);
    fs_->scopes.pop_back();
  }

  void select(SelectStmt* s) {
    for (SelectCase& c : s->cases) {
      if (c.channel) expr(c.channel);
      if (c.value) expr(c.value);
      fs_->scopes.emplace_back();
      if (!c.bind.empty()) c.var = declare(c.body, c.bind, true);
      if (!c.bind_ok.empty()) c.var_ok = declare(c.body, c.bind_ok, true);
      block(c.body);
      fs_->scopes.pop_back();
    }
  }

  // ---- functions and expressions

  void function(FuncLit* f) {
    FuncState fs{f, fs_, {}, 0};
    fs.scopes.emplace_back();
    FuncState* saved = fs_;
    fs_ = &fs;
    for (const std::string& p : f->params) {
      Var* v = declare(f, p, true);
      v->param = true;
      f->param_vars.push_back(v);
    }
    block(f->body, /*scope_ready=*/true);
    fs_ = saved;
  }

  void expr(Expr* e) {
    if (!enter(e)) return;
    expr_kind(e);
    depth_--;
  }

  static bool is_operator(const Expr* e) {
    return e->kind == ExprKind::Binary || e->kind == ExprKind::And || e->kind == ExprKind::Or ||
           e->kind == ExprKind::Range;
  }

  void expr_kind(Expr* e) {
    switch (e->kind) {
      case ExprKind::Nil: case ExprKind::True: case ExprKind::False:
      case ExprKind::Int: case ExprKind::Float: case ExprKind::String:
        break;
      case ExprKind::Name: name(static_cast<NameExpr*>(e), false); break;
      case ExprKind::Unary:
      case ExprKind::Recv: expr(static_cast<UnaryExpr*>(e)->operand); break;
      case ExprKind::Binary: case ExprKind::And: case ExprKind::Or: case ExprKind::Range: {
        // An operator chain (a + b + c ...) is flat, not nesting: its left
        // spine is walked by a loop, so any length takes one level. The
        // code generator walks such spines by loops too.
        std::vector<Expr*> rights;
        Expr* x = e;
        for (; is_operator(x); x = static_cast<BinaryExpr*>(x)->left) rights.push_back(static_cast<BinaryExpr*>(x)->right);
        expr(x);
        for (auto it = rights.rbegin(); it != rights.rend(); ++it) expr(*it);
        break;
      }
      case ExprKind::Call: {
        CallExpr* c = static_cast<CallExpr*>(e);
        expr(c->callee);
        for (Expr* a : c->args) expr(a);
        break;
      }
      case ExprKind::Index: {
        IndexExpr* i = static_cast<IndexExpr*>(e);
        expr(i->object);
        expr(i->index);
        break;
      }
      case ExprKind::Field: expr(static_cast<FieldExpr*>(e)->object); break;
      case ExprKind::Array:
        for (Expr* x : static_cast<ArrayExpr*>(e)->items) expr(x);
        break;
      case ExprKind::Map: {
        MapExpr* m = static_cast<MapExpr*>(e);
        for (size_t i = 0; i < m->keys.size(); i++) {
          expr(m->keys[i]);
          expr(m->values[i]);
        }
        break;
      }
      case ExprKind::Function: function(static_cast<FunctionExpr*>(e)->fn); break;
    }
  }
};

}  // namespace

void resolve(FuncLit* main, Ast& ast, CompileEnv& env, std::vector<Diagnostic>& errors) {
  Resolver(ast, env, errors).run(main);
}

}  // namespace weft::lang
