#include <cstdio>

#include "weft/weft.h"

int main() {
  weft::VM vm;
  vm.define({"square", [](weft::NativeCall& c) -> weft::Arg {
               int64_t x = c.int_arg(0);  // else: "square: expected int, got ..."
               return x * x;
             }, 1, 1});
  weft::Result r = vm.load_source("demo.wf", R"(
    fn sum_squares(xs) {
      let total = 0
      for x in xs { total += square(x) }
      return total
    }
  )");
  if (r.ok()) r = vm.call("sum_squares", {weft::Arg::array({1, 2, 3})});
  if (!r.ok()) {
    std::fprintf(stderr, "%s\n%s", r.message.c_str(), r.traceback.c_str());
    return 1;
  }
  std::printf("%lld\n", static_cast<long long>(r.value.to_int().value_or(0)));  // 14
}
