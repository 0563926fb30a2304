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
// function. It is decided between the two walks (TopLevelResolver), when
// every use is known: pass 1 counts each use from main's own code, and the
// let qualifies only if no nested function names it and none of those uses
// comes before the let's own statement ends (`print(x)` above `let x` still
// reads the global's nil); pass 2 binds the uses to the chosen Vars.
//
// Two walks, each over a statement's tree at a time, rather than one walk
// over the whole file's tree: a file's tree took 30 bytes per byte of
// source (a million-statement script: 300 MB), while parsing twice costs
// less than that memory's page faults (bench/compare/frontend.sh).
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
  Resolver(FuncLit* main, CompileEnv& env, std::vector<Diagnostic>& errors)
      : env_(env), errors_(errors), main_state_{main, nullptr, {}, 0} {}

  // Pass 1: main's next statement. Its declarations, its uses of top-level
  // names (note_top_use) and its errors, kept for decide(); a name that is
  // no global yet is checked there, when every global is known.
  void survey(Stmt* s, Ast& ast) {
    ast_ = &ast;
    survey_ = true;
    note_top_let(s, top_index_);
    collect_global(s);
    walk_top(s);
  }

  // Between the passes (only for a file without syntax errors): reports
  // pass 1's errors; chooses the private lets (privatize).
  void decide(Ast& top) {
    errors_.insert(errors_.end(), declared_.begin(), declared_.end());
    errors_.insert(errors_.end(), survey_errors_.begin(), survey_errors_.end());
    for (const Unknown& u : unknown_) {
      if (globals_.count(u.name) || env_.find_global(u.name) >= 0) continue;
      errors_.push_back({u.line, u.col, (u.assign ? "assignment to undeclared variable '" : "undefined variable '") + u.name + "'"});
    }
    unknown_.clear();
    ast_ = &top;
    privatize(main_state_.fn);
    survey_ = false;
    top_index_ = 0;
  }

  // Pass 2 (only for a file pass 1 found no error in): main's next
  // statement again, from a fresh parse, bound for the code generator.
  void resolve(Stmt* s, Ast& ast) {
    ast_ = &ast;
    walk_top(s);
    if (s->kind == StmtKind::Let) {  // a private let's Vars (after the walk: main's top level has no scope)
      LetStmt* let = static_cast<LetStmt*>(s);
      if (auto it = private_.find(let->name); it != private_.end()) let->var = it->second;
      if (auto it = private_.find(let->name2); !let->name2.empty() && it != private_.end()) let->var2 = it->second;
    }
  }

  int private_lets() const { return private_lets_; }

 private:
  Ast* ast_ = nullptr;  // where Vars are made: the statement's arena, or the file's for private lets
  CompileEnv& env_;
  std::vector<Diagnostic>& errors_;
  std::vector<Diagnostic> survey_errors_;  // pass 1's, reported by decide()
  std::vector<Diagnostic> declared_;       // pass 1's redeclared globals, reported by decide()
  std::vector<Diagnostic> again_;          // pass 2's: none, the same walk found them in pass 1
  // A name pass 1 found neither a local nor a global yet: a global declared
  // later, or an error.
  struct Unknown {
    std::string name;
    int line, col;
    bool assign;
  };
  std::vector<Unknown> unknown_;
  FuncState main_state_;
  FuncState* fs_ = nullptr;
  bool survey_ = false;  // pass 1
  std::unordered_set<std::string> globals_;  // this file's top-level names
  // A top-level let's name: where it is declared and how main's code uses it.
  struct TopLet {
    LetStmt* let = nullptr;       // nullptr: a fn, or declared twice
    bool second = false;          // the `ok` of `let v, ok = <-ch`
    size_t index = 0;             // its statement's index in main's body
    bool keep = false;            // a function uses it, or main before its let
    size_t uses = 0;              // main's uses, after the let
  };
  std::unordered_map<std::string, TopLet> top_lets_;
  std::unordered_set<std::string> used_early_;  // named before any let of the name, or by a function
  std::unordered_map<std::string, Var*> private_;  // the lets privatize chose
  int private_lets_ = 0;  // of them, the first names of lets (codegen's local_slots counts these)
  size_t top_index_ = 0;  // the top-level statement being walked
  int depth_ = 0;             // statements and expressions being walked
  bool too_deep_ = false;     // "nesting too deep" reported (once per file)

  void error(const Node* at, std::string msg) {
    (survey_ ? survey_errors_ : again_).push_back({at->line, at->col, std::move(msg)});
  }

  // Statement top_index_ of main, walked with main's state.
  void walk_top(Stmt* s) {
    fs_ = &main_state_;
    statement(s);
    fs_ = nullptr;
    top_index_++;
  }

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

  // A top-level let or fn: a global of this file (redeclaring one is an error).
  void collect_global(Stmt* s) {
    for (const std::string* name : {declared_name(s), second_name(s)}) {
      if (!name) continue;
      if (!globals_.insert(*name).second) declared_.push_back({s->line, s->col, "'" + *name + "' already declared in this block"});
      env_.top_level(*name);
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
  // Pass 1 sees the lets in order: a name with no let yet is a use before
  // any let of it.
  void note_top_use(const std::string& name) {
    auto it = top_lets_.find(name);
    if (it == top_lets_.end() || fs_->parent) {
      used_early_.insert(name);
      return;
    }
    TopLet& t = it->second;
    if (top_index_ <= t.index) t.keep = true;
    else t.uses++;
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
      if (t.let && !t.keep && !used_early_.count(name) && env_.private_top_level(name)) chosen.push_back({&name, &t});
    std::sort(chosen.begin(), chosen.end(), [](const auto& a, const auto& b) {
      if (a.second->uses != b.second->uses) return a.second->uses > b.second->uses;
      return a.second->index != b.second->index ? a.second->index < b.second->index : b.second->second;
    });
    if (chosen.size() > kMaxPrivate) chosen.resize(kMaxPrivate);
    for (auto [name, t] : chosen) {
      Var* v = ast_->make_var();
      v->name = *name;
      v->owner = main;
      v->top_level = true;
      private_.emplace(*name, v);
      if (!t->second) private_lets_++;
    }
    top_lets_.clear();  // their `let` pointers were into pass 1's statements
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
    Var* v = ast_->make_var();
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
    if (survey_) {  // not every global is known yet
      note_top_use(name);
      n->binding = Binding::Global;
      if (!globals_.count(name) && env_.find_global(n->name) < 0) unknown_.push_back({name, n->line, n->col, assign});
      return;
    }
    if (globals_.count(name)) {
      n->binding = Binding::Global;
      if (auto it = private_.find(name); it != private_.end() && !fs_->parent) {  // after its let (privatize)
        n->binding = Binding::Local;
        n->var = it->second;
      }
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

struct TopLevelResolver::Impl {
  Resolver resolver;
};

TopLevelResolver::TopLevelResolver(FuncLit* main, CompileEnv& env, std::vector<Diagnostic>& errors)
    : impl_(std::make_unique<Impl>(Impl{Resolver(main, env, errors)})) {}
TopLevelResolver::~TopLevelResolver() = default;
void TopLevelResolver::survey(Stmt* s, Ast& ast) { impl_->resolver.survey(s, ast); }
void TopLevelResolver::decide(Ast& top) { impl_->resolver.decide(top); }
void TopLevelResolver::resolve(Stmt* s, Ast& ast) { impl_->resolver.resolve(s, ast); }
int TopLevelResolver::private_lets() const { return impl_->resolver.private_lets(); }

}  // namespace weft::lang
