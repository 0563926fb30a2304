// The racy-program generator (model in racy_script.h).
#include "tests/faults/racy_script.h"

#include <random>

namespace weft::testing {

namespace {

constexpr int kMinWorkers = 2, kMaxWorkers = 6;
constexpr int kMinOps = 3, kMaxOps = 10;   // operations per worker loop body
constexpr int kIterations = 60;            // loop turns per worker: each op runs this often

// One operation on the shared state; `i` is the loop counter, `n` a
// per-worker count. Every shared global may be replaced at any time by
// another goroutine, so nothing assumes a type or a length.
const char* const kOps[] = {
    "push(a, i)",
    "push(a, [i, str(i), m])",
    "if len(a) > 0 { pop(a) }",
    "if len(a) > 0 { a[i % len(a)] = {k: i} }",
    "if len(a) > 0 { n += len(type(a[len(a) - 1])) }",
    "for v in a { n += 1 }",
    "if len(a) > 40 { a = [] }",
    "a = array(i % 9, m)",
    "a = slice(a, 0, len(a) / 2)",
    "sort(a, fn(x, y) { return type(x) < type(y) })",
    "m[str(i % 13)] = a",
    "m[i % 7] = f",
    "delete(m, str(i % 13))",
    "for k, v in m { n += 1 }",
    "let ks = keys(m)\n      if len(ks) > 0 { n += len(str(m[ks[0]])) }",
    "if len(m) > 30 { m = {} }",
    "counter += 1",
    "f = fn() { counter += 1; return i }",
    "n += f()",
    "select {\n      case ch <- [i, a]:\n        n += 1\n      default:\n      }",
    "select {\n      case let v = <-ch:\n        n += 1\n      default:\n      }",
    "let w = weakref(a)\n      deref(w)",
    "n += len(join(keys(m), \",\"))",
    "if i % 20 == 0 { gc() }",
    "if i % 10 == 0 { gosched() }",
    "if len(a) < 10 && len(m) < 10 { let s = str(m) + str(a) }",  // nested shapes print wide
};
constexpr int kNumOps = int(sizeof(kOps) / sizeof(kOps[0]));

int pick(std::mt19937& rng, int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); }

std::string worker(std::mt19937& rng, int id) {
  std::string w = "fn worker" + std::to_string(id) + "() {\n  let n = 0\n  for i in 0.." +
                  std::to_string(kIterations) + " {\n";
  for (int k = pick(rng, kMinOps, kMaxOps); k > 0; k--) {
    w += "    pcall(fn() {\n      ";
    w += kOps[pick(rng, 0, kNumOps - 1)];
    w += "\n    })\n";
  }
  return w + "  }\n  done <- n\n}\n";
}

}  // namespace

std::string racy_script(uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s = "// racy_script(" + std::to_string(seed) + ")\n"
                  "let a = []\nlet m = {}\nlet counter = 0\nlet f = fn() { return 0 }\n"
                  "let ch = chan(4)\nlet done = chan()\n";
  int workers = pick(rng, kMinWorkers, kMaxWorkers);
  for (int id = 0; id < workers; id++) s += worker(rng, id);
  for (int id = 0; id < workers; id++) s += "go worker" + std::to_string(id) + "()\n";
  s += "for w in 0.." + std::to_string(workers) + " { <-done }\nprint(\"ok\")\n";
  return s;
}

}  // namespace weft::testing
