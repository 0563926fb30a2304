// libFuzzer target: the front end (lexer, parser, resolver, code generator,
// liveness) and the disassembler on arbitrary bytes. Nothing runs.
//
// The promise under test: no input crashes, hangs or trips a sanitizer in
// the compiler; each input either compiles or yields diagnostics that
// format. Names resolve against the real builtins (taken once from a
// Runtime), so well-formed scripts reach the code generator instead of
// stopping at "undefined variable". String constants are placeholders: the
// compiler never looks inside them.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "lang/compiler.h"
#include "tests/unit/fake_env.h"
#include "vm/interp/runtime.h"

namespace {

// The builtins' global names, as a fresh Runtime defines them.
const std::vector<std::string>& builtin_names() {
  static const std::vector<std::string> names = [] {
    weft::Runtime rt;
    return rt.globals.names();
  }();
  return names;
}

class FuzzEnv : public weft::testing::FakeEnv {
 public:
  FuzzEnv() {
    for (const std::string& n : builtin_names()) define_global(n);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view source(reinterpret_cast<const char*>(data), size);
  FuzzEnv env;
  std::vector<weft::lang::Diagnostic> errors;
  weft::Proto* main = weft::lang::compile(env, "fuzz.wf", source, errors);
  if (main != nullptr) {
    (void)weft::disassemble(*main);
  } else {
    if (errors.empty()) __builtin_trap();  // a failed compile must say why
    (void)weft::lang::format_diagnostics("fuzz.wf", source, errors);
  }
  return 0;
}
