// The code generator: one pass over the resolved tree per function,
// emitting register bytecode (vm/interp/opcodes.h) with a line per instruction.
//
// Registers: a function's parameters are R[0..n-1]; locals take the next
// registers in scope order and temporaries sit above them, a stack that
// each statement leaves as it found it and each block pops on exit. A
// non-captured local is its register; a captured one is a register holding
// its Cell (GETCELL/SETCELL), created at block entry (fresh per loop
// iteration, as Go 1.22), or boxed in place at entry for a parameter.
//
// Expressions compile into a target register (`expr_to`), or, when any
// register will do (`expr_any`), into none at all for a local, so
// `s = s + x` is one ADD and `let x = a + b` one ADD into x's register.
// The contract of expr_to(e, dst): e does not read dst, so dst may be used
// as scratch (calls build their frame there when dst is the top register;
// && and || park the left operand there). Assignments to an existing local
// therefore go through a temporary unless the value's only write to the
// target is its last instruction (writes_target_last).
//
// Conditions in if/while compile to compare-and-skip + JMP pairs; while
// loops are rotated (test at the bottom) so an iteration runs one jump.
// Rejected: Lua-style expression descriptors (deferred materialization):
// more machinery for little gain with a target-passing scheme.
#include "lang/codegen.h"

#include <algorithm>
#include <map>
#include <unordered_map>

#include "lang/liveness.h"

namespace weft::lang {

namespace {

constexpr int kArrayChunk = 50;  // elements per NEWARRAY/APPENDN: bounds literal temporaries
constexpr int kMapChunk = 25;    // pairs per NEWMAP/SETMAPN
constexpr int kMaxK8 = 255;      // constants reachable from an 8-bit operand

struct Loop {
  std::vector<int> breaks;     // JMPs to patch to the loop's exit
  std::vector<int> continues;  // JMPs to patch to the next-iteration code
};

struct Shared {
  CompileEnv& env;
  std::shared_ptr<const std::string> file;
  std::vector<Diagnostic>& errors;
  std::vector<std::unique_ptr<Proto>> protos;  // every proto made; adopted by the caller
};

class FuncGen {
 public:
  FuncGen(Shared& shared, FuncLit* fn) : sh_(shared), fn_(fn) {}

  Proto* compile() {
    auto owned = std::make_unique<Proto>();
    p_ = owned.get();
    sh_.protos.push_back(std::move(owned));
    p_->name = fn_->name;
    p_->file = sh_.file;
    p_->line = fn_->line;
    p_->nparams = int(fn_->params.size());
    line_ = fn_->line;
    free_ = max_ = p_->nparams;
    for (size_t i = 0; i < fn_->param_vars.size(); i++) {
      Var* v = fn_->param_vars[i];
      v->reg = int(i);
      if (v->captured) emit_abc(Op::NEWCELL, v->reg, v->reg, 0);
    }
    if (!fn_->parent) main_prologue();
    block_body(fn_->body, !fn_->parent);
    line_ = fn_->body->end_line ? fn_->body->end_line : line_;
    emit_abc(Op::RETURNNIL, 0, 0, 0);
    p_->nregs = max_ > 0 ? max_ : 1;
    compute_stack_maps(*p_);
    return p_;
  }

 private:
  Shared& sh_;
  FuncLit* fn_;
  Proto* p_ = nullptr;
  int free_ = 0;  // first free register
  int max_ = 0;   // high-water mark: the frame size
  int line_ = 0;  // line of the instructions being emitted
  int label_ = 0;  // the last here(): a jump may land there
  bool too_large_ = false;
  std::vector<Loop> loops_;
  std::map<uint64_t, int> number_k_;
  std::unordered_map<std::string, int> string_k_;

  // ---- emission

  int emit(Instr i) {
    p_->code.push_back(i);
    p_->lines.push_back(uint32_t(line_));
    return int(p_->code.size() - 1);
  }
  int emit_abc(Op op, int a, int b, int c) { return emit(encode_abc(op, a, b, c)); }
  int emit_abx(Op op, int a, int bx) { return emit(encode_abx(op, a, bx)); }
  int emit_jump(Op op, int a) { return emit(encode_asbx(op, a, 0)); }
  // The next instruction's index, as a jump target (a label): nothing
  // emitted after a label is merged into the instruction before it.
  int here() {
    label_ = int(p_->code.size());
    return label_;
  }
  // R[dst] = nil, folded into the previous instruction when that is a
  // LOADNIL of the registers just below (`f(nil, nil)`: one instruction).
  void load_nil(int dst) {
    int n = int(p_->code.size());
    if (n > label_ && n > 0) {
      Instr& prev = p_->code.back();
      if (op_of(prev) == Op::LOADNIL && arg_a(prev) + arg_b(prev) + 1 == dst && arg_b(prev) < 255) {
        prev = encode_abc(Op::LOADNIL, arg_a(prev), arg_b(prev) + 1, 0);
        return;
      }
    }
    emit_abc(Op::LOADNIL, dst, 0, 0);
  }

