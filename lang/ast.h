// The syntax tree. The parser builds it; the resolver annotates it (each
// name's binding, each variable's capture status, each function's upvalue
// list); the code generator reads both.
//
// Nodes live in an Ast arena and point to each other with raw pointers; the
// arena frees them all at once, after each top-level statement (the main
// function's own node and its private top-level variables live in a second
// arena that lasts the whole compile: lang/compiler.cpp). Every node carries
// its source position for diagnostics and the line table.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <string>
#include <string_view>
#include <vector>

#include "lang/token.h"

namespace weft::lang {

// How deeply a program may nest: parentheses, operators, calls, blocks and
// function literals all count. The parser recurses once per level of the
// source and the resolver and code generator once per level of the tree, so
// this bounds the native stack a compile takes whatever the input (beyond
// it: the compile error "nesting too deep"). Measured in an -O2 build:
// programs of every shape nested just under the limit compile in 768 KiB of
// stack (512 KiB is not enough). CPython and Lua have limits of this kind
// (about 1000 and 200 levels).
constexpr int kMaxDepth = 1000;

struct FuncLit;

struct Node {
  int line = 0;
  int col = 0;
  virtual ~Node() = default;
};

// A declared variable: a local, a parameter or a loop variable. Globals
// (top-level let/fn of the main chunk) have no Var.
struct Var {
  std::string name;
  FuncLit* owner = nullptr;  // the function whose frame holds it (nullptr: main)
  bool captured = false;     // some nested function refers to it: it lives in a Cell
  bool param = false;
  bool top_level = false;    // a private top-level let (lang/resolver.cpp): errors call it a global
  int reg = -1;              // assigned by the code generator
  int spill = -1;            // or, past its register file, a slot of the frame's spill array
};

// ---- expressions

enum class ExprKind : uint8_t {
  Nil, True, False, Int, Float, String, Name, Unary, Binary, And, Or,
  Call, Index, Field, Array, Map, Function, Recv, Range,
};

struct Expr : Node {
  ExprKind kind;
  explicit Expr(ExprKind k) : kind(k) {}
};

struct LiteralExpr : Expr {  // Nil True False Int Float String
  int64_t ival = 0;
  double fval = 0;
  std::string str;
  using Expr::Expr;
};

// How a name is reached, filled in by the resolver.
enum class Binding : uint8_t { Unresolved, Local, Upvalue, Global };

struct NameExpr : Expr {
  std::string_view name;  // into the source, which outlives the tree (compile())
  Binding binding = Binding::Unresolved;
  Var* var = nullptr;  // Local
  int index = -1;      // Upvalue: index in the running closure; Global: slot
  NameExpr() : Expr(ExprKind::Name) {}
};

struct UnaryExpr : Expr {  // Unary: op is Minus, Bang or Tilde; Recv: op is Arrow
  Tok op;
  Expr* operand = nullptr;
  using Expr::Expr;
};

struct BinaryExpr : Expr {  // Binary, And, Or, Range (a..b)
  Tok op;
  Expr* left = nullptr;
  Expr* right = nullptr;
  using Expr::Expr;
};

struct CallExpr : Expr {
  Expr* callee = nullptr;
  std::vector<Expr*> args;
  CallExpr() : Expr(ExprKind::Call) {}
};

struct IndexExpr : Expr {
  Expr* object = nullptr;
  Expr* index = nullptr;
  IndexExpr() : Expr(ExprKind::Index) {}
};

struct FieldExpr : Expr {
  Expr* object = nullptr;
  std::string name;
  FieldExpr() : Expr(ExprKind::Field) {}
};

struct ArrayExpr : Expr {
  std::vector<Expr*> items;
  ArrayExpr() : Expr(ExprKind::Array) {}
};

struct MapExpr : Expr {
  std::vector<Expr*> keys;  // a bare identifier key is a String literal
  std::vector<Expr*> values;
  MapExpr() : Expr(ExprKind::Map) {}
};

struct FunctionExpr : Expr {
  FuncLit* fn = nullptr;
  FunctionExpr() : Expr(ExprKind::Function) {}
};

// ---- statements

enum class StmtKind : uint8_t {
  Let, FnDecl, Assign, Expr, If, While, For, Break, Continue, Return, Go, Send, Select, Block,
};

struct Stmt : Node {
  StmtKind kind;
  explicit Stmt(StmtKind k) : kind(k) {}
};

struct Block : Stmt {
  std::vector<Stmt*> stmts;
  int end_line = 0;  // the closing brace
  Block() : Stmt(StmtKind::Block) {}
};

struct LetStmt : Stmt {
  std::string name;
  std::string name2;     // `let v, ok = <-ch`: "ok" (init is then a Recv); else empty
  Expr* init = nullptr;  // nullptr: `let x` alone
  Var* var = nullptr;    // nullptr for a global
  Var* var2 = nullptr;   // name2's; nullptr for a global
  LetStmt() : Stmt(StmtKind::Let) {}
};

struct FnDeclStmt : Stmt {
  FuncLit* fn = nullptr;
  Var* var = nullptr;  // nullptr for a global
  FnDeclStmt() : Stmt(StmtKind::FnDecl) {}
};

struct AssignStmt : Stmt {
  Tok op;  // Assign or a compound one (PlusAssign ...)
  Expr* target = nullptr;
  Expr* value = nullptr;
  AssignStmt() : Stmt(StmtKind::Assign) {}
};

struct ExprStmt : Stmt {
  Expr* expr = nullptr;
  ExprStmt() : Stmt(StmtKind::Expr) {}
};

struct IfStmt : Stmt {
  Expr* cond = nullptr;
  Block* then = nullptr;
  Stmt* otherwise = nullptr;  // nullptr, a Block or an IfStmt
  IfStmt() : Stmt(StmtKind::If) {}
};

struct WhileStmt : Stmt {
  Expr* cond = nullptr;
  Block* body = nullptr;
  WhileStmt() : Stmt(StmtKind::While) {}
};

struct ForStmt : Stmt {
  std::string name1, name2;  // name2 empty for one variable
  Var* var1 = nullptr;
  Var* var2 = nullptr;
  Expr* iterable = nullptr;  // a Range expression for `for i in a..b`
  Block* body = nullptr;
  ForStmt() : Stmt(StmtKind::For) {}
};

struct ReturnStmt : Stmt {
  Expr* value = nullptr;
  ReturnStmt() : Stmt(StmtKind::Return) {}
};

struct GoStmt : Stmt {
  CallExpr* call = nullptr;
  GoStmt() : Stmt(StmtKind::Go) {}
};

struct SendStmt : Stmt {
  Expr* channel = nullptr;
  Expr* value = nullptr;
  SendStmt() : Stmt(StmtKind::Send) {}
};

struct SelectCase {
  enum Kind : uint8_t { Recv, Send, Default } kind = Default;
  int line = 0, col = 0;
  std::string bind;         // Recv: `case let v = <-ch` (empty if none)
  std::string bind_ok;      // Recv: `case let v, ok = <-ch` (empty if none)
  Var* var = nullptr;
  Var* var_ok = nullptr;
  Expr* channel = nullptr;  // Recv, Send
  Expr* value = nullptr;    // Send
  Block* body = nullptr;    // the case's statements
};

struct SelectStmt : Stmt {
  std::vector<SelectCase> cases;
  SelectStmt() : Stmt(StmtKind::Select) {}
};

struct SimpleStmt : Stmt {  // Break, Continue
  using Stmt::Stmt;
};

// ---- functions

// Where a function's upvalue i comes from (the resolver's form of Capture).
struct Upvalue {
  Var* var = nullptr;   // the variable, for diagnostics and the parent's register
  bool from_parent_register = false;
  int parent_index = -1;  // !from_parent_register: the parent's upvalue index
};

struct FuncLit : Node {
  std::string name;  // "main", the declared name, or "<anonymous>"
  std::vector<std::string> params;
  std::vector<Var*> param_vars;
  Block* body = nullptr;
  FuncLit* parent = nullptr;  // nullptr for main
  std::vector<Upvalue> upvalues;
};

// Owns every node of one file. Nodes are carved from 64 KiB blocks (one
// malloc per node cost 16 bytes of malloc's header and rounding on nodes
// of 40 to 80 bytes, and a million-statement script has five million
// nodes); the list of nodes remains, for their destructors (their strings
// and vectors).
class Ast {
 public:
  Ast() = default;
  Ast(const Ast&) = delete;
  Ast& operator=(const Ast&) = delete;
  ~Ast() {
    for (Node* n : nodes_) n->~Node();
  }
  // Destroys every node and variable made so far, keeping one block for
  // what comes next: the front end parses a file one top-level statement
  // at a time into one Ast (lang/compiler.cpp).
  void clear() {
    for (Node* n : nodes_) n->~Node();
    nodes_.clear();
    vars_.clear();
    if (blocks_.empty()) return;
    blocks_.resize(1);
    next_ = reinterpret_cast<char*>(blocks_[0].get());
    left_ = kBlock;
  }

