// The disassembler (vm --disasm). (Proto::live_at is in vm/interp/proto.cpp.)
//
// One line per instruction, driven by the opcode table's operand modes:
//     pc  [line] OPNAME     operands  ; constants, jump targets, operand names  live: r0 r3
// A proto is followed by its children, depth first.
#include <cstdio>
#include <string>

#include "vm/interp/bytecode.h"
#include "vm/core/object.h"
#include "vm/interp/runtime.h"

namespace weft {

namespace {

// A constant as print would show it inside an array (strings quoted).
std::string constant(Value v) {
  std::string out;
  format_value(out, v, true);
  return out;
}

// Operands in table order, and the comment they deserve.
void operands(const Proto& p, uint32_t pc, std::string& ops, std::string& note) {
  Instr i = p.code[pc];
  const OpInfo& info = op_info(op_of(i));
  auto add = [&](int x) {
    if (!ops.empty()) ops += ' ';
    ops += std::to_string(x);
  };
  auto comment = [&](const std::string& s) {
    if (!note.empty()) note += ", ";
    note += s;
  };
  auto describe = [&](Mode m, int x) {
    switch (m) {
      case Mode::K:
        if (size_t(x) < p.k.size()) comment(constant(p.k[size_t(x)]));
        break;
      case Mode::S:  // a jump's offset, or LOADI's value
        if (op_of(i) != Op::LOADI) comment("-> " + std::to_string(int(pc) + 1 + x));
        break;
      case Mode::P:
        if (size_t(x) < p.protos.size()) comment("function " + p.protos[size_t(x)]->name);
        break;
      default: break;
    }
  };
  if (op_of(i) == Op::JMP) {
    add(arg_sj(i));
    comment("-> " + std::to_string(int(pc) + 1 + arg_sj(i)));
    return;
  }
  Op prev = pc > 0 ? op_of(p.code[pc - 1]) : Op::EXTRA;
  if (op_of(i) == Op::EXTRA && !is_arith2(prev)) {  // the index of a wide LOADKX, GETGLOBALX, SETGLOBALX
    add(arg_ax(i));
    if (prev == Op::LOADKX && size_t(arg_ax(i)) < p.k.size()) comment(constant(p.k[size_t(arg_ax(i))]));
    return;
  }
  if (op_of(i) == Op::EXTRA) {  // ARITH2's second word: op1 op2 Z
    add(arg_c(i));
    note.append(op_info(Op(arg_a(i))).name).append(" then ").append(op_info(Op(arg_b(i))).name);
    if (extra_z_is_k(i) && size_t(arg_c(i)) < p.k.size()) note.append(" ").append(constant(p.k[size_t(arg_c(i))]));
    return;
  }
  if (op_of(i) == Op::SELECT && size_t(arg_c(i)) < p.k.size()) {  // decode the descriptor
    int64_t d = p.k[size_t(arg_c(i))].as_inline_int();
    add(arg_a(i));
    add(arg_b(i));
    add(arg_c(i));
    for (int c = 0; c < select_ncases(d); c++) comment(select_is_send(d, c) ? "send" : "recv");
    if (select_has_default(d)) comment("default");
    return;
  }
  if (info.a != Mode::N) add(arg_a(i));
  if (info.c == Mode::B16) {
    int bx = info.b == Mode::S ? arg_sbx(i) : arg_bx(i);
    add(bx);
    describe(info.b, bx);
    return;
  }
  if (info.b != Mode::N) add(arg_b(i));
  if (info.c != Mode::N) add(arg_c(i));
  describe(info.b, arg_b(i));
  describe(info.c, arg_c(i));
  if (const OperandName* n = p.operand_name(pc)) comment(n->describe());  // what its errors name
}

void disassemble_into(const Proto& p, std::string& out) {
  char buf[160];
  std::snprintf(buf, sizeof buf, "function %s (%s:%d) params=%d regs=%d consts=%zu\n", p.name.c_str(),
                p.file ? p.file->c_str() : "?", p.line, p.nparams, p.nregs, p.k.size());
  out += buf;
  for (uint32_t pc = 0; pc < p.code.size(); pc++) {
    std::string ops, note;
    operands(p, pc, ops, note);
    unsigned line = pc < p.lines.size() ? p.lines[pc] : 0;
    std::snprintf(buf, sizeof buf, "%3u  [%u] %-10s %-8s", pc, line, op_info(op_of(p.code[pc])).name,
                  ops.c_str());
    std::string text = buf;
    if (!note.empty()) text += " ; " + note;
    if (const uint64_t* live = p.live_at(pc)) {
      text += note.empty() ? " " : "  ";
      text += "live:";
      for (int r = 0; r < p.map_words * 64; r++)
        if (p.is_live(live, r)) text += " r" + std::to_string(r);
    }
    while (!text.empty() && text.back() == ' ') text.pop_back();
    out += text + "\n";
  }
  for (const Proto* child : p.protos) {
    out += "\n";
    disassemble_into(*child, out);
  }
}

}  // namespace

std::string disassemble(const Proto& p) {
  std::string out;
  disassemble_into(p, out);
  return out;
}

}  // namespace weft