  // Records where the operand of the call or index instruction at pc was
  // read from, when it is a named variable or a field, for the error that
  // instruction may raise (Proto::operand_names).
  void note_operand(int pc, Expr* e) {
    OperandName n{uint32_t(pc), OperandName::Field, {}};
    if (e->kind == ExprKind::Name) {
      NameExpr* name = static_cast<NameExpr*>(e);
      n.kind = name->binding == Binding::Local     ? OperandName::Local
               : name->binding == Binding::Upvalue ? OperandName::Upvalue
                                                   : OperandName::Global;
      n.name = name->name;
    } else if (e->kind == ExprKind::Field) {
      n.name = static_cast<FieldExpr*>(e)->name;
    } else if (e->kind == ExprKind::Index && static_cast<IndexExpr*>(e)->index->kind == ExprKind::String) {
      n.name = static_cast<LiteralExpr*>(static_cast<IndexExpr*>(e)->index)->str;  // m["k"] is m.k
    } else {
      return;
    }
    p_->operand_names.push_back(std::move(n));
  }

  void patch(int at, int target) {
    int offset = target - (at + 1);
    if (offset < -kBxBias || offset > kMaxBx - kBxBias) {
      error_once("function too large (jump too long)");
      return;
    }
    Instr i = p_->code[size_t(at)];
    p_->code[size_t(at)] = encode_asbx(op_of(i), arg_a(i), offset);
  }
  void patch_all(const std::vector<int>& jumps, int target) {
    for (int j : jumps) patch(j, target);
  }

  void error_once(const std::string& msg) {
    if (too_large_) return;
    too_large_ = true;
    sh_.errors.push_back({fn_->line, fn_->col, msg});
  }

  // ---- registers

  int alloc(int n = 1) {
    int r = free_;
    free_ += n;
    if (free_ > kMaxRegisters) {
      error_once("function too large (more than 250 registers)");
      free_ = r;  // keep encodings in range; the result is discarded anyway
      return 0;
    }
    if (free_ > max_) max_ = free_;
    return r;
  }
  void free_to(int r) { free_ = r; }

  // ---- constants

  int add_k(Value v) {
    auto [it, fresh] = number_k_.try_emplace(v.bits(), int(p_->k.size()));
    if (fresh) p_->k.push_back(v);
    return it->second;
  }
  int string_k(const std::string& s) {
    auto it = string_k_.find(s);
    if (it != string_k_.end()) return it->second;
    int k = int(p_->k.size());
    p_->k.push_back(sh_.env.string_constant(s));
    string_k_.emplace(s, k);
    return k;
  }
  void check_k(int k) {
    if (k > kMaxBx) error_once("function too large (too many constants)");
  }

  // A number literal (or a negated one) that fits a constant slot.
  static bool number_value(Expr* e, Value& out) {
    bool neg = false;
    if (e->kind == ExprKind::Unary && static_cast<UnaryExpr*>(e)->op == Tok::Minus) {
      neg = true;
      e = static_cast<UnaryExpr*>(e)->operand;
    }
    if (e->kind == ExprKind::Int) {
      int64_t i = static_cast<LiteralExpr*>(e)->ival;
      if (neg) i = -i;
      if (!Value::fits_inline(i)) return false;
      out = Value::inline_int(i);
      return true;
    }
    if (e->kind == ExprKind::Float) {
      double d = static_cast<LiteralExpr*>(e)->fval;
      out = Value::number(neg ? -d : d);
      return true;
    }
    return false;
  }
  // e as a constant of at most 8 bits' index, or -1. `equality`: also
  // strings, nil and booleans (`x == nil` is one JEQK).
  int k8(Expr* e, bool equality) {
    Value v;
    int k = -1;
    if (number_value(e, v)) k = add_k(v);
    else if (equality && e->kind == ExprKind::String) k = string_k(static_cast<LiteralExpr*>(e)->str);
    else if (equality && e->kind == ExprKind::Nil) k = add_k(Value::nil());
    else if (equality && e->kind == ExprKind::True) k = add_k(Value::boolean(true));
    else if (equality && e->kind == ExprKind::False) k = add_k(Value::boolean(false));
    return k >= 0 && k <= kMaxK8 ? k : -1;
  }

  // e as an index for GETINDEXI/SETINDEXI (an int literal 0..255), or -1.
  static int small_index(Expr* e) {
    Value v;
    if (!number_value(e, v) || !v.is_inline_int()) return -1;
    int64_t i = v.as_inline_int();
    return i >= 0 && i <= 255 ? int(i) : -1;
  }

  void load_k(int dst, Value v) {
    int k = add_k(v);
    check_k(k);
    emit_abx(Op::LOADK, dst, k);
  }

  void load_int(int dst, int64_t i) {
    if (i >= -kBxBias && i <= kMaxBx - kBxBias) {
      emit(encode_asbx(Op::LOADI, dst, int(i)));
    } else if (Value::fits_inline(i)) {
      load_k(dst, Value::inline_int(i));
    } else {
      // Beyond the inline range a constant would need a heap BigInt, which
      // CompileEnv cannot make: compute it as hi * 2^24 + lo instead.
      int t = alloc();
      load_k(dst, Value::inline_int(i >> 24));
      load_k(t, Value::inline_int(int64_t(1) << 24));
      emit_abc(Op::MUL, dst, dst, t);
      load_k(t, Value::inline_int(i & 0xFFFFFF));
      emit_abc(Op::ADD, dst, dst, t);
      free_to(t);
    }
  }

  // ---- globals and main

  int global_slot(const std::string& name) { return sh_.env.define_global(name); }

  // The main chunk's top-level functions exist before its first statement.
  void main_prologue() {
    for (Stmt* s : fn_->body->stmts) {
      if (s->kind != StmtKind::FnDecl) continue;
      FnDeclStmt* fd = static_cast<FnDeclStmt*>(s);
      line_ = fd->line;
      int t = alloc();
      closure(fd->fn, t);
      emit_abx(Op::SETGLOBAL, t, global_slot(fd->fn->name));
      free_to(t);
    }
  }

