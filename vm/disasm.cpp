// The disassembler (vm --disasm). (Proto::live_at is in vm/proto.cpp.)
//
// One line per instruction, driven by the opcode table's operand modes:
//     pc  [line] OPNAME     operands  ; constants, jump targets  live: r0 r3
// A proto is followed by its children, depth first.
#include <cstdio>
#include <string>

#include "vm/bytecode.h"
#include "vm/object.h"

namespace weft {

namespace {

std::string quoted(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\x%02x", c);
          out += buf;
        } else {
          out += char(c);
        }
    }
  }
  return out + "\"";
}

std::string constant(Value v) {
  char buf[64];
  if (v.is_nil()) return "nil";
  if (v.is_bool()) return v.as_bool() ? "true" : "false";
  if (v.is_inline_int()) return std::to_string(v.as_inline_int());
  if (v.is_double()) {
    std::snprintf(buf, sizeof buf, "%.17g", v.as_double());
    return buf;
  }
  if (is_type(v, ObjType::String)) return quoted(as_string(v)->view());
  if (is_type(v, ObjType::BigInt)) return std::to_string(int_of(v));
  return "<object>";
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
  if (op_of(i) == Op::EXTRA) {  // ARITH2's second word: op1 op2 Z
    add(arg_c(i));
    note.append(op_info(Op(arg_a(i))).name).append(" then ").append(op_info(Op(arg_b(i))).name);
    if (extra_z_is_k(i) && size_t(arg_c(i)) < p.k.size()) note.append(" ").append(constant(p.k[size_t(arg_c(i))]));
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
