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
//
// Wide operands (vm/interp/opcodes.h). A constant or global index past
// Bx's 16 bits takes the X form and an EXTRA word. JMP's offset is 24
// bits, but the conditional jumps (JMPIF, JMPIFNOT, FORPREP, ITERPREP)
// keep 16: a function in which one of them overflows is compiled again
// with every forward conditional jump as a short hop over a JMP (`wide`
// mode), and a backward one that is too far (FORLOOP, ITERNEXT) is
// emitted so at once. Small functions keep their one-instruction jumps.
// Limits past these (2^24 constants or globals, a jump across 2^23
// instructions, 2^16 nested functions, 250 registers in use at once) are
// compile errors that name the limit at the line that crossed it.
//
// Locals past the register file. A function whose locals may not all fit
// below kSpillFrom keeps those declared past it (and its parameters past
// it) in a spill array, R[spill_reg_], made by NEWSPILL at entry and sized
// when the function is done; such a local is an index in it, read and
// written with GETINDEX(I)/SETINDEX(I). Temporaries always get registers
// (kSpillFrom..249 stay for them). Calls whose arguments do not fit go
// through CALLV. Rejected: wider register operands (every instruction
// would grow for the rare function that needs them), and frame slots past
// 255 reached by wide moves (a call's frame starts just above its callee
// register and would overwrite them).
//
// Operator chains (a + b + c + ...) are walked along their left spine
// without recursion, into one accumulator register: any length compiles
// in constant registers and native stack.
// Rejected: Lua-style expression descriptors (deferred materialization):
// more machinery for little gain with a target-passing scheme.
#include "lang/codegen.h"

#include <algorithm>
#include <map>
#include <unordered_map>
#include <unordered_set>

#include "lang/liveness.h"

namespace weft::lang {

namespace {

constexpr int kArrayChunk = 50;  // elements per NEWARRAY/APPENDN: bounds literal temporaries
constexpr int kMapChunk = 25;    // pairs per NEWMAP/SETMAPN
constexpr int kMaxK8 = 255;      // constants reachable from an 8-bit operand

// Where the narrow forms end: their fields' range; or, in a build with
// WEFT_NARROW_OPERANDS (fuzzing, and the `narrow` test build: CMakeLists.txt),
// a few entries, so that small programs take the wide forms, the wide-jump
// retry, spilling and CALLV, and fuzzing reaches them without megabytes.
#ifdef WEFT_NARROW_OPERANDS
constexpr int kNarrowIndex = 3;   // constants and globals past it: LOADKX, GETGLOBALX, SETGLOBALX
constexpr int kNarrowJump = 7;    // conditional jumps past it: wide mode
constexpr int kNarrowSpill = 6;   // locals from it on are spilled
constexpr int kNarrowArgs = 3;    // calls with more arguments: CALLV
#else
constexpr int kNarrowIndex = kMaxBx;
constexpr int kNarrowJump = kBxBias;
constexpr int kNarrowSpill = 200;  // leaves 50 registers for temporaries
constexpr int kNarrowArgs = 255;   // CALL's 8-bit count
#endif

struct Loop {
  std::vector<int> breaks;     // JMPs to patch to the loop's exit
  std::vector<int> continues;  // JMPs to patch to the next-iteration code
};

struct Shared {
  CompileEnv& env;
  std::shared_ptr<const std::string> file;
  std::vector<Diagnostic>& errors;
  std::vector<std::unique_ptr<Proto>> protos;  // every proto made; adopted by the caller
  std::unordered_set<const FuncLit*> wide;     // functions known to need wide jumps
};

class FuncGen {
  friend struct weft::lang::MainPlan;

 public:
  FuncGen(Shared& shared, FuncLit* fn, bool wide) : sh_(shared), fn_(fn), wide_(wide) {}

  // Compiles fn, again in wide mode if a conditional jump overflowed (its
  // first attempt's protos and errors are dropped).
  static Proto* compile(Shared& sh, FuncLit* fn) {
    size_t protos = sh.protos.size(), errors = sh.errors.size();
    bool known_wide = sh.wide.count(fn) > 0;
    FuncGen first(sh, fn, known_wide);
    Proto* p = first.attempt();
    if (!first.overflow_) return p;
    sh.protos.resize(protos);
    sh.errors.resize(errors);
    sh.wide.insert(fn);
    return FuncGen(sh, fn, true).attempt();
  }

  // ---- main, a statement at a time (MainGen)

  // main's prologue: what attempt() emits before the body, from the plan
  // instead of the body (whose statements come later, one by one).
  void begin_main(const MainPlan& plan, int private_lets) {
    main_slots_ = private_lets + plan.inner_slots;
    start_proto();
    for (int64_t d : plan.selects) add_k(Value::inline_int(d));
    params();
    for (const auto& [name, line] : plan.fns) {  // hoisting: every closure first; its proto comes with its statement
      line_ = line;
      int t = alloc();
      int index = int(p_->protos.size());
      p_->protos.push_back(nullptr);
      if (index > kMaxBx) error_once("function too large (more than 65535 nested functions)");
      emit_abx(Op::CLOSURE, t, index);
      global_access(false, t, name);
      free_to(t);
    }
  }

