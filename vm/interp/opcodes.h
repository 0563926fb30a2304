// The one opcode table. It drives the Op enum, the interpreter's dispatch
// table, the disassembler, and the compiler's liveness (which operands a
// instruction reads and writes) and safe-point bookkeeping.
//
// Instructions are 32 bits: op:8 | A:8 | B:8 | C:8, or op:8 | A:8 | Bx:16
// (sBx = Bx - kBxBias), or JMP's op:8 | sJ:24. An operand too wide for its
// field goes in an EXTRA word after the instruction (op:8 | Ax:24), as
// Lua's OP_EXTRAARG: LOADKX, GETGLOBALX, SETGLOBALX (vm/interp/bytecode.h).
// R[x] is register x of the current frame, K[x] constant x, G[x] global
// slot x, U[x] upvalue cell x of the running closure.
//
// Columns: name, A, B, C operand modes, flags.
//   Operand modes: N unused · R register read · W register written ·
//   X register read and written · K constant · I unsigned immediate ·
//   S signed Bx · G global slot · U upvalue · P child proto ·
//   B16 the B column is Bx (16 bits, C unused).
//   Ranges and implicit registers (CALL, NEWARRAY, FORLOOP, ITER*) are
//   described per opcode below and handled by name in liveness.
//   Flags: SP is a safe-point (may call, allocate, block or switch): the
//   compiler records a stack map for it and the interpreter saves its pc
//   before the operation (Lua's Protect). JX: the next instruction is a JMP
//   that is taken iff the test holds (Lua's compare-and-skip pairs).
//
// Reordering this table changes dispatch layout: run the benchmarks.
#pragma once

#include <cstdint>