  // ---- blocks and statements

  void block(Block* b) {
    int saved = free_;
    block_body(b, false);
    free_to(saved);
  }

  // Hoisting: cells for the block's captured lets and the closures of its
  // functions, before its other statements. `globals`: main's top level.
  void block_body(Block* b, bool globals) {
    if (!globals) block_entry(b);
    for (Stmt* s : b->stmts) statement(s);
  }

  void block_entry(Block* b) {
    std::vector<Var*> cells;
    std::vector<FnDeclStmt*> fns;
    for (Stmt* s : b->stmts) {
      if (s->kind == StmtKind::Let) {
        LetStmt* let = static_cast<LetStmt*>(s);
        if (let->var->captured) cells.push_back(let->var);
        if (let->var2 && let->var2->captured) cells.push_back(let->var2);
      } else if (s->kind == StmtKind::FnDecl) {
        fns.push_back(static_cast<FnDeclStmt*>(s));
      }
    }
    for (FnDeclStmt* fd : fns)
      if (fd->var->captured) cells.push_back(fd->var);
    if (!cells.empty()) {
      line_ = b->line;
      int base = alloc(int(cells.size()));
      emit_abc(Op::LOADNIL, base, int(cells.size()) - 1, 0);
      for (size_t i = 0; i < cells.size(); i++) {
        cells[i]->reg = base + int(i);
        emit_abc(Op::NEWCELL, base + int(i), base + int(i), 0);
      }
    }
    for (FnDeclStmt* fd : fns) {
      line_ = fd->line;
      if (fd->var->captured) {
        int t = alloc();
        closure(fd->fn, t);
        emit_abc(Op::SETCELL, fd->var->reg, t, 0);
        free_to(t);
      } else {
        fd->var->reg = alloc();
        closure(fd->fn, fd->var->reg);
      }
    }
  }

  void statement(Stmt* s) {
    line_ = s->line;
    switch (s->kind) {
      case StmtKind::Let: let_statement(static_cast<LetStmt*>(s)); break;
      case StmtKind::FnDecl: break;  // hoisted
      case StmtKind::Assign: assign(static_cast<AssignStmt*>(s)); break;
      case StmtKind::Expr: expr_statement(static_cast<ExprStmt*>(s)->expr); break;
      case StmtKind::If: if_statement(static_cast<IfStmt*>(s)); break;
      case StmtKind::While: while_statement(static_cast<WhileStmt*>(s)); break;
      case StmtKind::For: for_statement(static_cast<ForStmt*>(s)); break;
      case StmtKind::Break: loops_.back().breaks.push_back(emit_jump(Op::JMP, 0)); break;
      case StmtKind::Continue: loops_.back().continues.push_back(emit_jump(Op::JMP, 0)); break;
      case StmtKind::Return: return_statement(static_cast<ReturnStmt*>(s)); break;
      case StmtKind::Go: go_statement(static_cast<GoStmt*>(s)); break;
      case StmtKind::Send: {
        SendStmt* send = static_cast<SendStmt*>(s);
        int saved = free_;
        int ch = expr_any(send->channel);
        int v = expr_any(send->value);
        emit_abc(Op::SEND, ch, v, 0);
        free_to(saved);
        break;
      }
      case StmtKind::Select: select_statement(static_cast<SelectStmt*>(s)); break;
      case StmtKind::Block: block(static_cast<Block*>(s)); break;
    }
  }

  void let_statement(LetStmt* s) {
    if (!s->name2.empty()) {
      comma_ok_let(s);
      return;
    }
    if (!s->var) {  // a global
      int t = alloc();
      value_or_nil(s->init, t);
      emit_abx(Op::SETGLOBAL, t, global_slot(s->name));
      free_to(t);
    } else if (s->var->captured) {  // its cell exists since block entry
      int t = alloc();
      value_or_nil(s->init, t);
      emit_abc(Op::SETCELL, s->var->reg, t, 0);
      free_to(t);
    } else {
      int r = alloc();
      value_or_nil(s->init, r);
      s->var->reg = r;
    }
  }

  // `let v, ok = <-ch`: one RECV2 into two consecutive registers, which
  // stay the variables' own when both are plain locals; otherwise each
  // value goes to its cell or global, as a one-name let's would.
  void comma_ok_let(LetStmt* s) {
    int r = alloc(2);
    int ch = expr_any(static_cast<UnaryExpr*>(s->init)->operand);
    line_ = s->line;
    emit_abc(Op::RECV2, r, ch, 0);
    free_to(r + 2);
    Var* vars[] = {s->var, s->var2};
    const std::string* names[] = {&s->name, &s->name2};
    bool keep = false;
    for (int j = 0; j < 2; j++) {
      Var* v = vars[j];
      if (!v) {
        emit_abx(Op::SETGLOBAL, r + j, global_slot(*names[j]));
      } else if (v->captured) {
        emit_abc(Op::SETCELL, v->reg, r + j, 0);
      } else {
        v->reg = r + j;
        keep = true;
      }
    }
    if (!keep) free_to(r);
  }

  void value_or_nil(Expr* e, int dst) {
    if (e) expr_to(e, dst);
    else load_nil(dst);
  }

  void expr_statement(Expr* e) {
    int saved = free_;
    if (e->kind != ExprKind::Name) expr_to(e, alloc());
    free_to(saved);
  }

