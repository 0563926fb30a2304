// The io module's natives (vm/lib/io.cpp), as a table a module registry
// turns into the module's exports: name, function, and signature in the
// registry's letters (`i` an int, a final `*` any number of any values).
#pragma once

#include <cstddef>

#include "vm/interp/runtime.h"

namespace weft::lib {

struct IoNative {
  const char* name;
  NativeFn fn;
  const char* sig;
};

extern const IoNative kIoNatives[];
extern const size_t kIoNativeCount;

}  // namespace weft::lib
