// The third tier of errors (docs/design.md#errors): a broken runtime invariant. Never
// a user error: fatal() flushes stdout, prints "fatal error: MSG" and aborts.
// MSG is a constant string naming the subsystem ("gc: ...", "sched: ...");
// callers print any state worth seeing first.
#pragma once

namespace weft {

[[noreturn]] void fatal(const char* msg);

}  // namespace weft
