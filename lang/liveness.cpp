// Liveness: which registers hold values that may still be read, at every
// instruction; the collector scans exactly those of a suspended frame.
//
// A backward dataflow over the instruction graph, to a fixpoint:
//   live_in(pc) = uses(pc) ∪ ⋃ over successors s (live_in(s) − defs(pc, s))
// Defs are per edge because some instructions write a register only on one
// of their two ways out: FORLOOP sets the loop variable R[A+2] only when it
// jumps back into the body, ITERNEXT sets its variables only when there is
// a next element, FORPREP sets R[A+2] only when it enters the body. Killing
// those registers on both edges would be wrong if they were read after the
// loop; not killing them at all would keep a dead loop variable live through
// the whole body after its last use.
//
// Operands come from kOpInfo's modes; instructions with register ranges or
// implicit registers (CALL, CALLV, GO, GOV, NEWSPILL, NEWARRAY, APPENDN, NEWMAP,
// SETMAPN, LOADNIL, FOR*, ITER*, SELECT, RECV2, CLOSURE's captures, the
// instructions followed by an EXTRA word, JMP's 24-bit offset) are handled
// by name.
#include "lang/liveness.h"

#include <algorithm>

namespace weft::lang {

namespace {

struct Effects {
  std::vector<int> uses;
  std::vector<int> fall_defs;  // on the edge to `fall`
  std::vector<int> jump_defs;  // on the edge to `jump`
  int fall = -1;               // successor pcs, -1 for none
  int jump = -1;
};

void range(std::vector<int>& out, int from, int count) {
  for (int i = 0; i < count; i++) out.push_back(from + i);
}

void operand(Effects& e, Mode m, int reg) {
  if (m == Mode::R || m == Mode::X) e.uses.push_back(reg);
  if (m == Mode::W || m == Mode::X) e.fall_defs.push_back(reg);
}

// Fills e (cleared first: one Effects is reused for every pc, as a large
// function has millions of instructions).
void effects(const Proto& p, int pc, Effects& e) {
  Instr i = p.code[size_t(pc)];
  Op op = op_of(i);
  int a = arg_a(i), b = arg_b(i), c = arg_c(i);
  int target = pc + 1 + arg_sbx(i);
  e.uses.clear();
  e.fall_defs.clear();
  e.jump_defs.clear();
  e.jump = -1;
  e.fall = pc + 1;
  if (is_arith2(op)) {  // reads its EXTRA word's Z too, then goes past it
    Instr extra = p.code[size_t(pc) + 1];
    e.uses = {b, c};
    if (!extra_z_is_k(extra)) e.uses.push_back(arg_c(extra));
    e.fall_defs.push_back(a);
    e.fall = pc + 2;
    return;
  }
  switch (op) {
    case Op::CALL:
      range(e.uses, a, b + 1);
      e.fall_defs.push_back(a);
      break;
    case Op::CALLG:  // R[A] is written (G[C]) before the call reads it
      range(e.uses, a + 1, b);
      e.fall_defs.push_back(a);
      break;
    case Op::GO: range(e.uses, a, b + 1); break;
    case Op::CALLV:  // the argument array and the callee; the result in R[A+1]
      range(e.uses, a, 2);
      e.fall_defs.push_back(a + 1);
      break;
    case Op::GOV: range(e.uses, a, 2); break;
    case Op::NEWSPILL:  // moves the parameters from R[A] on into the array
      range(e.uses, a, p.nparams - a);
      e.fall_defs.push_back(a);
      break;
    case Op::LOADKX:
    case Op::GETGLOBALX:
      e.fall_defs.push_back(a);
      e.fall = pc + 2;  // past the EXTRA word
      break;
    case Op::SETGLOBALX:
      e.uses.push_back(a);
      e.fall = pc + 2;
      break;
    case Op::NEWARRAY:
      range(e.uses, b, c);
      e.fall_defs.push_back(a);
      break;
    case Op::APPENDN:
      e.uses.push_back(a);
      range(e.uses, b, c);
      break;
    case Op::NEWMAP:
      range(e.uses, b, 2 * c);
      e.fall_defs.push_back(a);
      break;
    case Op::SETMAPN:
      e.uses.push_back(a);
      range(e.uses, b, 2 * c);
      break;
    case Op::LOADNIL: range(e.fall_defs, a, b + 1); break;
    case Op::SELECT:  // reads its case operands, writes the case taken, the value and ok
      range(e.uses, b, select_nregs(p.k[size_t(c)].as_inline_int()));
      e.fall_defs = {a, a + 1, a + 2};
      break;
    case Op::RECV2:  // the value and ok
      e.uses.push_back(b);
      e.fall_defs = {a, a + 1};
      break;
    case Op::CLOSURE: {
      const Proto* child = p.protos[size_t(arg_bx(i))];
      for (const Capture& cap : child->captures)
        if (cap.from_register) e.uses.push_back(cap.index);
      e.fall_defs.push_back(a);
      break;
    }
    case Op::FORPREP:
      range(e.uses, a, 2);
      e.fall_defs.push_back(a + 2);  // entering the body
      e.jump = target;               // empty: past the loop
      break;
    case Op::FORLOOP:
      range(e.uses, a, 2);
      e.fall_defs.push_back(a);  // done
      e.jump = target;           // back into the body
      e.jump_defs = {a, a + 2};
      break;
    case Op::ITERPREP:
      e.uses.push_back(a);
      e.fall = -1;
      e.jump = target;
      e.jump_defs = {a + 1};
      break;
    case Op::ITERNEXT1:
    case Op::ITERNEXT2:
      range(e.uses, a, 2);
      e.jump = target;
      range(e.jump_defs, a + 1, op == Op::ITERNEXT1 ? 2 : 3);
      break;
    case Op::JMP:
      e.fall = -1;
      e.jump = pc + 1 + arg_sj(i);
      break;
    case Op::JMPIF:
    case Op::JMPIFNOT:
      e.uses.push_back(a);
      e.jump = target;
      break;
    case Op::RETURN:
      e.uses.push_back(a);
      e.fall = -1;
      break;
    case Op::RETURNNIL: e.fall = -1; break;
    default: {
      const OpInfo& info = op_info(op);
      operand(e, info.a, a);
      if (info.c != Mode::B16) {
        operand(e, info.b, b);
        operand(e, info.c, c);
      }
      if (info.flags & JX) e.jump = pc + 2;  // the JMP is skipped; JX ops write nothing
      break;
    }
  }
}

}  // namespace

std::vector<uint64_t> live_in(Proto& p) {
  int n = int(p.code.size());
  int words = (p.nregs + 63) / 64;
  if (words == 0) words = 1;
  p.map_words = words;
  size_t w = size_t(words);
  // Flat: pc's bitset is live[pc * words ..]. Effects are recomputed on
  // each pass rather than stored (memory, not time, bounds huge functions).
  std::vector<uint64_t> live(size_t(n) * w, 0);
  auto set = [&](uint64_t* bits, int reg) {
    if (reg >= 0 && reg < words * 64) bits[reg >> 6] |= uint64_t(1) << (reg & 63);
  };
  auto clear = [&](uint64_t* bits, int reg) {
    if (reg >= 0 && reg < words * 64) bits[reg >> 6] &= ~(uint64_t(1) << (reg & 63));
  };
  std::vector<uint64_t> in(w), edge(w);
  Effects e;
  bool changed = true;
  while (changed) {
    changed = false;
    for (int pc = n - 1; pc >= 0; pc--) {
      effects(p, pc, e);
      std::fill(in.begin(), in.end(), 0);
      auto flow = [&](int succ, const std::vector<int>& defs) {
        if (succ < 0 || succ >= n) return;
        std::copy_n(&live[size_t(succ) * w], w, edge.begin());
        for (int r : defs) clear(edge.data(), r);
        for (size_t k = 0; k < w; k++) in[k] |= edge[k];
      };
      flow(e.fall, e.fall_defs);
      flow(e.jump, e.jump_defs);
      for (int r : e.uses) set(in.data(), r);
      uint64_t* mine = &live[size_t(pc) * w];
      if (!std::equal(in.begin(), in.end(), mine)) {
        std::copy(in.begin(), in.end(), mine);
        changed = true;
      }
    }
  }
  return live;
}

void compute_stack_maps(Proto& p) {
  std::vector<uint64_t> live = live_in(p);
  size_t w = size_t(p.map_words);
  p.maps.clear();
  p.live_bits.clear();
  for (size_t pc = 0; pc < p.code.size(); pc++) {
    if (!is_safe_point(op_of(p.code[pc]))) continue;
    p.maps.push_back({uint32_t(pc), uint32_t(p.live_bits.size())});
    p.live_bits.insert(p.live_bits.end(), &live[pc * w], &live[pc * w] + w);
  }
}

}  // namespace weft::lang
