// The VM's channel operations: the type checks and error messages around
// vm/sched's channel algorithm (which raises nothing), and finishing a
// channel instruction for a G that parked stacklessly in it.
#pragma once

#include "vm/interp/bytecode.h"
#include "vm/interp/thread.h"
#include "vm/sched/chan.h"

namespace weft {

// How a channel instruction ended.
enum class ChanStep : uint8_t {
  Done,     // completed (results written)
  Unwound,  // parked stacklessly: execute() returns kParked; chan_complete
            // finishes the instruction when the G is re-entered
  Error,    // raised on t
};

// `ch <- *v`; v points at the value's register (it stays there while parked).
ChanStep chan_send(Thread* t, Value ch, Value* v);
// `<-ch`: *out = the value, or nil with *ok = false once closed and drained.
ChanStep chan_recv(Thread* t, Value ch, Value* out, bool* ok);
// close(ch); false with the error raised.
bool chan_close(Thread* t, Value ch);
// The SELECT instruction over its operands at regs (the descriptor's
// layout: vm/interp/opcodes.h). On Done: *chosen is the case taken (-1 for
// default), *recv the value received (nil otherwise) and *ok false for a
// receive from a closed channel (as chan_recv's).
ChanStep chan_select(Thread* t, Value* regs, int64_t desc, int* chosen, Value* recv, bool* ok);

// Finishes the channel instruction at *pc (SEND, RECV, RECV2, SELECT, ITERNEXT1)
// for a G re-entered with g->resume == Complete after a stackless park:
// writes its results into the frame's registers R and returns the pc to
// continue at, or nullptr with an error raised (a send woken by close).
const Instr* chan_complete(Thread* t, const Instr* pc, Value* R);

}  // namespace weft
