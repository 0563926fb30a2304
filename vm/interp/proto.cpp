// Proto's stack-map lookup (vm/interp/bytecode.h). Maps are sorted by pc; the
// collector asks once per frame per collection, so a binary search is enough.
#include <algorithm>

#include "vm/interp/bytecode.h"

namespace weft {

const uint64_t* Proto::live_at(uint32_t pc) const {
  auto it = std::lower_bound(maps.begin(), maps.end(), pc,
                             [](const StackMap& m, uint32_t p) { return m.pc < p; });
  if (it == maps.end() || it->pc != pc) return nullptr;
  return live_bits.data() + it->offset;
}

}  // namespace weft