  // One statement of main's body. A conditional jump in it that overflows
  // makes main wide from this statement on, the statement compiled again
  // (a jump never leaves its top-level statement).
  void main_statement(Stmt* s) {
    if (s->kind == StmtKind::FnDecl) {
      FuncLit* f = static_cast<FnDeclStmt*>(s)->fn;
      Proto* cp = compile(sh_, f);
      add_captures(cp, f);
      p_->protos[size_t(next_fn_++)] = cp;
    } else {
      Mark m = mark();
      statement(s);
      if (overflow_ && !wide_) {
        rewind(m);
        wide_ = true;
        overflow_ = false;
        statement(s);
      }
    }
    sh_.wide.clear();  // its FuncLits go with the statement's tree
  }

  Proto* finish_main() { return finish_proto(); }

 private:
  struct Mark {
    size_t code, operand_names, protos, all_protos, errors;
    int free, label;
    bool too_large;
  };
  Mark mark() const {
    return {p_->code.size(), p_->operand_names.size(), p_->protos.size(), sh_.protos.size(), sh_.errors.size(),
            free_, label_, too_large_};
  }
  // Drops what was emitted since m (constants stay: unused ones are harmless).
  void rewind(const Mark& m) {
    p_->code.resize(m.code);
    p_->lines.resize(m.code);
    p_->operand_names.resize(m.operand_names);
    p_->protos.resize(m.protos);
    sh_.protos.resize(m.all_protos);
    sh_.errors.resize(m.errors);
    free_ = m.free;
    label_ = m.label;
    too_large_ = m.too_large;
  }

  Proto* attempt() {
    start_proto();
    intern_selects(fn_->body);
    params();
    block_body(fn_->body);
    return finish_proto();
  }
  void start_proto() {
    auto owned = std::make_unique<Proto>();
    p_ = owned.get();
    sh_.protos.push_back(std::move(owned));
    p_->name = fn_->name;
    p_->file = sh_.file;
    p_->line = fn_->line;
    p_->nparams = int(fn_->params.size());
    line_ = fn_->line;
    free_ = max_ = p_->nparams;
  }
  Proto* finish_proto() {
    line_ = fn_->body->end_line ? fn_->body->end_line : line_;
    emit_abc(Op::RETURNNIL, 0, 0, 0);
    if (spill_reg_ >= 0) {
      if (spill_max_ > kMaxBx) error_once("too many local variables (more than 65535 past the first 200)");
      else p_->code[size_t(newspill_pc_)] = encode_abx(Op::NEWSPILL, spill_reg_, spill_max_);
    }
    p_->nregs = max_ > 0 ? max_ : 1;
    compute_stack_maps(*p_);
    return p_;
  }

  Shared& sh_;
  FuncLit* fn_;
  bool wide_;              // every forward conditional jump as a hop over a JMP
  bool overflow_ = false;  // a conditional jump did not fit: compile again, wide
  Proto* p_ = nullptr;
  int free_ = 0;  // first free register
  int max_ = 0;   // high-water mark: the frame size
  int line_ = 0;  // line of the instructions being emitted
  int col_ = 1;   // column of the statement or expression being compiled
  int label_ = 0;  // the last here(): a jump may land there
  bool too_large_ = false;
  static constexpr int kSpillFrom = kNarrowSpill;  // locals from here on are spilled (see the file comment)
  int spill_reg_ = -1;    // the spill array's register, or -1: this function spills nothing
  int spill_top_ = 0;     // next free spill slot (a stack, like registers)
  int spill_max_ = 0;     // the array's size
  int newspill_pc_ = -1;  // the NEWSPILL to size at the end
  int main_slots_ = -1;   // main: its locals' registers (begin_main), as local_slots counts them
  int next_fn_ = 0;       // main: the next top-level fn's proto index (begin_main reserved them)
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
  int emit_jmp() { return emit(encode_sj(Op::JMP, 0)); }
  // A forward JMPIF/JMPIFNOT on R[a], to patch later. Wide: the opposite
  // test hops over a JMP, which is what gets patched.
  int emit_cond(Op op, int a) {
    if (!wide_) return emit_jump(op, a);
    emit(encode_asbx(op == Op::JMPIF ? Op::JMPIFNOT : Op::JMPIF, a, 1));
    return emit_jmp();
  }
  // FORPREP (empty: jump past the loop) or ITERPREP (always jumps to the
  // loop's ITERNEXT), to patch later. Wide: the jump lands on a JMP.
  int emit_loop_head(Op op, int a) {
    if (!wide_) return emit_jump(op, a);
    if (op == Op::ITERPREP) {
      emit(encode_asbx(op, a, 0));
      return emit_jmp();
    }
    emit(encode_asbx(op, a, 1));         // empty: to the JMP below, past the loop
    emit(encode_sj(Op::JMP, 1));         // else into the body, past that JMP
    return emit_jmp();
  }
  // FORLOOP or ITERNEXT back to `body`; too far for sBx, it jumps (when it
  // goes on) to a JMP, and falls through to a JMP over that one.
  void emit_loop_back(Op op, int a, int body) {
    int offset = body - (int(p_->code.size()) + 1);
    if (offset >= -kNarrowJump) {
      emit(encode_asbx(op, a, offset));
      return;
    }
    emit(encode_asbx(op, a, 1));
    emit(encode_sj(Op::JMP, 1));
    patch(emit_jmp(), body);
  }
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
      n.kind = name->binding == Binding::Upvalue                     ? OperandName::Upvalue
               : name->binding == Binding::Local && !name->var->top_level ? OperandName::Local
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
    Instr i = p_->code[size_t(at)];
    if (op_of(i) == Op::JMP) {
      if (offset < -kSJBias || offset > kMaxSJ - kSJBias)
        error_once("function too large (a jump spans more than 8388607 instructions)");
      else p_->code[size_t(at)] = encode_sj(Op::JMP, offset);
      return;
    }
    if (offset < -kNarrowJump || offset > kNarrowJump) {
      overflow_ = true;  // compile() starts over in wide mode
      return;
    }
    p_->code[size_t(at)] = encode_asbx(op_of(i), arg_a(i), offset);
  }
  void patch_all(const std::vector<int>& jumps, int target) {
    for (int j : jumps) patch(j, target);
  }