  // Does e write its target only with its last instruction, reading no
  // register after it? Then `x = e` may compile straight into x.
  static bool writes_target_last(Expr* e) {
    switch (e->kind) {
      case ExprKind::And: case ExprKind::Or: case ExprKind::Call: return false;
      case ExprKind::Array: return static_cast<ArrayExpr*>(e)->items.size() <= size_t(kArrayChunk);
      case ExprKind::Map: return static_cast<MapExpr*>(e)->keys.size() <= size_t(kMapChunk);
      case ExprKind::Int: {
        int64_t i = static_cast<LiteralExpr*>(e)->ival;
        return Value::fits_inline(i);
      }
      default: return true;
    }
  }

  // The instruction of a binary arithmetic or bitwise operator, or of its
  // compound assignment; `k`: its form with a constant right operand.
  static Op arith_op(Tok t, bool k) {
    switch (t) {
      case Tok::Plus: case Tok::PlusAssign: return k ? Op::ADDK : Op::ADD;
      case Tok::Minus: case Tok::MinusAssign: return k ? Op::SUBK : Op::SUB;
      case Tok::Star: case Tok::StarAssign: return k ? Op::MULK : Op::MUL;
      case Tok::Slash: case Tok::SlashAssign: return k ? Op::DIVK : Op::DIV;
      case Tok::Amp: case Tok::AmpAssign: return k ? Op::BANDK : Op::BAND;
      case Tok::Pipe: case Tok::PipeAssign: return k ? Op::BORK : Op::BOR;
      case Tok::Caret: case Tok::CaretAssign: return k ? Op::BXORK : Op::BXOR;
      case Tok::Shl: case Tok::ShlAssign: return k ? Op::SHLK : Op::SHL;
      case Tok::Shr: case Tok::ShrAssign: return k ? Op::SHRK : Op::SHR;
      default: return k ? Op::MODK : Op::MOD;
    }
  }

  static bool is_arith(const Expr* e) {
    if (e->kind != ExprKind::Binary) return false;
    switch (static_cast<const BinaryExpr*>(e)->op) {
      case Tok::Plus: case Tok::Minus: case Tok::Star: case Tok::Slash: case Tok::Percent: return true;
      default: return false;
    }
  }

  // R[dst] = (x op1 y) op2 right as one ARITH2 + EXTRA pair.
  void fused_arith(BinaryExpr* inner, Tok op2, int dst, Expr* right) {
    int saved = free_;
    int x = expr_any(inner->left);
    int y = expr_any(inner->right);
    int k = k8(right, false);
    Op second = arith_op(op2, k >= 0);
    int z = k >= 0 ? k : expr_any(right);
    emit_abc(Op::ARITH2, dst, x, y);
    emit_abc(Op::EXTRA, int(arith_op(inner->op, false)), int(second), z);
    free_to(saved);
  }

  // R[dst] = R[left] op right, with the K form when right is a number.
  void arith(Tok op, int dst, int left, Expr* right) {
    int saved = free_;
    int k = k8(right, false);
    if (k >= 0) {
      emit_abc(arith_op(op, true), dst, left, k);
    } else {
      int r = expr_any(right);
      emit_abc(arith_op(op, false), dst, left, r);
    }
    free_to(saved);
  }

  void assign(AssignStmt* s) {
    int saved = free_;
    switch (s->target->kind) {
      case ExprKind::Name: assign_name(static_cast<NameExpr*>(s->target), s->op, s->value); break;
      case ExprKind::Index: {
        IndexExpr* ix = static_cast<IndexExpr*>(s->target);
        int obj = expr_any(ix->object);
        int imm = small_index(ix->index);
        int key = imm >= 0 ? imm : expr_any(ix->index);
        int v;
        if (s->op == Tok::Assign) {
          v = expr_any(s->value);
        } else {
          v = alloc();
          note_operand(emit_abc(imm >= 0 ? Op::GETINDEXI : Op::GETINDEX, v, obj, key), ix->object);
          arith(s->op, v, v, s->value);
        }
        line_ = s->line;
        note_operand(emit_abc(imm >= 0 ? Op::SETINDEXI : Op::SETINDEX, obj, key, v), ix->object);
        break;
      }
      case ExprKind::Field: {
        FieldExpr* f = static_cast<FieldExpr*>(s->target);
        int obj = expr_any(f->object);
        int k = string_k(f->name);
        int key = -1;
        if (k > kMaxK8) {
          key = alloc();
          emit_abx(Op::LOADK, key, k);
        }
        int v;
        if (s->op == Tok::Assign) {
          v = expr_any(s->value);
        } else {
          v = alloc();
          int get = key >= 0 ? emit_abc(Op::GETINDEX, v, obj, key) : emit_abc(Op::GETFIELD, v, obj, k);
          note_operand(get, f->object);
          arith(s->op, v, v, s->value);
        }
        line_ = s->line;
        int set = key >= 0 ? emit_abc(Op::SETINDEX, obj, key, v) : emit_abc(Op::SETFIELD, obj, k, v);
        note_operand(set, f->object);
        break;
      }
      default: break;  // the parser allows no other target
    }
    free_to(saved);
  }

