// The bytecode format: what the compiler (lang/) produces and the
// interpreter (vm/interp/) runs. This header and vm/interp/opcodes.h are all that lang/
// knows of the VM.
//
// A Proto is one compiled function. Protos are owned by the Runtime for its
// whole life (they are never collected); their constants are GC roots that
// the runtime pushes at every collection.
//
// Stack maps: for every safe-point pc (opcodes flagged SP) the compiler
// records the registers live *into* that instruction, i.e. those read by it
// or read later without an intervening write. At a safe-point every live
// value is in a VM register, so these bitsets are the frame's exact roots.
// A caller frame is described by the map of its CALL (whose pc it saved).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "vm/interp/opcodes.h"
#include "vm/core/value.h"

namespace weft {

using Instr = uint32_t;

constexpr int kMaxRegisters = 250;  // addressable per frame; A/B/C are 8 bits
constexpr int kBxBias = 32767;      // sBx = Bx - kBxBias
constexpr int kMaxBx = 65535;
// The wide operands: JMP's signed 24-bit sJ (op:8 | sJ:24), and the 24-bit
// Ax of the EXTRA word that follows LOADKX, GETGLOBALX and SETGLOBALX
// (op:8 | Ax:24), as Lua's OP_EXTRAARG. They bound a function to 2^24
// constants and a jump to 2^23 instructions either way.
constexpr int kSJBias = (1 << 23) - 1;  // sJ = J - kSJBias
constexpr int kMaxSJ = (1 << 24) - 1;
constexpr int kMaxAx = (1 << 24) - 1;

constexpr Instr encode_abc(Op op, int a, int b, int c) {
  return uint32_t(op) | uint32_t(a & 0xff) << 8 | uint32_t(b & 0xff) << 16 | uint32_t(c & 0xff) << 24;
}
constexpr Instr encode_abx(Op op, int a, int bx) {
  return uint32_t(op) | uint32_t(a & 0xff) << 8 | uint32_t(bx & 0xffff) << 16;
}
constexpr Instr encode_asbx(Op op, int a, int sbx) { return encode_abx(op, a, sbx + kBxBias); }
constexpr Instr encode_sj(Op op, int sj) { return uint32_t(op) | uint32_t((sj + kSJBias) & kMaxSJ) << 8; }
constexpr Instr encode_ax(Op op, int ax) { return uint32_t(op) | uint32_t(ax & kMaxAx) << 8; }

constexpr Op op_of(Instr i) { return Op(i & 0xff); }
constexpr int arg_a(Instr i) { return (i >> 8) & 0xff; }
constexpr int arg_b(Instr i) { return (i >> 16) & 0xff; }
constexpr int arg_c(Instr i) { return (i >> 24) & 0xff; }
constexpr int arg_bx(Instr i) { return (i >> 16) & 0xffff; }
constexpr int arg_sbx(Instr i) { return arg_bx(i) - kBxBias; }
constexpr int arg_sj(Instr i) { return int(i >> 8) - kSJBias; }
constexpr int arg_ax(Instr i) { return int(i >> 8); }
// The ARITH2 family (vm/interp/opcodes.h): ADD_ADD .. MOD_MOD.
constexpr bool is_arith2(Op op) { return op >= Op::ADD_ADD && op <= Op::MOD_MOD; }
// The member for op1 (ADD..MOD) then op2 (ADD..MOD or ADDK..MODK).
constexpr Op arith2_op(Op op1, Op op2) {
  return Op(int(Op::ADD_ADD) + (int(op1) - int(Op::ADD)) * 5 + (int(op2) - int(Op::ADD)) % 5);
}
static_assert(int(Op::MODK) - int(Op::ADD) == 9, "ARITH2's operators: ADD..MOD then ADDK..MODK");
static_assert(arith2_op(Op::MUL, Op::ADDK) == Op::MUL_ADD && arith2_op(Op::MOD, Op::MOD) == Op::MOD_MOD);
// An ARITH2's second operand: a constant when its EXTRA word names a K form.
constexpr bool extra_z_is_k(Instr extra) { return Op(arg_b(extra)) >= Op::ADDK; }
// A jump's target is relative to the instruction after it: pc_next + sBx.

// How a closure obtains upvalue i: from a register of the enclosing frame
// that holds a Cell, or from the enclosing closure's own upvalue list.
// A spilled local's cell (lang/codegen.cpp) is element `slot` of the
// array in register `index`.
struct Capture {
  bool from_register;
  uint32_t index;     // a register (< kMaxRegisters) or an upvalue (< 2^16: GETUPVAL's Bx)
  int32_t slot = -1;  // from_register: -1, or the spill array's element
};

struct StackMap {
  uint32_t pc;      // a safe-point instruction's index
  uint32_t offset;  // into Proto::live_bits, map_words words
};

// Where the callee of a CALL, CALLG or GO, or the object of an index or
// field instruction, was read from: the compiler records it for operands
// that are a named variable or a field, so an error can say `cannot call
// nil (global 'foo')` (Lua's varinfo, but from the syntax tree rather than
// by decoding the bytecode). Read only when such an instruction raises, so
// the interpreter's fast paths never see it.
struct OperandName {
  enum Kind : uint8_t { Global, Local, Upvalue, Field };
  uint32_t pc;
  Kind kind;
  std::string name;
  // "global 'foo'", as messages and the disassembler show it.
  std::string describe() const {
    static constexpr const char* kKinds[] = {"global", "local", "upvalue", "field"};
    return std::string(kKinds[kind]) + " '" + name + "'";
  }
};

struct Proto {
  std::string name;                           // "main", a function's name, or "<anonymous>"
  std::shared_ptr<const std::string> file;    // source name, shared by a file's protos
  int nparams = 0;
  int nregs = 0;                              // frame size in registers
  int line = 0;                               // line of the definition
  std::vector<Instr> code;
  std::vector<uint32_t> lines;                // lines[pc]: source line of code[pc]
  std::vector<Value> k;                       // constants: GC roots (strings live in the heap)
  std::vector<Proto*> protos;                 // children, for CLOSURE's Bx; owned by the Runtime
  std::vector<Capture> captures;              // how CLOSURE of this proto fills its upvalues
  std::vector<StackMap> maps;                 // sorted by pc
  std::vector<uint64_t> live_bits;
  int map_words = 0;                          // (nregs + 63) / 64
  std::vector<OperandName> operand_names;     // sorted by pc; at most one per pc
  // GETFIELD's and SETFIELD's inline caches, by pc (vm/core/objops.h:
  // map_get_hinted); empty in a proto without them (Runtime::adopt).
  std::vector<uint32_t> field_hints;

