// Liveness: the stack maps the compiler records at safe-points.
#include <gtest/gtest.h>

#include <map>
#include <memory>

#include "lang/compiler.h"
#include "tests/unit/fake_env.h"
#include "lang/liveness.h"

namespace weft::lang {
namespace {

using testing::FakeEnv;

class Liveness : public ::testing::Test {
 protected:
  FakeEnv env;

  // The first function defined in `src`.
  const Proto& function(std::string_view src) {
    std::vector<Diagnostic> errors;
    Proto* main = compile(env, "t.wf", src, errors);
    EXPECT_TRUE(errors.empty()) << errors[0].message;
    EXPECT_FALSE(main->protos.empty());
    return *main->protos[0];
  }

  // The pcs of every `op` in p.
  static std::vector<uint32_t> find(const Proto& p, Op op) {
    std::vector<uint32_t> pcs;
    for (uint32_t pc = 0; pc < p.code.size(); pc++)
      if (op_of(p.code[pc]) == op) pcs.push_back(pc);
    return pcs;
  }

  // The pcs of every call (CALL, or CALLG of a global function) in p.
  static std::vector<uint32_t> calls_in(const Proto& p) {
    std::vector<uint32_t> pcs;
    for (uint32_t pc = 0; pc < p.code.size(); pc++)
      if (op_of(p.code[pc]) == Op::CALL || op_of(p.code[pc]) == Op::CALLG) pcs.push_back(pc);
    return pcs;
  }

