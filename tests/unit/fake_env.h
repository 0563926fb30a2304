// A CompileEnv without a heap, for front-end tests: string constants are
// nil placeholders, globals a name table with `print` predefined.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "vm/interp/bytecode.h"

namespace weft::testing {

class FakeEnv : public CompileEnv {
 public:
  FakeEnv() { define_global("print"); }
  Value string_constant(std::string_view) override { return Value::nil(); }
  int find_global(std::string_view name) override {
    auto it = globals_.find(std::string(name));
    return it == globals_.end() ? -1 : it->second;
  }
  int define_global(std::string_view name) override {
    return globals_.try_emplace(std::string(name), int(globals_.size())).first->second;
  }
  Proto* adopt(std::unique_ptr<Proto> p) override {
    protos_.push_back(std::move(p));
    return protos_.back().get();
  }

 private:
  std::map<std::string, int> globals_;
  std::vector<std::unique_ptr<Proto>> protos_;
};

}  // namespace weft::testing