  // The live-register bitset at safe-point pc, or nullptr if pc is not one.
  const uint64_t* live_at(uint32_t pc) const;
  bool is_live(const uint64_t* bits, int reg) const { return bits[reg >> 6] >> (reg & 63) & 1; }
  // The operand name recorded for the instruction at pc, or nullptr.
  const OperandName* operand_name(uint32_t pc) const;
};

// What the compiler needs from the runtime it compiles for.
class CompileEnv {
 public:
  virtual ~CompileEnv() = default;
  // A string constant, allocated in the runtime's heap. The compiler runs
  // outside any collection, so it need not root the result.
  virtual Value string_constant(std::string_view s) = 0;
  // The slot of global `name`, or -1 if it is not defined (yet).
  virtual int find_global(std::string_view name) = 0;
  // The slot of global `name`, defining it (as nil) if needed; -1 when no
  // slot is left (kMaxAx slots at most: GETGLOBALX's operand).
  virtual int define_global(std::string_view name) = 0;
  // Called by the resolver with each top-level `let` and `fn` name of the
  // file, before any global is looked up or defined (file modules compile
  // their own globals against these: vm/lib/imports.cpp).
  virtual void top_level(std::string_view /*name*/) {}
  // May top-level `let name`, if no function uses it, live in a register
  // of the main chunk instead of a global (lang/resolver.cpp)? Not when
  // something reads the globals after the code runs: a module's exports,
  // the REPL's next line, an embedding host's VM::get.
  virtual bool private_top_level(std::string_view /*name*/) { return false; }
  // Takes ownership of a proto for the runtime's life.
  virtual Proto* adopt(std::unique_ptr<Proto> p) = 0;
};

// Prints a proto and its children with lines and stack maps (vm --disasm).
std::string disassemble(const Proto& p);

}  // namespace weft
