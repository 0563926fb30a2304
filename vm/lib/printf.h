// strings.format's engine (vm/lib/printf.cpp), apart from the module so a
// unit test can drive it against C's snprintf (tests/unit/printf_test.cpp).
#pragma once

#include <string>
#include <string_view>

#include "vm/core/value.h"

namespace weft::lib {

// Appends fmt with its verbs replaced by args[0..nargs) to out. On a bad
// format or argument returns false with *err set to the message after
// `strings.format: ` (arguments are counted from 2: the format is 1).
// Never allocates on the GC heap; `out` may grow to max_bytes at most, past
// which it fails with *err = "result too large" and *too_large set.
bool format_printf(std::string& out, std::string_view fmt, const Value* args, int nargs, std::string* err,
                   size_t max_bytes, bool* too_large);

}  // namespace weft::lib
