// Liveness: the stack maps of a compiled proto.
#pragma once

#include <cstdint>
#include <vector>

#include "vm/interp/bytecode.h"

namespace weft::lang {

// The registers live into each instruction (a bitset of p.map_words words
// per pc, pc's at [pc * map_words]), by a backward dataflow to a fixpoint
// over the proto's control flow graph. Sets p.map_words.
std::vector<uint64_t> live_in(Proto& p);

// Fills p.maps / p.live_bits / p.map_words: one map per safe-point pc.
void compute_stack_maps(Proto& p);

}  // namespace weft::lang
