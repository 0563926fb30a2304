// The interpreter's entry points (vm/interp.cpp).
#pragma once

#include "vm/thread.h"

namespace weft {

// Runs t's frames, starting at the top one (entered at its saved pc), until
// a frame flagged kFrameReentry returns or an error unwinds through one.
// Returns the result, or Value::empty() with the error pending on t.
// The caller pushes that re-entry frame (Runtime::call does).
Value execute(Thread* t);

// Raises `NAME expects N arguments, got M` (or the range forms).
void raise_arity(Thread* t, const char* name, int min_args, int max_args, int got);

// The comparison of `<`, `<=` (and, swapped, `>`, `>=`): numbers, or two
// strings bytewise. False with an `invalid operation` error raised on t
// when the operands do not compare. `op` is the operator's text.
bool compare_values(Thread* t, const char* op, Value a, Value b, bool* result);

}  // namespace weft