  void assign_name(NameExpr* n, Tok op, Expr* value) {
    if (n->binding == Binding::Local && !n->var->captured) {
      int r = n->var->reg;
      if (op != Tok::Assign) {
        arith(op, r, r, value);
      } else if (writes_target_last(value)) {
        expr_to(value, r);
      } else {
        int t = alloc();
        expr_to(value, t);
        emit_abc(Op::MOVE, r, t, 0);
      }
      return;
    }
    int v;
    if (op == Tok::Assign) {
      v = expr_any(value);
    } else {
      v = alloc();
      read_name(n, v);
      arith(op, v, v, value);
    }
    switch (n->binding) {
      case Binding::Local: emit_abc(Op::SETCELL, n->var->reg, v, 0); break;
      case Binding::Upvalue: emit_abc(Op::SETUPVAL, v, n->index, 0); break;
      default: emit_abx(Op::SETGLOBAL, v, global_slot(n->name)); break;
    }
  }

  void if_statement(IfStmt* s) {
    std::vector<int> if_false;
    cond_jump(s->cond, false, if_false);
    block(s->then);
    if (s->otherwise) {
      line_ = s->then->end_line;
      int skip = emit_jump(Op::JMP, 0);
      patch_all(if_false, here());
      statement(s->otherwise);
      patch(skip, here());
    } else {
      patch_all(if_false, here());
    }
  }

  static bool constant_truth(Expr* e, bool& truth) {
    switch (e->kind) {
      case ExprKind::Nil: case ExprKind::False: truth = false; return true;
      case ExprKind::True: case ExprKind::Int: case ExprKind::Float: case ExprKind::String:
        truth = true;
        return true;
      default: return false;
    }
  }

  // Rotated: JMP to the test; body; test jumps back to the body if true.
  void while_statement(WhileStmt* s) {
    bool truth = false;
    bool constant = constant_truth(s->cond, truth);
    if (constant && !truth) return;
    int to_test = constant ? -1 : emit_jump(Op::JMP, 0);
    int body = here();
    loops_.emplace_back();
    block(s->body);
    Loop loop = std::move(loops_.back());
    loops_.pop_back();
    line_ = s->line;
    patch_all(loop.continues, here());
    if (constant) {
      patch(emit_jump(Op::JMP, 0), body);
    } else {
      patch(to_test, here());
      std::vector<int> if_true;
      cond_jump(s->cond, true, if_true);
      patch_all(if_true, body);
    }
    patch_all(loop.breaks, here());
  }

  // A fresh cell per iteration for a captured loop variable.
  void bind_loop_var(Var* v, int reg) {
    v->reg = reg;
    if (v->captured) emit_abc(Op::NEWCELL, reg, reg, 0);
  }

  void for_statement(ForStmt* s) {
    int saved = free_;
    bool range = s->iterable->kind == ExprKind::Range;
    int base = alloc(s->var2 ? 4 : 3);
    int head;
    if (range) {
      BinaryExpr* r = static_cast<BinaryExpr*>(s->iterable);
      expr_to(r->left, base);
      expr_to(r->right, base + 1);
      line_ = s->line;
      head = emit_jump(Op::FORPREP, base);
    } else {
      expr_to(s->iterable, base);
      line_ = s->line;
      head = emit_jump(Op::ITERPREP, base);
    }
    int body = here();
    bind_loop_var(s->var1, base + 2);
    if (s->var2) bind_loop_var(s->var2, base + 3);
    loops_.emplace_back();
    block(s->body);
    Loop loop = std::move(loops_.back());
    loops_.pop_back();
    line_ = s->line;
    int next = here();
    patch_all(loop.continues, next);
    Op step = range ? Op::FORLOOP : s->var2 ? Op::ITERNEXT2 : Op::ITERNEXT1;
    patch(emit_jump(step, base), body);
    if (range) patch(head, here());
    else patch(head, next);
    patch_all(loop.breaks, here());
    free_to(saved);
  }

  // select: the case operands in source order (a receive's channel; a
  // send's channel and value) into consecutive registers, one SELECT that
  // leaves the case taken in R[res] (-1: default), the received value in
  // R[res+1] and its ok in R[res+2], then a compare-and-skip chain to the
  // case bodies. A case's bindings are R[res+1] and R[res+2] themselves
  // (boxed in place when captured).
  void select_statement(SelectStmt* s) {
    int saved = free_;
    std::vector<SelectCase*> cases;
    SelectCase* dflt = nullptr;
    for (SelectCase& c : s->cases) {
      if (c.kind != SelectCase::Default) cases.push_back(&c);
      else if (dflt) sh_.errors.push_back({c.line, c.col, "multiple defaults in select"});
      else dflt = &c;
    }
    int n = int(cases.size());
    if (n > kMaxSelectCases) {
      sh_.errors.push_back({s->line, s->col, "select has too many cases (more than 32)"});
      return;
    }
    int res = alloc(3);
    int base = free_;
    uint64_t sendmask = 0;
    for (int i = 0; i < n; i++) {
      SelectCase* c = cases[size_t(i)];
      int r = alloc(c->kind == SelectCase::Send ? 2 : 1);
      expr_to(c->channel, r);
      if (c->kind == SelectCase::Send) {
        expr_to(c->value, r + 1);
        sendmask |= uint64_t(1) << i;
      }
    }
    line_ = s->line;
    int k = add_k(Value::inline_int(select_desc(n, dflt != nullptr, sendmask)));
    if (k > kMaxK8) error_once("function too large (too many constants)");
    emit_abc(Op::SELECT, res, base, k);
    free_to(base);
    std::vector<int> ends;
    for (int i = 0; i < n; i++) {
      bool last = i == n - 1 && !dflt;  // the only possibility left: no test
      line_ = cases[size_t(i)]->line;
      int skip = last ? -1 : case_test(res, i);
      case_body(cases[size_t(i)], res + 1);
      if (!last) ends.push_back(emit_jump(Op::JMP, 0));
      if (skip >= 0) patch(skip, here());
    }
    if (dflt) case_body(dflt, -1);
    patch_all(ends, here());
    free_to(saved);
  }

