// Proto's lookups by pc (vm/interp/bytecode.h). Maps are sorted by pc; the
// collector asks once per frame per collection, so a binary search is enough.
// Operand names are asked for only when an error is raised.
#include <algorithm>

#include "vm/interp/bytecode.h"

namespace weft {

const uint64_t* Proto::live_at(uint32_t pc) const {
  auto it = std::lower_bound(maps.begin(), maps.end(), pc,
                             [](const StackMap& m, uint32_t p) { return m.pc < p; });
  if (it == maps.end() || it->pc != pc) return nullptr;
  return live_bits.data() + it->offset;
}

const OperandName* Proto::operand_name(uint32_t pc) const {
  auto it = std::lower_bound(operand_names.begin(), operand_names.end(), pc,
                             [](const OperandName& n, uint32_t p) { return n.pc < p; });
  return it == operand_names.end() || it->pc != pc ? nullptr : &*it;
}

}  // namespace weft