  // A limit crossed: reported once per function, at the line being compiled.
  void error_once(const std::string& msg) {
    if (too_large_) return;
    too_large_ = true;
    sh_.errors.push_back({line_, col_, msg});
  }

  // ---- registers

  int alloc(int n = 1) {
    int r = free_;
    free_ += n;
    if (free_ > kMaxRegisters) {
      error_once("too many registers in use at once (limit 250)");
      free_ = r;  // keep encodings in range; the result is discarded anyway
      return 0;
    }
    if (free_ > max_) max_ = free_;
    return r;
  }
  void free_to(int r) { free_ = r; }

  // ---- locals: a register, or a spill slot

  // An upper bound on the registers that s's locals and loop state take at
  // once (a block's own declarations plus the most any of its statements
  // nests inside it).
  // Registers the locals of s take (at most, at once), for the spill decision.
  static int local_slots(Stmt* s) {
    switch (s->kind) {
      case StmtKind::Let: return static_cast<LetStmt*>(s)->var ? 1 : 0;
      case StmtKind::FnDecl: return static_cast<FnDeclStmt*>(s)->var ? 1 : 0;
      case StmtKind::If: {
        IfStmt* i = static_cast<IfStmt*>(s);
        return std::max(local_slots(i->then), i->otherwise ? local_slots(i->otherwise) : 0);
      }
      case StmtKind::While: return local_slots(static_cast<WhileStmt*>(s)->body);
      case StmtKind::For: return 4 + local_slots(static_cast<ForStmt*>(s)->body);
      case StmtKind::Select: {
        int most = 0;
        for (SelectCase& c : static_cast<SelectStmt*>(s)->cases) most = std::max(most, local_slots(c.body));
        return 2 + most;
      }
      case StmtKind::Block: {
        int own = 0, inner = 0;
        for (Stmt* x : static_cast<Block*>(s)->stmts) {
          if (x->kind == StmtKind::Let || x->kind == StmtKind::FnDecl) own += local_slots(x);
          else inner = std::max(inner, local_slots(x));
        }
        return own + inner;
      }
      default: return 0;
    }
  }

  // The parameters' homes; NEWSPILL first if the function may spill.
  void params() {
    int kept = p_->nparams;
    int slots = main_slots_ >= 0 ? main_slots_ : local_slots(fn_->body);
    if (p_->nparams + slots > kSpillFrom) {
      kept = std::min(p_->nparams, kSpillFrom);
      spill_reg_ = kept;
      newspill_pc_ = emit_abx(Op::NEWSPILL, kept, 0);
      spill_top_ = spill_max_ = p_->nparams - kept;
      free_ = kept + 1;
      max_ = std::max(max_, free_);
    }
    for (size_t i = 0; i < fn_->param_vars.size(); i++) {
      Var* v = fn_->param_vars[i];
      if (int(i) < kept) {
        bind_reg(v, int(i));
        if (v->captured) emit_abc(Op::NEWCELL, v->reg, v->reg, 0);
        continue;
      }
      v->reg = -1;
      v->spill = int(i) - kept;  // where NEWSPILL put it
      if (v->captured) {
        int t = alloc();
        spill_load(v->spill, t);
        emit_abc(Op::NEWCELL, t, t, 0);
        spill_store(v->spill, t);
        free_to(t);
      }
    }
  }