  // Jumps (returning the JMP to patch) unless R[res] == i.
  int case_test(int res, int i) {
    int k = add_k(Value::inline_int(i));
    if (k <= kMaxK8) {
      emit_abc(Op::JEQK, res, k, 0);
    } else {
      int t = alloc();
      load_int(t, i);
      emit_abc(Op::JEQ, res, t, 0);
      free_to(t);
    }
    return emit_jump(Op::JMP, 0);
  }

  void case_body(SelectCase* c, int value) {
    line_ = c->line;
    for (Var* v : {c->var, c->var_ok}) {
      if (!v) continue;
      v->reg = value++;
      if (v->captured) emit_abc(Op::NEWCELL, v->reg, v->reg, 0);
    }
    block(c->body);
  }

  void return_statement(ReturnStmt* s) {
    if (!s->value) {
      emit_abc(Op::RETURNNIL, 0, 0, 0);
      return;
    }
    int saved = free_;
    int r = expr_any(s->value);
    line_ = s->line;
    emit_abc(Op::RETURN, r, 0, 0);
    free_to(saved);
  }

  void go_statement(GoStmt* s) {
    int saved = free_;
    int base = alloc();
    int n = call_frame(s->call, base);
    line_ = s->line;
    note_operand(emit_abc(Op::GO, base, n, 0), s->call->callee);
    free_to(saved);
  }

  // ---- conditions

  // Emits jumps (appended to `jumps`) taken when e's truth == jump_if;
  // falls through otherwise.
  void cond_jump(Expr* e, bool jump_if, std::vector<int>& jumps) {
    int saved_line = line_;
    line_ = e->line;
    bool truth;
    if (e->kind == ExprKind::Unary && static_cast<UnaryExpr*>(e)->op == Tok::Bang) {
      cond_jump(static_cast<UnaryExpr*>(e)->operand, !jump_if, jumps);
    } else if (e->kind == ExprKind::And || e->kind == ExprKind::Or) {
      BinaryExpr* b = static_cast<BinaryExpr*>(e);
      bool short_on = e->kind == ExprKind::Or;  // the left value that decides
      if (jump_if == short_on) {
        cond_jump(b->left, jump_if, jumps);
        cond_jump(b->right, jump_if, jumps);
      } else {
        std::vector<int> decided;
        cond_jump(b->left, short_on, decided);
        cond_jump(b->right, jump_if, jumps);
        patch_all(decided, here());
      }
    } else if (e->kind == ExprKind::Binary && is_comparison(static_cast<BinaryExpr*>(e)->op)) {
      compare_jump(static_cast<BinaryExpr*>(e), jump_if, jumps);
    } else if (constant_truth(e, truth)) {
      if (truth == jump_if) jumps.push_back(emit_jump(Op::JMP, 0));
    } else {
      int saved = free_;
      int r = expr_any(e);
      jumps.push_back(emit_jump(jump_if ? Op::JMPIF : Op::JMPIFNOT, r));
      free_to(saved);
    }
    line_ = saved_line;
  }

  static bool is_comparison(Tok t) {
    return t == Tok::Eq || t == Tok::Ne || t == Tok::Lt || t == Tok::Le || t == Tok::Gt || t == Tok::Ge;
  }

  static Op k_compare(Tok t) {
    switch (t) {
      case Tok::Lt: return Op::JLTK;
      case Tok::Le: return Op::JLEK;
      case Tok::Gt: return Op::JGTK;
      case Tok::Ge: return Op::JGEK;
      default: return Op::JEQK;
    }
  }

  void compare_jump(BinaryExpr* b, bool jump_if, std::vector<int>& jumps) {
    int saved = free_;
    Tok op = b->op;
    bool sense = op == Tok::Ne ? !jump_if : jump_if;
    bool equality = op == Tok::Eq || op == Tok::Ne;
    int k = k8(b->right, equality);
    if (k >= 0) {
      int a = expr_any(b->left);
      emit_abc(k_compare(op), a, k, sense);
    } else if (equality && (k = k8(b->left, true)) >= 0) {
      int a = expr_any(b->right);
      emit_abc(Op::JEQK, a, k, sense);
    } else {
      int l = expr_any(b->left);
      int r = expr_any(b->right);
      switch (op) {
        case Tok::Lt: emit_abc(Op::JLT, l, r, sense); break;
        case Tok::Le: emit_abc(Op::JLE, l, r, sense); break;
        case Tok::Gt: emit_abc(Op::JLT, r, l, sense); break;
        case Tok::Ge: emit_abc(Op::JLE, r, l, sense); break;
        default: emit_abc(Op::JEQ, l, r, sense); break;
      }
    }
    jumps.push_back(emit_jump(Op::JMP, 0));
    free_to(saved);
  }

  // ---- expressions

  // A register holding e's value: a non-captured local's own, or a new
  // temporary (the caller frees it by resetting free_).
  int expr_any(Expr* e) {
    if (e->kind == ExprKind::Name) {
      NameExpr* n = static_cast<NameExpr*>(e);
      if (n->binding == Binding::Local && !n->var->captured) return n->var->reg;
    }
    int r = alloc();
    expr_to(e, r);
    return r;
  }