  static bool live(const Proto& p, uint32_t pc, int reg) {
    const uint64_t* bits = p.live_at(pc);
    EXPECT_NE(bits, nullptr) << "no stack map at " << pc;
    return bits && p.is_live(bits, reg);
  }
};

TEST_F(Liveness, EverySafePointHasAMap) {
  const Proto& p = function("fn f(a) { let b = [a]\n return b[0] + a }");
  for (uint32_t pc = 0; pc < p.code.size(); pc++)
    EXPECT_EQ(p.live_at(pc) != nullptr, is_safe_point(op_of(p.code[pc]))) << pc;
  EXPECT_EQ(p.map_words, 1);
}

// RECV2 and SELECT write registers beyond A (ok, and SELECT's value): they
// are not live into the instruction, though read after it.
TEST_F(Liveness, CommaOkReceiveWritesBothRegisters) {
  const Proto& p = function("fn f(c) {\n  let v, ok = <-c\n  print(v, ok)\n}");
  auto recv = find(p, Op::RECV2);
  ASSERT_EQ(recv.size(), 1u);
  int a = arg_a(p.code[recv[0]]);
  EXPECT_TRUE(live(p, recv[0], 0));  // the channel
  EXPECT_FALSE(live(p, recv[0], a));
  EXPECT_FALSE(live(p, recv[0], a + 1));
}

TEST_F(Liveness, SelectWritesCaseValueAndOk) {
  const Proto& p = function("fn f(c) {\n  select {\n  case let v, ok = <-c:\n    print(v, ok)\n  }\n}");
  auto sel = find(p, Op::SELECT);
  ASSERT_EQ(sel.size(), 1u);
  int a = arg_a(p.code[sel[0]]);
  for (int r = a; r < a + 3; r++) EXPECT_FALSE(live(p, sel[0], r)) << r;
}

TEST_F(Liveness, DeadLocalIsNotLiveAtALaterCall) {
  const Proto& p = function("fn f() {\n  let a = [1]\n  let b = 2\n  print(b)\n  return nil\n}");
  auto calls = calls_in(p);
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_FALSE(live(p, calls[0], 0));  // a: never read again
  EXPECT_FALSE(live(p, calls[0], 1));  // b: copied into the call's argument
}

TEST_F(Liveness, ArgumentsAreLiveAtTheCall) {
  const Proto& p = function("fn f(x, y) {\n  print(x, y)\n}");
  auto calls = calls_in(p);
  ASSERT_EQ(calls.size(), 1u);
  Instr call = p.code[calls[0]];
  int first = arg_a(call) + (op_of(call) == Op::CALLG ? 1 : 0);  // CALLG loads R[A] itself
  for (int r = first; r <= arg_a(call) + arg_b(call); r++) EXPECT_TRUE(live(p, calls[0], r)) << r;
  EXPECT_FALSE(live(p, calls[0], 0));
  EXPECT_FALSE(live(p, calls[0], 1));
}

TEST_F(Liveness, ValueUsedAfterALoopIsLiveThroughoutIt) {
  const Proto& p = function(
      "fn f() {\n  let keep = [1]\n  let i = 0\n  while i < 3 {\n    print(i)\n    i += 1\n  }\n"
      "  return keep\n}");
  auto calls = calls_in(p);
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_TRUE(live(p, calls[0], 0));  // keep
  EXPECT_TRUE(live(p, calls[0], 1));  // i: read again on the next iteration
  auto adds = find(p, Op::ADDK);
  ASSERT_EQ(adds.size(), 1u);
  EXPECT_TRUE(live(p, adds[0], 0));
}

TEST_F(Liveness, LoopVariableDiesAfterItsLastUse) {
  const Proto& p = function("fn f(xs) {\n  for x in xs {\n    print(x)\n    print(1)\n  }\n}");
  auto calls = calls_in(p);
  ASSERT_EQ(calls.size(), 2u);
  int x = arg_a(p.code[find(p, Op::ITERPREP)[0]]) + 2;
  EXPECT_FALSE(live(p, calls[0], x));  // already copied into the argument
  EXPECT_FALSE(live(p, calls[1], x));
  EXPECT_TRUE(live(p, calls[1], x - 2));  // the iterable and its state
  EXPECT_TRUE(live(p, calls[1], x - 1));
  EXPECT_FALSE(live(p, calls[1], 0));  // xs was copied into the loop's registers
}

TEST_F(Liveness, CapturedCellsAreLiveWhileAClosureMayBeMade) {
  const Proto& p = function(
      "fn f() {\n  let n = 0\n  let inc = fn() { n += 1 }\n  inc()\n  print(n)\n}");
  auto closures = find(p, Op::CLOSURE);
  ASSERT_EQ(closures.size(), 1u);
  ASSERT_EQ(p.protos[0]->captures.size(), 1u);
  int cell = p.protos[0]->captures[0].index;
  EXPECT_TRUE(live(p, closures[0], cell));
  auto calls = calls_in(p);
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_TRUE(live(p, calls[0], cell));   // read by print(n) later
  EXPECT_FALSE(live(p, calls[1], cell));  // done
}

TEST_F(Liveness, RangeLoopCounterIsLiveInTheBody) {
  const Proto& p = function("fn f() {\n  for i in 0..10 {\n    print(1)\n  }\n}");
  auto calls = calls_in(p);
  ASSERT_EQ(calls.size(), 1u);
  int base = arg_a(p.code[find(p, Op::FORPREP)[0]]);
  EXPECT_TRUE(live(p, calls[0], base));
  EXPECT_TRUE(live(p, calls[0], base + 1));
  EXPECT_FALSE(live(p, calls[0], base + 2));  // i is never read
}

TEST_F(Liveness, FusedArithmeticReadsItsExtraWord) {
  // a * b % c: one MUL_MOD (the ARITH2 family) whose third operand c sits in
  // the EXTRA word. c is read by MUL_MOD itself, so it must be live there
  // even though nothing after reads it; the EXTRA word is no instruction of
  // its own.
  const Proto& p = function("fn f(a, b, c) {\n  return a * b % c\n}");
  auto fused = find(p, Op::MUL_MOD);
  ASSERT_EQ(fused.size(), 1u);
  ASSERT_EQ(op_of(p.code[fused[0] + 1]), Op::EXTRA);
  EXPECT_TRUE(live(p, fused[0], 0));
  EXPECT_TRUE(live(p, fused[0], 1));
  EXPECT_TRUE(live(p, fused[0], 2));
  EXPECT_EQ(p.live_at(fused[0] + 1), nullptr);
}

// A global function is called with CALLG (the global loaded by the call)
// unless an argument could run code or wait, which might change the global
// between the callee's evaluation and the call.
TEST_F(Liveness, GlobalCallsLoadTheCalleeThemselvesWhenArgumentsRunNoCode) {
  const Proto& p = function("fn f(x) {\n  print(x + 1, [x])\n  print(print(x))\n  print(<-x)\n}");
  auto g = find(p, Op::CALLG);
  ASSERT_EQ(g.size(), 2u);  // print(x + 1, [x]) and the inner print(x)
  EXPECT_EQ(find(p, Op::CALL).size(), 2u);  // print(print(x)) and print(<-x): GETGLOBAL first
  EXPECT_TRUE(live(p, g[0], 0));  // x: read again later
}

}  // namespace
}  // namespace weft::lang