  static void bind_reg(Var* v, int r) {
    v->reg = r;
    v->spill = -1;
  }
  // Whether the next local goes to the spill array.
  bool spills_now() const { return spill_reg_ >= 0 && free_ >= kSpillFrom; }
  void bind_spill(Var* v) {
    v->reg = -1;
    v->spill = spill_top_++;
    spill_max_ = std::max(spill_max_, spill_top_);
  }
  void spill_load(int slot, int dst) {
    if (slot <= 255) {
      emit_abc(Op::GETINDEXI, dst, spill_reg_, slot);
    } else {
      int t = alloc();
      load_int(t, slot);
      emit_abc(Op::GETINDEX, dst, spill_reg_, t);
      free_to(t);
    }
  }
  void spill_store(int slot, int src) {
    if (slot <= 255) {
      emit_abc(Op::SETINDEXI, spill_reg_, slot, src);
    } else {
      int t = alloc();
      load_int(t, slot);
      emit_abc(Op::SETINDEX, spill_reg_, t, src);
      free_to(t);
    }
  }
  // A register holding captured v's cell: its own, or a new temporary.
  int cell_of(Var* v) {
    if (v->spill < 0) return v->reg;
    int t = alloc();
    spill_load(v->spill, t);
    return t;
  }
  // A non-captured local's own register, or -1 when it is spilled.
  static int own_reg(Var* v) { return v->captured || v->spill >= 0 ? -1 : v->reg; }

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
  // R[dst] = K[k]: LOADK, or LOADKX and an EXTRA word past Bx's range.
  void emit_loadk(int dst, int k) {
    if (k <= kNarrowIndex) {
      emit_abx(Op::LOADK, dst, k);
    } else if (k <= kMaxAx) {
      emit_abc(Op::LOADKX, dst, 0, 0);
      emit(encode_ax(Op::EXTRA, k));
    } else {
      error_once("function too large (more than 16777216 constants)");
    }
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

  void load_k(int dst, Value v) { emit_loadk(dst, add_k(v)); }

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

  // The one way to a global's slot (vm/interp/globals.h); -1, reported,
  // when the table is full.
  int global_slot(std::string_view name) {
    int slot = sh_.env.define_global(name);
    if (slot < 0) error_once("too many globals (more than 16777216)");
    return slot;
  }
  // R[r] = G[name] (get) or G[name] = R[r]: the X form past Bx's range.
  void global_access(bool get, int r, std::string_view name) {
    int slot = global_slot(name);
    if (slot < 0) return;
    if (slot <= kNarrowIndex) {
      emit_abx(get ? Op::GETGLOBAL : Op::SETGLOBAL, r, slot);
    } else {
      emit_abc(get ? Op::GETGLOBALX : Op::SETGLOBALX, r, 0, 0);
      emit(encode_ax(Op::EXTRA, slot));
    }
  }

  // The main chunk's top-level functions exist before its first statement.
  // ---- blocks and statements

  void block(Block* b) {
    int saved = free_, saved_spill = spill_top_;
    block_body(b);
    free_to(saved);
    spill_top_ = saved_spill;
  }

  // Hoisting: cells for the block's captured lets and the closures of its
  // functions, before its other statements.
  void block_body(Block* b) {
    block_entry(b);
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
    line_ = b->line;
    size_t in_regs = cells.size();
    if (spill_reg_ >= 0) in_regs = std::min(in_regs, size_t(std::max(0, kSpillFrom - free_)));
    if (in_regs > 0) {
      int base = alloc(int(in_regs));
      emit_abc(Op::LOADNIL, base, int(in_regs) - 1, 0);
      for (size_t i = 0; i < in_regs; i++) {
        bind_reg(cells[i], base + int(i));
        emit_abc(Op::NEWCELL, base + int(i), base + int(i), 0);
      }
    }
    for (size_t i = in_regs; i < cells.size(); i++) {  // the rest: spilled cells
      bind_spill(cells[i]);
      int t = alloc();
      emit_abc(Op::LOADNIL, t, 0, 0);
      emit_abc(Op::NEWCELL, t, t, 0);
      spill_store(cells[i]->spill, t);
      free_to(t);
    }
    for (FnDeclStmt* fd : fns) {
      line_ = fd->line;
      if (fd->var->captured) {
        int t = alloc();
        closure(fd->fn, t);
        emit_abc(Op::SETCELL, cell_of(fd->var), t, 0);
        free_to(t);
      } else if (spills_now()) {
        int t = alloc();
        closure(fd->fn, t);
        bind_spill(fd->var);
        spill_store(fd->var->spill, t);
        free_to(t);
      } else {
        bind_reg(fd->var, alloc());
        closure(fd->fn, fd->var->reg);
      }
    }
  }

  void statement(Stmt* s) {
    line_ = s->line;
    col_ = s->col;
    switch (s->kind) {
      case StmtKind::Let: let_statement(static_cast<LetStmt*>(s)); break;
      case StmtKind::FnDecl: break;  // hoisted
      case StmtKind::Assign: assign(static_cast<AssignStmt*>(s)); break;
      case StmtKind::Expr: expr_statement(static_cast<ExprStmt*>(s)->expr); break;
      case StmtKind::If: if_statement(static_cast<IfStmt*>(s)); break;
      case StmtKind::While: while_statement(static_cast<WhileStmt*>(s)); break;
      case StmtKind::For: for_statement(static_cast<ForStmt*>(s)); break;
      case StmtKind::Break: loops_.back().breaks.push_back(emit_jmp()); break;
      case StmtKind::Continue: loops_.back().continues.push_back(emit_jmp()); break;
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
      global_access(false, t, s->name);
      free_to(t);
    } else if (s->var->captured) {  // its cell exists since block entry
      int t = alloc();
      value_or_nil(s->init, t);
      emit_abc(Op::SETCELL, cell_of(s->var), t, 0);
      free_to(t);
    } else if (spills_now()) {
      int t = alloc();
      value_or_nil(s->init, t);
      bind_spill(s->var);
      spill_store(s->var->spill, t);
      free_to(t);
    } else {
      int r = alloc();
      value_or_nil(s->init, r);
      bind_reg(s->var, r);
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
      int saved = free_;
      if (!v) {
        global_access(false, r + j, *names[j]);
      } else if (v->captured) {
        emit_abc(Op::SETCELL, cell_of(v), r + j, 0);
      } else if (spills_now()) {
        bind_spill(v);
        spill_store(v->spill, r + j);
      } else {
        bind_reg(v, r + j);
        keep = true;
      }
      free_to(saved);
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
  bool writes_target_last(Expr* e) const {
    switch (e->kind) {
      case ExprKind::And: case ExprKind::Or: case ExprKind::Call: return false;
      case ExprKind::Array: return static_cast<ArrayExpr*>(e)->items.size() <= size_t(chunk(1));
      case ExprKind::Map: return static_cast<MapExpr*>(e)->keys.size() <= size_t(std::min(kMapChunk, chunk(2)));
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

  // The instruction of `K op x` (KADD..KMOD) for an arithmetic operator.
  static Op arith_k_left_op(Tok t) {
    switch (t) {
      case Tok::Plus: return Op::KADD;
      case Tok::Minus: return Op::KSUB;
      case Tok::Star: return Op::KMUL;
      case Tok::Slash: return Op::KDIV;
      default: return Op::KMOD;
    }
  }

  // R[dst] = K op right for an arithmetic `b` whose left operand is a
  // number constant and whose right one is not (2.0 * x: one instruction
  // instead of a LOADK and a MUL); false when b is not of that shape.
  bool arith_k_left(BinaryExpr* b, int dst) {
    Value v;
    int k = k8(b->left, false);
    if (k < 0 || number_value(b->right, v)) return false;
    int saved = free_;
    int r = expr_any(b->right);
    emit_abc(arith_k_left_op(b->op), dst, r, k);
    free_to(saved);
    return true;
  }

  static bool is_arith(const Expr* e) {
    if (e->kind != ExprKind::Binary) return false;
    switch (static_cast<const BinaryExpr*>(e)->op) {
      case Tok::Plus: case Tok::Minus: case Tok::Star: case Tok::Slash: case Tok::Percent: return true;
      default: return false;
    }
  }

  // R[dst] = (x op1 y) op2 right as one instruction of the ARITH2 family
  // (MUL_ADD, ...) and its EXTRA word.
  void fused_arith(BinaryExpr* inner, Tok op2, int dst, Expr* right) {
    int saved = free_;
    int x = expr_any(inner->left);
    int y = expr_any(inner->right);
    int k = k8(right, false);
    Op second = arith_op(op2, k >= 0);
    int z = k >= 0 ? k : expr_any(right);
    Op first = arith_op(inner->op, false);
    emit_abc(arith2_op(first, second), dst, x, y);
    emit_abc(Op::EXTRA, int(first), int(second), z);
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
          emit_loadk(key, k);
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
    if (n->binding == Binding::Local && own_reg(n->var) >= 0) {
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
      case Binding::Local:
        if (n->var->captured) emit_abc(Op::SETCELL, cell_of(n->var), v, 0);
        else spill_store(n->var->spill, v);
        break;
      case Binding::Upvalue: upvalue_access(false, v, n->index); break;
      default: global_access(false, v, n->name); break;
    }
  }

  void if_statement(IfStmt* s) {
    std::vector<int> if_false;
    cond_jump(s->cond, false, if_false);
    block(s->then);
    if (s->otherwise) {
      line_ = s->then->end_line;
      int skip = emit_jmp();
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
    int to_test = constant ? -1 : emit_jmp();
    int body = here();
    loops_.emplace_back();
    block(s->body);
    Loop loop = std::move(loops_.back());
    loops_.pop_back();
    line_ = s->line;
    patch_all(loop.continues, here());
    if (constant) {
      patch(emit_jmp(), body);
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
    bind_reg(v, reg);
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
      head = emit_loop_head(Op::FORPREP, base);
    } else {
      expr_to(s->iterable, base);
      line_ = s->line;
      head = emit_loop_head(Op::ITERPREP, base);
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
    emit_loop_back(step, base, body);
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
    for (int i = 0; i < n; i++) {
      SelectCase* c = cases[size_t(i)];
      int r = alloc(c->kind == SelectCase::Send ? 2 : 1);
      expr_to(c->channel, r);
      if (c->kind == SelectCase::Send) expr_to(c->value, r + 1);
    }
    line_ = s->line;
    int k = add_k(Value::inline_int(select_descriptor(s)));
    if (k > kMaxK8) error_once("function too large (more than 256 distinct select shapes)");
    emit_abc(Op::SELECT, res, base, k);
    free_to(base);
    std::vector<int> ends;
    for (int i = 0; i < n; i++) {
      bool last = i == n - 1 && !dflt;  // the only possibility left: no test
      line_ = cases[size_t(i)]->line;
      int skip = last ? -1 : case_test(res, i);
      case_body(cases[size_t(i)], res + 1);
      if (!last) ends.push_back(emit_jmp());
      if (skip >= 0) patch(skip, here());
    }
    if (dflt) case_body(dflt, -1);
    patch_all(ends, here());
    free_to(saved);
  }

  static int64_t select_descriptor(SelectStmt* s) {
    int n = 0;
    bool dflt = false;
    uint64_t sendmask = 0;
    for (SelectCase& c : s->cases) {
      if (c.kind == SelectCase::Default) dflt = true;
      else if (c.kind == SelectCase::Send && n < 64) sendmask |= uint64_t(1) << n++;
      else n++;
    }
    return select_desc(n, dflt, sendmask);
  }

  // SELECT names its descriptor by an 8-bit constant index, so a
  // function's descriptors take its first constants, before any other.
  void intern_selects(Stmt* s) {
    std::vector<int64_t> descriptors;
    collect_selects(s, descriptors);
    for (int64_t d : descriptors) add_k(Value::inline_int(d));
  }
 public:
  // The descriptors of the selects in s (not in nested functions), in order.
  static void collect_selects(Stmt* s, std::vector<int64_t>& out) {
    switch (s->kind) {
      case StmtKind::If: {
        IfStmt* i = static_cast<IfStmt*>(s);
        collect_selects(i->then, out);
        if (i->otherwise) collect_selects(i->otherwise, out);
        break;
      }
      case StmtKind::While: collect_selects(static_cast<WhileStmt*>(s)->body, out); break;
      case StmtKind::For: collect_selects(static_cast<ForStmt*>(s)->body, out); break;
      case StmtKind::Block:
        for (Stmt* x : static_cast<Block*>(s)->stmts) collect_selects(x, out);
        break;
      case StmtKind::Select: {
        SelectStmt* sel = static_cast<SelectStmt*>(s);
        out.push_back(select_descriptor(sel));
        for (SelectCase& c : sel->cases) collect_selects(c.body, out);
        break;
      }
      default: break;
    }
  }

 private:
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
    return emit_jmp();
  }

  void case_body(SelectCase* c, int value) {
    line_ = c->line;
    for (Var* v : {c->var, c->var_ok}) {
      if (!v) continue;
      bind_reg(v, value);
      if (v->captured) emit_abc(Op::NEWCELL, value, value, 0);
      value++;
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
    if (!call_fits(s->call->args.size(), free_)) {
      int a = alloc(2);
      expr_to(s->call->callee, a + 1);
      array_of(s->call->args, a, s->call->line);
      line_ = s->line;
      emit_abc(Op::GOV, a, 0, 0);
      free_to(saved);
      return;
    }
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
      logical_jump(static_cast<BinaryExpr*>(e), jump_if, jumps);
    } else if (e->kind == ExprKind::Binary && is_comparison(static_cast<BinaryExpr*>(e)->op)) {
      compare_jump(static_cast<BinaryExpr*>(e), jump_if, jumps);
    } else if (constant_truth(e, truth)) {
      if (truth == jump_if) jumps.push_back(emit_jmp());
    } else {
      int saved = free_;
      int r = expr_any(e);
      jumps.push_back(emit_cond(jump_if ? Op::JMPIF : Op::JMPIFNOT, r));
      free_to(saved);
    }
    line_ = saved_line;
  }

  // a && b && c ... (one operator): the operands of its left spine in
  // order, without recursion down the spine.
  void logical_jump(BinaryExpr* top, bool jump_if, std::vector<int>& jumps) {
    std::vector<Expr*> ops;  // right to left
    Expr* e = top;
    for (; e->kind == top->kind; e = static_cast<BinaryExpr*>(e)->left) ops.push_back(static_cast<BinaryExpr*>(e)->right);
    ops.push_back(e);
    std::reverse(ops.begin(), ops.end());
    bool short_on = top->kind == ExprKind::Or;  // the operand value that decides
    if (jump_if == short_on) {
      for (Expr* x : ops) cond_jump(x, jump_if, jumps);
      return;
    }
    std::vector<int> decided;
    for (size_t i = 0; i + 1 < ops.size(); i++) cond_jump(ops[i], short_on, decided);
    cond_jump(ops.back(), jump_if, jumps);
    patch_all(decided, here());
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

  // `left`: as binary()'s.
  void compare_jump(BinaryExpr* b, bool jump_if, std::vector<int>& jumps, int left = -1) {
    int saved = free_;
    Tok op = b->op;
    bool sense = op == Tok::Ne ? !jump_if : jump_if;
    bool equality = op == Tok::Eq || op == Tok::Ne;
    int k = k8(b->right, equality);
    if (k >= 0) {
      int a = left >= 0 ? left : expr_any(b->left);
      emit_abc(k_compare(op), a, k, sense);
    } else if (left < 0 && equality && (k = k8(b->left, true)) >= 0) {
      int a = expr_any(b->right);
      emit_abc(Op::JEQK, a, k, sense);
    } else {
      int l = left >= 0 ? left : expr_any(b->left);
      int r = expr_any(b->right);
      switch (op) {
        case Tok::Lt: emit_abc(Op::JLT, l, r, sense); break;
        case Tok::Le: emit_abc(Op::JLE, l, r, sense); break;
        case Tok::Gt: emit_abc(Op::JGT, l, r, sense); break;
        case Tok::Ge: emit_abc(Op::JGE, l, r, sense); break;
        default: emit_abc(Op::JEQ, l, r, sense); break;
      }
    }
    jumps.push_back(emit_jmp());
    free_to(saved);
  }

  // ---- expressions

  // A register holding e's value: a non-captured local's own, or a new
  // temporary (the caller frees it by resetting free_).
  int expr_any(Expr* e) {
    if (e->kind == ExprKind::Name) {
      NameExpr* n = static_cast<NameExpr*>(e);
      if (n->binding == Binding::Local && own_reg(n->var) >= 0) return n->var->reg;
    }
    int r = alloc();
    expr_to(e, r);
    return r;
  }

  void read_name(NameExpr* n, int dst) {
    switch (n->binding) {
      case Binding::Local:
        if (n->var->spill >= 0) {
          spill_load(n->var->spill, dst);
          if (n->var->captured) emit_abc(Op::GETCELL, dst, dst, 0);
        } else if (n->var->captured) {
          emit_abc(Op::GETCELL, dst, n->var->reg, 0);
        } else if (n->var->reg != dst) {
          emit_abc(Op::MOVE, dst, n->var->reg, 0);
        }
        break;
      case Binding::Upvalue: upvalue_access(true, dst, n->index); break;
      default: global_access(true, dst, n->name); break;
    }
  }

  void upvalue_access(bool get, int r, int index) {
    if (index > kMaxBx) error_once("too many captured variables (more than 65536)");
    else emit_abx(get ? Op::GETUPVAL : Op::SETUPVAL, r, index);
  }

  // Evaluates e into R[dst]; e must not read dst (see the file comment).
  void expr_to(Expr* e, int dst) {
    int saved_line = line_, saved_col = col_;
    int saved = free_;
    line_ = e->line;
    col_ = e->col;
    switch (e->kind) {
      case ExprKind::Nil: load_nil(dst); break;
      case ExprKind::True: emit_abc(Op::LOADTRUE, dst, 0, 0); break;
      case ExprKind::False: emit_abc(Op::LOADFALSE, dst, 0, 0); break;
      case ExprKind::Int: load_int(dst, static_cast<LiteralExpr*>(e)->ival); break;
      case ExprKind::Float: load_k(dst, Value::number(static_cast<LiteralExpr*>(e)->fval)); break;
      case ExprKind::String: {
        emit_loadk(dst, string_k(static_cast<LiteralExpr*>(e)->str));
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
      case ExprKind::Or: logical(static_cast<BinaryExpr*>(e), dst); break;
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
          emit_loadk(key, k);
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
    col_ = saved_col;
  }

  // a && b || c ... as a value: its left spine of && and || bottom-up,
  // each level's value in dst (no recursion down the spine).
  void logical(BinaryExpr* top, int dst) {
    std::vector<BinaryExpr*> spine;  // top first
    Expr* e = top;
    for (; e->kind == ExprKind::And || e->kind == ExprKind::Or; e = static_cast<BinaryExpr*>(e)->left)
      spine.push_back(static_cast<BinaryExpr*>(e));
    expr_to(e, dst);
    for (size_t k = spine.size(); k-- > 0;) {
      BinaryExpr* b = spine[k];
      line_ = b->line;
      int j = emit_cond(b->kind == ExprKind::And ? Op::JMPIFNOT : Op::JMPIF, dst);
      expr_to(b->right, dst);
      patch(j, here());
    }
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

  // A left spine of binary operators deeper than this compiles through
  // binary_chain; shallower ones keep the recursive form, which fuses
  // pairs into ARITH2 (what hot loops are tuned for).
  static constexpr int kShortChain = 4;

  static bool long_chain(Expr* e) {
    int depth = 0;
    for (; e->kind == ExprKind::Binary && depth <= kShortChain; depth++) e = static_cast<BinaryExpr*>(e)->left;
    return depth > kShortChain;
  }

  // ((x op1 y1) op2 y2) ... opn yn without recursion: the bottom level
  // into an accumulator, each level above from it, the top into dst.
  void binary_chain(BinaryExpr* top, int dst) {
    std::vector<BinaryExpr*> spine;  // top first
    for (Expr* e = top; e->kind == ExprKind::Binary; e = static_cast<BinaryExpr*>(e)->left)
      spine.push_back(static_cast<BinaryExpr*>(e));
    int saved = free_;
    int acc = alloc();
    binary(spine.back(), acc);  // its left is no Binary: no recursion down the spine
    for (size_t k = spine.size() - 1; k-- > 0;) {
      line_ = spine[k]->line;
      binary(spine[k], k == 0 ? dst : acc, acc);
    }
    free_to(saved);
  }

  // R[dst] = b; `left`, if not -1, is the register already holding the
  // value of b->left (binary_chain's accumulator).
  void binary(BinaryExpr* b, int dst, int left = -1) {
    if (left < 0 && long_chain(b)) {
      binary_chain(b, dst);
      return;
    }
    switch (b->op) {
      case Tok::Plus: case Tok::Minus: case Tok::Star: case Tok::Slash: case Tok::Percent:
        if (left < 0 && is_arith(b->left)) fused_arith(static_cast<BinaryExpr*>(b->left), b->op, dst, b->right);
        else if (left < 0 && arith_k_left(b, dst)) return;
        else arith(b->op, dst, left >= 0 ? left : expr_any(b->left), b->right);
        return;
      case Tok::Amp: case Tok::Pipe: case Tok::Caret: case Tok::Shl: case Tok::Shr:
        arith(b->op, dst, left >= 0 ? left : expr_any(b->left), b->right);
        return;
      default: break;
    }
    int l = left >= 0 ? left : expr_any(b->left);
    int r = expr_any(b->right);
    switch (b->op) {
      case Tok::Eq: emit_abc(Op::EQ, dst, l, r); break;
      case Tok::Ne: emit_abc(Op::NE, dst, l, r); break;
      case Tok::Lt: emit_abc(Op::LT, dst, l, r); break;
      case Tok::Le: emit_abc(Op::LE, dst, l, r); break;
      // GT and GE, not LT and LE with the operands swapped: a type error
      // names the operands in source order ("float >= nil").
      case Tok::Gt: emit_abc(Op::GT, dst, l, r); break;
      default: emit_abc(Op::GE, dst, l, r); break;  // Ge
    }
  }

  // Callee into base, arguments above it; returns the argument count.
  int call_frame(CallExpr* c, int base) {
    expr_to(c->callee, base);
    for (Expr* a : c->args) expr_to(a, alloc());
    line_ = c->line;
    return int(c->args.size());
  }

  // Whether a call's frame (callee, arguments) fits the registers left
  // from `base` and CALL's 8-bit count; if not, it goes through CALLV.
  static bool call_fits(size_t nargs, int base) {
    return nargs <= size_t(kNarrowArgs) && base + 1 + int(nargs) <= kMaxRegisters;
  }

  void call(CallExpr* c, int dst) {
    if (!call_fits(c->args.size(), dst == free_ - 1 ? dst : free_)) {
      call_wide(c, dst);
      return;
    }
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
    return slot >= 0 && slot <= 255 ? slot : -1;
  }
  static bool runs_no_code(Expr* e) {
    switch (e->kind) {
      case ExprKind::Call: case ExprKind::Recv: case ExprKind::Range: return false;
      case ExprKind::Unary: return runs_no_code(static_cast<UnaryExpr*>(e)->operand);
      case ExprKind::Binary: case ExprKind::And: case ExprKind::Or: {
        for (; e->kind == ExprKind::Binary || e->kind == ExprKind::And || e->kind == ExprKind::Or;
             e = static_cast<BinaryExpr*>(e)->left)  // a loop down the left spine: chains are long
          if (!runs_no_code(static_cast<BinaryExpr*>(e)->right)) return false;
        return runs_no_code(e);
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

  // R[dst] = c through CALLV: R[A] the arguments as an array, R[A+1] the
  // callee (evaluated first, as always), the result in R[A+1].
  void call_wide(CallExpr* c, int dst) {
    int saved = free_;
    int a = alloc(2);
    expr_to(c->callee, a + 1);
    array_of(c->args, a, c->line);
    line_ = c->line;
    emit_abc(Op::CALLV, a, 0, 0);
    emit_abc(Op::MOVE, dst, a + 1, 0);
    free_to(saved);
  }

  // Elements per NEWARRAY/APPENDN: kArrayChunk, or what registers are left.
  int chunk(int per) const { return std::max(1, std::min(kArrayChunk, (kMaxRegisters - free_) / per)); }

  void array(ArrayExpr* a, int dst) { array_of(a->items, dst, a->line); }

  void array_of(const std::vector<Expr*>& items, int dst, int line) {
    size_t n = items.size();
    size_t step = size_t(chunk(1));
    for (size_t start = 0; start == 0 || start < n; start += step) {
      size_t count = std::min(n - start, step);
      int base = free_;  // items go to base.. one register at a time, so a call lands in place
      for (size_t i = 0; i < count; i++) expr_to(items[start + i], alloc());
      line_ = line;
      emit_abc(start == 0 ? Op::NEWARRAY : Op::APPENDN, dst, base, int(count));
      free_to(base);
    }
  }

  void map(MapExpr* m, int dst) {
    size_t n = m->keys.size();
    size_t step = size_t(std::min(kMapChunk, chunk(2)));
    for (size_t start = 0; start == 0 || start < n; start += step) {
      size_t count = std::min(n - start, step);
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
    Proto* cp = compile(sh_, f);
    add_captures(cp, f);
    int index = int(p_->protos.size());
    p_->protos.push_back(cp);
    if (index > kMaxBx) error_once("function too large (more than 65535 nested functions)");
    emit_abx(Op::CLOSURE, dst, index);
  }
  // How CLOSURE fills f's upvalues from this frame.
  void add_captures(Proto* cp, FuncLit* f) {
    for (const Upvalue& u : f->upvalues) {
      Capture c;
      c.from_register = u.from_parent_register;
      c.index = uint32_t(u.from_parent_register ? u.var->reg : u.parent_index);
      if (u.from_parent_register && u.var->spill >= 0) {  // its cell is in the spill array
        c.index = uint32_t(spill_reg_);
        c.slot = u.var->spill;
      }
      cp->captures.push_back(c);
    }
  }
};

}  // namespace

void MainPlan::note(Stmt* s) {
  if (s->kind == StmtKind::FnDecl) fns.emplace_back(static_cast<FnDeclStmt*>(s)->fn->name, s->line);
  else if (s->kind != StmtKind::Let) inner_slots = std::max(inner_slots, FuncGen::local_slots(s));
  FuncGen::collect_selects(s, selects);
}

struct MainGen::Impl {
  Shared shared;
  FuncGen gen;
  Impl(FuncLit* main, CompileEnv& env, std::shared_ptr<const std::string> file, std::vector<Diagnostic>& errors)
      : shared{env, std::move(file), errors, {}, {}}, gen(shared, main, false) {}
};

MainGen::MainGen(FuncLit* main, const MainPlan& plan, int private_lets, CompileEnv& env,
                 std::shared_ptr<const std::string> file, std::vector<Diagnostic>& errors)
    : impl_(std::make_unique<Impl>(main, env, std::move(file), errors)) {
  impl_->gen.begin_main(plan, private_lets);
}
MainGen::~MainGen() = default;

void MainGen::statement(Stmt* s) { impl_->gen.main_statement(s); }

std::vector<std::unique_ptr<Proto>> MainGen::finish() {
  impl_->gen.finish_main();
  return std::move(impl_->shared.protos);  // main first (begin_main made it)
}

}  // namespace weft::lang