  void read_name(NameExpr* n, int dst) {
    switch (n->binding) {
      case Binding::Local:
        if (n->var->captured) emit_abc(Op::GETCELL, dst, n->var->reg, 0);
        else if (n->var->reg != dst) emit_abc(Op::MOVE, dst, n->var->reg, 0);
        break;
      case Binding::Upvalue: emit_abc(Op::GETUPVAL, dst, n->index, 0); break;
      default: emit_abx(Op::GETGLOBAL, dst, global_slot(n->name)); break;
    }
  }

  // Evaluates e into R[dst]; e must not read dst (see the file comment).
  void expr_to(Expr* e, int dst) {
    int saved_line = line_;
    int saved = free_;
    line_ = e->line;
    switch (e->kind) {
      case ExprKind::Nil: load_nil(dst); break;
      case ExprKind::True: emit_abc(Op::LOADTRUE, dst, 0, 0); break;
      case ExprKind::False: emit_abc(Op::LOADFALSE, dst, 0, 0); break;
      case ExprKind::Int: load_int(dst, static_cast<LiteralExpr*>(e)->ival); break;
      case ExprKind::Float: load_k(dst, Value::number(static_cast<LiteralExpr*>(e)->fval)); break;
      case ExprKind::String: {
        int k = string_k(static_cast<LiteralExpr*>(e)->str);
        check_k(k);
        emit_abx(Op::LOADK, dst, k);
        break;
      }
      case ExprKind::Name: read_name(static_cast<NameExpr*>(e), dst); break;
      case ExprKind::Unary: unary(static_cast<UnaryExpr*>(e), dst); break;
      case ExprKind::Recv: {
        int ch = expr_any(static_cast<UnaryExpr*>(e)->operand);
        emit_abc(Op::RECV, dst, ch, 0);
        break;
      }
      case ExprKind::Binary: binary(static_cast<BinaryExpr*>(e), dst); break;
      case ExprKind::And:
      case ExprKind::Or: {
        BinaryExpr* b = static_cast<BinaryExpr*>(e);
        expr_to(b->left, dst);
        int j = emit_jump(e->kind == ExprKind::And ? Op::JMPIFNOT : Op::JMPIF, dst);
        expr_to(b->right, dst);
        patch(j, here());
        break;
      }
      case ExprKind::Call: call(static_cast<CallExpr*>(e), dst); break;
      case ExprKind::Index: {
        IndexExpr* ix = static_cast<IndexExpr*>(e);
        int obj = expr_any(ix->object);
        if (int imm = small_index(ix->index); imm >= 0) {
          note_operand(emit_abc(Op::GETINDEXI, dst, obj, imm), ix->object);
        } else {
          int key = expr_any(ix->index);
          note_operand(emit_abc(Op::GETINDEX, dst, obj, key), ix->object);
        }
        break;
      }
      case ExprKind::Field: {
        FieldExpr* f = static_cast<FieldExpr*>(e);
        int obj = expr_any(f->object);
        int k = string_k(f->name);
        if (k <= kMaxK8) {
          note_operand(emit_abc(Op::GETFIELD, dst, obj, k), f->object);
        } else {
          int key = alloc();
          emit_abx(Op::LOADK, key, k);
          note_operand(emit_abc(Op::GETINDEX, dst, obj, key), f->object);
        }
        break;
      }
      case ExprKind::Array: array(static_cast<ArrayExpr*>(e), dst); break;
      case ExprKind::Map: map(static_cast<MapExpr*>(e), dst); break;
      case ExprKind::Function: closure(static_cast<FunctionExpr*>(e)->fn, dst); break;
      case ExprKind::Range: break;  // rejected by the parser outside `for`
    }
    free_to(saved);
    line_ = saved_line;
  }

  void unary(UnaryExpr* u, int dst) {
    Value v;
    if (u->op == Tok::Minus && number_value(u, v)) {
      if (v.is_inline_int()) load_int(dst, v.as_inline_int());
      else load_k(dst, v);
      return;
    }
    if (u->op == Tok::Minus && u->operand->kind == ExprKind::Int) {
      load_int(dst, -static_cast<LiteralExpr*>(u->operand)->ival);  // beyond the inline range
      return;
    }
    int r = expr_any(u->operand);
    emit_abc(u->op == Tok::Minus ? Op::NEG : u->op == Tok::Tilde ? Op::BNOT : Op::NOT, dst, r, 0);
  }

  void binary(BinaryExpr* b, int dst) {
    switch (b->op) {
      case Tok::Plus: case Tok::Minus: case Tok::Star: case Tok::Slash: case Tok::Percent:
        if (is_arith(b->left)) fused_arith(static_cast<BinaryExpr*>(b->left), b->op, dst, b->right);
        else arith(b->op, dst, expr_any(b->left), b->right);
        return;
      case Tok::Amp: case Tok::Pipe: case Tok::Caret: case Tok::Shl: case Tok::Shr:
        arith(b->op, dst, expr_any(b->left), b->right);
        return;
      case Tok::Gt: case Tok::Ge:
        // There is no GT/GE: `a > 1` as a value goes through JGTK so that a
        // type error names the operands in source order ("nil > int").
        if (k8(b->right, false) >= 0) {
          std::vector<int> if_false;
          compare_jump(b, false, if_false);
          emit_abc(Op::LOADTRUE, dst, 0, 0);
          int end = emit_jump(Op::JMP, 0);
          patch_all(if_false, here());
          emit_abc(Op::LOADFALSE, dst, 0, 0);
          patch(end, here());
          return;
        }
        break;
      default: break;
    }
    int l = expr_any(b->left);
    int r = expr_any(b->right);
    switch (b->op) {
      case Tok::Eq: emit_abc(Op::EQ, dst, l, r); break;
      case Tok::Ne: emit_abc(Op::NE, dst, l, r); break;
      case Tok::Lt: emit_abc(Op::LT, dst, l, r); break;
      case Tok::Le: emit_abc(Op::LE, dst, l, r); break;
      case Tok::Gt: emit_abc(Op::LT, dst, r, l); break;
      default: emit_abc(Op::LE, dst, r, l); break;  // Ge
    }
  }