  template <typename T, typename... Args>
  T* make(Args&&... args) {
    static_assert(alignof(T) <= alignof(std::max_align_t) && sizeof(T) <= kBlock);
    T* node = new (carve(sizeof(T))) T(std::forward<Args>(args)...);
    nodes_.push_back(node);
    return node;
  }
  Var* make_var() {
    vars_.push_back(std::make_unique<Var>());
    return vars_.back().get();
  }

 private:
  static constexpr size_t kBlock = 64 * 1024;
  void* carve(size_t bytes) {
    bytes = (bytes + alignof(std::max_align_t) - 1) & ~(alignof(std::max_align_t) - 1);
    if (left_ < bytes) {
      blocks_.push_back(std::make_unique_for_overwrite<std::max_align_t[]>(kBlock / sizeof(std::max_align_t)));
      next_ = reinterpret_cast<char*>(blocks_.back().get());
      left_ = kBlock;  // every node is far smaller than a block
    }
    void* p = next_;
    next_ += bytes;
    left_ -= bytes;
    return p;
  }

  std::vector<std::unique_ptr<std::max_align_t[]>> blocks_;
  char* next_ = nullptr;
  size_t left_ = 0;
  std::vector<Node*> nodes_;
  std::vector<std::unique_ptr<Var>> vars_;
};

}  // namespace weft::lang
