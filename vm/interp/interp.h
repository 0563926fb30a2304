// The interpreter's entry points (vm/interp/interp.cpp).
#pragma once

#include "vm/interp/thread.h"

namespace weft {

// Runs t's frames, starting at the top one (entered at its saved pc), until
// a frame flagged kFrameReentry returns or an error unwinds through one.
// Returns the result, or Value::empty() with the error pending on t.
// The caller pushes that re-entry frame (Runtime::call does).
Value execute(Thread* t);

// What execute_goroutine (and a native, from its NativeFn) returns when the
// goroutine parked stacklessly: sched::kParked.
using sched::kParked;

// Runs a goroutine's Thread (its bottom frame is flagged kFrameReentry) from
// its saved state: a fresh G from its entry, a resumed one at its saved pc,
// completing that instruction first when g->resume == Resume::Complete.
// Returns the function's result, Value::empty() with an error pending, or
// kParked. The Runtime's sched::Hooks::run.
Value execute_goroutine(Thread* t);

// Raises `NAME expects N arguments, got M` (or the range forms).
void raise_arity(Thread* t, const char* name, int min_args, int max_args, int got);

// pcall's result for a call that returned r: [true, r], or, when r is
// Value::empty() (an error pending), [false, error] with the error dropped
// (Thread::drop_error). The same for CALL's in-place pcall and b_pcall.
Value pcall_outcome(Thread* t, Value r);

// The comparison of `<`, `<=` (and, swapped, `>`, `>=`): numbers, or two
// strings bytewise. False with an `invalid operation` error raised on t
// when the operands do not compare. `op` is the operator's text.
// Int/float pairs compare exactly (compare_int_float, vm/core/objops.h).
bool compare_values(Thread* t, const char* op, Value a, Value b, bool* result);

// A map key, for every map operation (index, assignment, literals, has,
// delete): a float with an integral value becomes that int (`m[1.0]` is
// `m[1]`); false with an error raised for any other float and for a key of
// another type than string, int or bool. May allocate (a boxed int).
bool map_key(Thread* t, Value* k);

}  // namespace weft
