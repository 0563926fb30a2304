// Shared helpers of the embedding tests (tests/embed/*_test.cpp): where the
// paired .wf scripts are. Every test here uses only the public API.
#pragma once

#include <string>

#include "weft/weft.h"

namespace weft::testing {

inline std::string script(const std::string& name) { return std::string(WEFT_EMBED_DIR) + "/" + name; }

}  // namespace weft::testing