// clang-format off
// The ARITH2 family's row for op1 = O1: O1_ADD .. O1_MOD, in the order of
// ADD .. MOD (arith2_op in vm/interp/bytecode.h counts on it).
#define WEFT_ARITH2_ROW(OP, O1)                                                 \
  OP(O1##_ADD,  W, R, R, SP)                                                    \
  OP(O1##_SUB,  W, R, R, SP)                                                    \
  OP(O1##_MUL,  W, R, R, SP)                                                    \
  OP(O1##_DIV,  W, R, R, SP)                                                    \
  OP(O1##_MOD,  W, R, R, SP)
#define WEFT_OPCODES(OP)                                                        \
  /* R[A] = R[B] */                                                             \
  OP(MOVE,      W, R, N, 0)                                                     \
  /* R[A] = K[Bx] */                                                            \
  OP(LOADK,     W, K, B16, 0)                                                   \
  /* R[A] = int(sBx) */                                                         \
  OP(LOADI,     W, S, B16, 0)                                                   \
  /* R[A .. A+B] = nil (B+1 registers) */                                       \
  OP(LOADNIL,   W, I, N, 0)                                                     \
  OP(LOADTRUE,  W, N, N, 0)                                                     \
  OP(LOADFALSE, W, N, N, 0)                                                     \
  /* R[A] = G[Bx]; G[Bx] = R[A] */                                              \
  OP(GETGLOBAL, W, G, B16, 0)                                                   \
  OP(SETGLOBAL, R, G, B16, 0)                                                   \
  /* R[A] = U[Bx].value; U[Bx].value = R[A] */                                  \
  OP(GETUPVAL,  W, U, B16, 0)                                                   \
  OP(SETUPVAL,  R, U, B16, 0)                                                   \
  /* R[A] = new Cell(R[B]): a captured variable's box */                        \
  OP(NEWCELL,   W, R, N, SP)                                                    \
  /* R[A] = cell(R[B]).value; cell(R[A]).value = R[B] */                        \
  OP(GETCELL,   W, R, N, 0)                                                     \
  OP(SETCELL,   R, R, N, 0)                                                     \
  /* R[A] = closure of P[Bx]; captures per the child's capture list, read */   \
  /* from this frame's registers (cells) or this closure's upvalues */          \
  OP(CLOSURE,   W, P, B16, SP)                                                  \
  /* R[A] = [R[B] .. R[B+C-1]]; APPENDN pushes R[B .. B+C-1] onto R[A] */      \
  OP(NEWARRAY,  W, R, I, SP)                                                    \
  OP(APPENDN,   R, R, I, SP)                                                    \
  /* R[A] = {R[B]: R[B+1], ...} with C pairs; SETMAPN adds C pairs to R[A] */  \
  OP(NEWMAP,    W, R, I, SP)                                                    \
  OP(SETMAPN,   R, R, I, SP)                                                    \
  /* R[A] = R[B][R[C]];  R[A][R[B]] = R[C] (a map insert may allocate) */      \
  OP(GETINDEX,  W, R, R, 0)                                                     \
  OP(SETINDEX,  R, R, R, SP)                                                    \
  /* the same with an immediate index C / B (0..255): a[0], a[1] = v */        \
  OP(GETINDEXI, W, R, I, 0)                                                     \
  OP(SETINDEXI, R, I, R, SP)                                                    \
  /* R[A] = R[B][K[C]];  R[A][K[B]] = R[C]  (K a string: m.name) */             \
  OP(GETFIELD,  W, R, K, 0)                                                     \
  OP(SETFIELD,  R, K, R, SP)                                                    \
  /* R[A] = R[B] op R[C]; may allocate (a boxed int, a concatenation) */       \
  OP(ADD,       W, R, R, SP)                                                    \
  OP(SUB,       W, R, R, SP)                                                    \
  OP(MUL,       W, R, R, SP)                                                    \
  OP(DIV,       W, R, R, SP)                                                    \
  OP(MOD,       W, R, R, SP)                                                    \
  /* R[A] = R[B] op K[C] (K a number) */                                        \
  OP(ADDK,      W, R, K, SP)                                                    \
  OP(SUBK,      W, R, K, SP)                                                    \
  OP(MULK,      W, R, K, SP)                                                    \
  OP(DIVK,      W, R, K, SP)                                                    \
  OP(MODK,      W, R, K, SP)                                                    \
  /* R[A] = K[C] op R[B] (K a number on the left: 2.0 * x, 1.0 - x), so */   \
  /* that an error names the operands in source order ("float * string") */  \
  OP(KADD,      W, R, K, SP)                                                    \
  OP(KSUB,      W, R, K, SP)                                                    \
  OP(KMUL,      W, R, K, SP)                                                    \
  OP(KDIV,      W, R, K, SP)                                                    \
  OP(KMOD,      W, R, K, SP)                                                    \
  /* R[A] = (R[B] op1 R[C]) op2 Z, two words, one opcode per pair of */     \
  /* operators (MUL_ADD: a * b + c; the ARITH2 family): the next word is */    \
  /* an EXTRA whose A is op1 (ADD..MOD), B is op2 (ADD..MOD: Z = R[C]; */      \
  /* ADDK..MODK: Z = K[C]) and C is Z's operand. Fused so that an int */       \
  /* intermediate that leaves the inline range (i*i % 7) is never boxed; */    \
  /* an opcode per pair so that dispatch is one jump to code for it. */        \
  WEFT_ARITH2_ROW(OP, ADD)                                                      \
  WEFT_ARITH2_ROW(OP, SUB)                                                      \
  WEFT_ARITH2_ROW(OP, MUL)                                                      \
  WEFT_ARITH2_ROW(OP, DIV)                                                      \
  WEFT_ARITH2_ROW(OP, MOD)                                                      \
  OP(EXTRA,     N, N, N, 0)                                                     \
  /* R[A] = -R[B] (may box); R[A] = !R[B] */                                   \
  OP(NEG,       W, R, N, SP)                                                    \
  OP(NOT,       W, R, N, 0)                                                     \
  /* R[A] = R[B] op R[C] / op K[C]: & | ^ << >> on ints only (a box for */      \
  /* a wide result); R[A] = ~R[B] */                                           \
  OP(BAND,      W, R, R, SP)                                                    \
  OP(BOR,       W, R, R, SP)                                                    \
  OP(BXOR,      W, R, R, SP)                                                    \
  OP(SHL,       W, R, R, SP)                                                    \
  OP(SHR,       W, R, R, SP)                                                    \
  OP(BANDK,     W, R, K, SP)                                                    \
  OP(BORK,      W, R, K, SP)                                                    \
  OP(BXORK,     W, R, K, SP)                                                    \
  OP(SHLK,      W, R, K, SP)                                                    \
  OP(SHRK,      W, R, K, SP)                                                    \
  OP(BNOT,      W, R, N, SP)                                                    \
  /* R[A] = R[B] op R[C] as a bool */                                           \
  OP(EQ,        W, R, R, 0)                                                     \
  OP(NE,        W, R, R, 0)                                                     \
  OP(LT,        W, R, R, 0)                                                     \
  OP(LE,        W, R, R, 0)                                                     \
  OP(GT,        W, R, R, 0)                                                     \
  OP(GE,        W, R, R, 0)                                                     \
  /* compare-and-skip: if (R[A] op R[B]) == bool(C) the next JMP runs, */      \
  /* else it is skipped. The K forms compare R[A] with K[B]. */                 \
  OP(JEQ,       R, R, I, JX)                                                    \
  OP(JLT,       R, R, I, JX)                                                    \
  OP(JLE,       R, R, I, JX)                                                    \
  OP(JGT,       R, R, I, JX)                                                    \
  OP(JGE,       R, R, I, JX)                                                    \
  OP(JEQK,      R, K, I, JX)                                                    \
  OP(JLTK,      R, K, I, JX)                                                    \
  OP(JLEK,      R, K, I, JX)                                                    \
  OP(JGTK,      R, K, I, JX)                                                    \
  OP(JGEK,      R, K, I, JX)                                                    \
  /* pc += sJ (24 bits, no A); JMPIF / JMPIFNOT: pc += sBx when R[A] is */      \
  /* truthy / falsy */                                                          \
  OP(JMP,       N, S, B16, 0)                                                   \
  OP(JMPIF,     R, S, B16, 0)                                                   \
  OP(JMPIFNOT,  R, S, B16, 0)                                                   \
  /* for i in R[A]..R[A+1]: FORPREP checks both are ints, jumps by sBx */      \
  /* past the loop if empty, else sets R[A+2] = R[A]. FORLOOP increments */    \
  /* R[A]; if R[A] < R[A+1] sets R[A+2] = R[A] and jumps by sBx. */             \
  OP(FORPREP,   X, S, B16, 0)                                                   \
  OP(FORLOOP,   X, S, B16, 0)                                                   \
  /* for .. in R[A]: ITERPREP checks R[A] is iterable, sets the hidden */      \
  /* state R[A+1] = 0 and jumps by sBx to the loop's ITERNEXT. ITERNEXT1 */    \
  /* sets R[A+2] = the next value (array, channel) or key (map); */            \
  /* ITERNEXT2 sets R[A+2] = index or key and R[A+3] = value; both jump */     \
  /* by sBx to the body when there is one, else fall through. */                \
  OP(ITERPREP,  X, S, B16, SP)                                                  \
  OP(ITERNEXT1, X, S, B16, SP)                                                  \
  OP(ITERNEXT2, X, S, B16, SP)                                                  \
  /* R[A] = R[A](R[A+1] .. R[A+B]): one result, always */                       \
  OP(CALL,      X, I, N, SP)                                                    \
  /* R[A] = G[C], then CALL A B: a global function's call whose arguments */   \
  /* make no call and receive from no channel (the compiler checks), so */     \
  /* loading the global after them is not observable */                        \
  OP(CALLG,     X, I, G, SP)                                                    \
  /* go R[A](R[A+1] .. R[A+B]) */                                               \
  OP(GO,        R, I, N, SP)                                                    \
  /* return R[A]; return nil */                                                 \
  OP(RETURN,    R, N, N, 0)                                                     \
  OP(RETURNNIL, N, N, N, 0)                                                     \
  /* R[A] <- R[B] (send); R[A] = <-R[B] (receive); RECV2 also sets */         \
  /* R[A+1] = ok (false once the channel is closed and drained) */              \
  OP(SEND,      R, R, N, SP)                                                    \
  OP(RECV,      W, R, N, SP)                                                    \
  OP(RECV2,     W, R, N, SP)                                                    \
  /* SELECT: a select over the cases whose operands are R[B ..] (a */           \
  /* receive: its channel; a send: channel, value), described by the int */     \
  /* K[C] (select_desc below: count, default, send mask). R[A] = the case */     \
  /* taken (-1: default), R[A+1] = the value received (else nil), */          \
  /* R[A+2] = ok (a receive's: false from a closed channel; else true) */     \
  OP(SELECT,    W, R, K, SP)                                                    \
  /* LOADK, GETGLOBAL and SETGLOBAL with the index in the next EXTRA word */    \
  OP(LOADKX,    W, N, N, 0)                                                     \
  OP(GETGLOBALX, W, N, N, 0)                                                    \
  OP(SETGLOBALX, R, N, N, 0)                                                    \
  /* A call with more arguments than CALL's 8 bits can count: R[A] is an */    \
  /* array of the arguments, R[A+1] the callee; the arguments are copied to */ \
  /* R[A+2 ..] and R[A+1] = R[A+1](R[A+2] ..). The array stays in R[A] so */   \
  /* that a native's arguments stay rooted and a re-executed CALLV (after a */ \
  /* stop) finds them again. GOV: go R[A+1](the elements of R[A]) */          \
  OP(CALLV,     R, N, N, SP)                                                    \
  OP(GOV,       R, N, N, SP)                                                    \
  /* R[A] = a function's spill array (its locals past the register file, */   \
  /* lang/codegen.cpp): Bx nils, the first ones the parameters R[A ..] */       \
  OP(NEWSPILL,  W, I, B16, SP)
// clang-format on

namespace weft {

enum class Op : uint8_t {
#define WEFT_OP_ENUM(name, a, b, c, flags) name,
  WEFT_OPCODES(WEFT_OP_ENUM)
#undef WEFT_OP_ENUM
};

#define WEFT_OP_COUNT_ONE(name, a, b, c, flags) +1
constexpr int kOpCount = 0 WEFT_OPCODES(WEFT_OP_COUNT_ONE);
#undef WEFT_OP_COUNT_ONE

// Operand modes, as the table's columns name them.
enum class Mode : uint8_t { N, R, W, X, K, I, S, G, U, P, B16 };
enum OpFlags : uint8_t { SP = 1, JX = 2 };

struct OpInfo {
  const char* name;
  Mode a, b, c;
  uint8_t flags;
};

inline constexpr OpInfo kOpInfo[] = {
#define WEFT_OP_INFO(name, a, b, c, flags) {#name, Mode::a, Mode::b, Mode::c, flags},
    WEFT_OPCODES(WEFT_OP_INFO)
#undef WEFT_OP_INFO
};

constexpr const OpInfo& op_info(Op op) { return kOpInfo[static_cast<int>(op)]; }
constexpr bool is_safe_point(Op op) { return op_info(op).flags & SP; }

// SELECT's descriptor, an int constant: bits 0-7 the number of cases n
// (default excluded), bit 8 set when there is a default, bits 9.. one bit
// per case, set for a send. A receive's operand is one register (its
// channel), a send's two (channel, value), consecutive in case order.
constexpr int kMaxSelectCases = 32;  // 9 + 32 bits: the descriptor fits an inline int (49 bits)
constexpr int64_t select_desc(int ncases, bool has_default, uint64_t sendmask) {
  return int64_t(ncases) | int64_t(has_default) << 8 | int64_t(sendmask << 9);
}
constexpr int select_ncases(int64_t d) { return int(d & 0xff); }
constexpr bool select_has_default(int64_t d) { return (d >> 8) & 1; }
constexpr bool select_is_send(int64_t d, int i) { return (d >> (9 + i)) & 1; }
constexpr int select_nregs(int64_t d) {
  int r = 0;
  for (int i = 0; i < select_ncases(d); i++) r += select_is_send(d, i) ? 2 : 1;
  return r;
}

}  // namespace weft
