#include "vm/core/fatal.h"

#include <cstdio>
#include <cstdlib>

namespace weft {

void fatal(const char* msg) {
  std::fflush(stdout);
  std::fprintf(stderr, "fatal error: %s\n", msg);
  std::abort();
}

}  // namespace weft