  // Callee into base, arguments above it; returns the argument count.
  int call_frame(CallExpr* c, int base) {
    expr_to(c->callee, base);
    for (Expr* a : c->args) expr_to(a, alloc());
    line_ = c->line;
    return int(c->args.size());
  }

  void call(CallExpr* c, int dst) {
    int base = dst == free_ - 1 ? dst : alloc();
    if (int g = global_callee(c); g >= 0) {  // CALLG: the global is loaded by the call itself
      for (Expr* a : c->args) expr_to(a, alloc());
      line_ = c->line;
      note_operand(emit_abc(Op::CALLG, base, int(c->args.size()), g), c->callee);
    } else {
      int n = call_frame(c, base);
      note_operand(emit_abc(Op::CALL, base, n, 0), c->callee);
    }
    if (base != dst) emit_abc(Op::MOVE, dst, base, 0);
  }

  // The global slot (< 256) of c's callee if CALLG may call it, or -1.
  // The callee must be evaluated before the arguments; loading it after
  // them instead is invisible unless an argument can run other code or
  // wait for another goroutine (a call, a channel receive).
  int global_callee(CallExpr* c) {
    if (c->callee->kind != ExprKind::Name) return -1;
    NameExpr* n = static_cast<NameExpr*>(c->callee);
    if (n->binding != Binding::Global) return -1;
    for (Expr* a : c->args) {
      if (!runs_no_code(a)) return -1;
    }
    int slot = global_slot(n->name);
    return slot <= 255 ? slot : -1;
  }
  static bool runs_no_code(Expr* e) {
    switch (e->kind) {
      case ExprKind::Call: case ExprKind::Recv: case ExprKind::Range: return false;
      case ExprKind::Unary: return runs_no_code(static_cast<UnaryExpr*>(e)->operand);
      case ExprKind::Binary: case ExprKind::And: case ExprKind::Or: {
        BinaryExpr* b = static_cast<BinaryExpr*>(e);
        return runs_no_code(b->left) && runs_no_code(b->right);
      }
      case ExprKind::Index: {
        IndexExpr* ix = static_cast<IndexExpr*>(e);
        return runs_no_code(ix->object) && runs_no_code(ix->index);
      }
      case ExprKind::Field: return runs_no_code(static_cast<FieldExpr*>(e)->object);
      case ExprKind::Array: {
        auto& items = static_cast<ArrayExpr*>(e)->items;
        return std::all_of(items.begin(), items.end(), runs_no_code);
      }
      case ExprKind::Map: {
        MapExpr* m = static_cast<MapExpr*>(e);
        return std::all_of(m->keys.begin(), m->keys.end(), runs_no_code) &&
               std::all_of(m->values.begin(), m->values.end(), runs_no_code);
      }
      default: return true;  // literals, names, function literals (made, not run)
    }
  }

  void array(ArrayExpr* a, int dst) {
    size_t n = a->items.size();
    for (size_t start = 0; start == 0 || start < n; start += kArrayChunk) {
      size_t count = std::min(n - start, size_t(kArrayChunk));
      int base = free_;  // items go to base.. one register at a time, so a call lands in place
      for (size_t i = 0; i < count; i++) expr_to(a->items[start + i], alloc());
      line_ = a->line;
      emit_abc(start == 0 ? Op::NEWARRAY : Op::APPENDN, dst, base, int(count));
      free_to(base);
    }
  }

  void map(MapExpr* m, int dst) {
    size_t n = m->keys.size();
    for (size_t start = 0; start == 0 || start < n; start += kMapChunk) {
      size_t count = std::min(n - start, size_t(kMapChunk));
      int base = free_;  // as in array()
      for (size_t i = 0; i < count; i++) {
        expr_to(m->keys[start + i], alloc());
        expr_to(m->values[start + i], alloc());
      }
      line_ = m->line;
      emit_abc(start == 0 ? Op::NEWMAP : Op::SETMAPN, dst, base, int(count));
      free_to(base);
    }
  }

  // Compiles a nested function and emits the CLOSURE that makes it.
  void closure(FuncLit* f, int dst) {
    FuncGen child(sh_, f);
    Proto* cp = child.compile();
    for (const Upvalue& u : f->upvalues) {
      Capture c;
      c.from_register = u.from_parent_register;
      c.index = uint8_t(u.from_parent_register ? u.var->reg : u.parent_index);
      cp->captures.push_back(c);
    }
    int index = int(p_->protos.size());
    p_->protos.push_back(cp);
    if (index > kMaxBx) error_once("function too large (too many functions)");
    emit_abx(Op::CLOSURE, dst, index);
  }
};

}  // namespace

std::vector<std::unique_ptr<Proto>> generate(FuncLit* main, CompileEnv& env,
                                             std::shared_ptr<const std::string> file,
                                             std::vector<Diagnostic>& errors) {
  Shared shared{env, std::move(file), errors, {}};
  FuncGen(shared, main).compile();  // pushes main first, then its children
  return std::move(shared.protos);
}

}  // namespace weft::lang
