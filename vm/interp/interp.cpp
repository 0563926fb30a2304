// The interpreter: one loop with computed-goto dispatch over the opcode
// table of vm/interp/opcodes.h.
//
// Model. A call from Weft to Weft never recurses on the native stack: CALL
// pushes a Frame (its base is the callee's slot + 1, so the arguments are
// already the callee's parameters) and switches the loop's locals; RETURN
// pops it and writes the result into the callee's slot, the caller's R[A].
// The native stack grows only when a native calls back into Weft
// (Runtime::call), which pushes a frame flagged kFrameReentry and runs a
// nested execute() until that frame returns. pcall is recognised by CALL
// and runs its function in place under a frame flagged kFramePcall, so
// catching errors needs no native recursion either.
//
// Locals. pc, R (= stack + base), K and the running Frame live in locals.
// The VM stack may be reallocated by anything that grows it (a call's slow
// path, a native calling back), and the frame vector by any push: both are
// reloaded after such operations (LOAD_FRAME).
//
// Safe-points (Lua's Protect; docs/design.md#safe-points). Every SP opcode saves its own pc into
// the frame before any slow path (SAVEPC), so the collector finds the
// frame's stack map and an error its line. Two checks, both against the
// thread's guard: a call compares the new frame's top with it, an
// allocation compares R with it. A poisoned guard fails both, and the slow
// path honours the stop request (collects) and restores the guard. After a
// native returns, the CALL checks the guard again, so a collection the
// native requested (gc() does) happens before the script goes on.
//
// Parking (vm/sched/sched.h). A goroutine that blocks (a channel op, a
// native such as sleep) or is preempted at a safe-point while this loop is
// its only activation (Thread::depth == 1) unwinds: the operation returns
// "parked", the loop jumps to `parked:` and returns kParked with the
// frame's pc saved at the instruction. When the G runs again,
// execute_goroutine re-enters here and either re-executes that instruction
// (Resume::Reexecute: preempted before it acted) or completes it with what
// the waker left (Resume::Complete: complete_instruction). Deeper
// activations (a native called back into Weft) park keeping the native
// stack, and the operation simply returns when the G is resumed.
//
// Fast paths stay inline and short: int and float arithmetic, comparisons,
// array indexing, map fields, calls of closures; everything else is an
// out-of-line (noinline) slow path that returns false after raising.
//
// Rejected: a switch (one shared indirect branch predicts worse than one
// per opcode), and recursing on the native stack for calls (deep recursion
// would need native stack checks, and goroutines must park without a native
// stack).
#include "vm/interp/interp.h"

#include <cmath>
#include <cstring>

#include "vm/core/fatal.h"
#include "vm/core/objops.h"
#include "vm/interp/runtime.h"
#include "vm/interp/chanops.h"
#include "vm/sched/preempt.h"
#include "vm/sched/sched.h"

#define LIKELY(x) __builtin_expect(!!(x), 1)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)
#define NOINLINE __attribute__((noinline))

namespace weft {

namespace {

constexpr uint64_t kIntTag = Value::kNumberTag;

inline bool both_inline(Value a, Value b) { return (a.bits() & b.bits() & kIntTag) == kIntTag; }

const char* op_text(Op op) {
  switch (op) {
    case Op::ADD: case Op::ADDK: case Op::KADD: return "+";
    case Op::SUB: case Op::SUBK: case Op::KSUB: return "-";
    case Op::MUL: case Op::MULK: case Op::KMUL: return "*";
    case Op::DIV: case Op::DIVK: case Op::KDIV: return "/";
    case Op::BAND: case Op::BANDK: return "&";
    case Op::BOR: case Op::BORK: return "|";
    case Op::BXOR: case Op::BXORK: return "^";
    case Op::SHL: case Op::SHLK: return "<<";
    case Op::SHR: case Op::SHRK: return ">>";
    default: return "%";
  }
}

// The checks' load of the guard: relaxed, a plain mov (Thread::stackguard
// says why that is enough).
inline Value* guard(const Thread* t) { return t->stackguard.load(std::memory_order_relaxed); }

// A safe-point's stop handling. The caller has saved its pc.
// Collection: on a goroutine there is nothing to do here, because the
// collector thread stops the world itself (it preempts through g->preempt).
// Off the scheduler (a host thread running Weft code with no goroutines
// running), this thread is the world: collect here if the heap asked
// (under gc_stress it asks after every allocation). Under gc_stress a
// goroutine waits for a collection here (gc_stress_wait).
//
// Out of memory (the heap's limit, vm/gc/heap.h): the goroutine raises
// `out of memory` here, where the instruction has not acted yet.
//
// Preemption (sysmon's time slice, stop-the-world, shutdown: g->preempt
// with the guard poisoned): `resume` says what the caller can do. kNoPark:
// the instruction is half done or a C++ local holds an object, so the
// request stays pending (the guard stays poisoned) for the next full
// safe-point. kReexecute: nothing has happened yet; the G yields
// (gopreempt: to the global queue) or, for a suspendG, parks _Gpreempted,
// and runs the instruction again on resume. kComplete: the instruction is
// done except for writing R[A] = *result (a native's CALL). Returns
// kStopParked when the G parked stacklessly (the caller unwinds: goto
// parked) and kStopError with an error raised (goto error).
enum StopMode { kNoPark, kReexecute, kComplete };
enum StopOutcome { kStopGo, kStopParked, kStopError };

// --gc-stress on a goroutine: every allocation posts a request and poisons
// the guard (Heap::alloc), and the next safe-point that can park waits here
// (like gc()) until a collection has run, so each one sees a collection.
NOINLINE StopOutcome gc_stress_wait(Thread* t, sched::G* g, StopMode mode, Value result) {
  g->resume = mode == kComplete ? sched::Resume::Complete : sched::Resume::Reexecute;
  g->resume_value = result;
  sched::Parked p = t->rt->heap().gc_wait(false);  // not gc(): --gc-stress-minor's are minors
  if (p == sched::Parked::Resumed) g->resume = sched::Resume::Reexecute;
  return p == sched::Parked::Unwound ? kStopParked : kStopGo;
}
NOINLINE StopOutcome honor_stop(Thread* t, StopMode mode = kNoPark, Value result = Value::nil()) {
  Runtime* rt = t->rt;
  sched::G* g = t->g;
  if (g != nullptr && g->host != nullptr &&
      static_cast<HostRequest*>(g->host)->deadline_passed.load(std::memory_order_relaxed)) {
    t->stackguard.store(kStackPoison, std::memory_order_relaxed);  // and at every safe-point after
    if (mode == kNoPark) return kStopGo;
    t->raise("deadline exceeded");
    return kStopError;
  }
  if (mode != kNoPark && rt->heap().take_out_of_memory()) {
    t->set_guard();
    t->raise("out of memory");
    t->raised_oom = true;
    return kStopError;
  }
  if (g == nullptr || !g->preempt.load(std::memory_order_relaxed)) {
    if (sched::getg() == nullptr && rt->heap().wants_collection()) {
      rt->collect(t);
      return kStopGo;
    }
    t->set_guard();
    if (g != nullptr && mode != kNoPark && rt->heap().gc_stress() && rt->heap().wants_collection())
      return gc_stress_wait(t, g, mode, result);
    return kStopGo;
  }
  if (mode == kNoPark) {
    t->stackguard.store(kStackPoison, std::memory_order_relaxed);
    return kStopGo;
  }
  g->preempt.store(false);
  t->set_guard();
  rt->counters().preemptions_sync.fetch_add(1, std::memory_order_relaxed);
  g->resume = mode == kComplete ? sched::Resume::Complete : sched::Resume::Reexecute;
  g->resume_value = result;
  sched::Parked p = g->preemptStop.load() ? sched::preemptPark() : sched::gosched();
  if (p == sched::Parked::Resumed) g->resume = sched::Resume::Reexecute;
  return p == sched::Parked::Unwound ? kStopParked : kStopGo;
}

// The synchronous poll's switch. WEFT_NO_GUARD (CMake option, for
// bench/guard/run.sh only) builds an interpreter without it, to measure what
// the guard costs: allocation sites check nothing, and a call compares its
// frame's top with the stack's end, which no stop request poisons, so a call
// costs exactly a stack check. Stops then come from asynchronous preemption
// (and from call_slow's checks around a native, which stay); the scheduler
// refuses to start without it (preempt_init). Lost: what only the poll
// honours: --gc-stress, --heap-limit's `out of memory` (tools/vm refuses
// these flags and --no-async-preempt), and the pacer's collections of Weft
// code run off the scheduler (a host thread).
#ifdef WEFT_NO_GUARD
constexpr bool kSyncPoll = false;
#else
constexpr bool kSyncPoll = true;
#endif

// The call-site check: whether a frame from `base` with `nregs` registers
// fails it (a stop request, or the stack must grow).
inline bool call_check_fails(const Thread* t, uint32_t base, int nregs) {
  if constexpr (kSyncPoll) return t->stack + base + nregs > guard(t);
  else return base + size_t(nregs) + kStackSlack > t->stack_size;
}

inline void poll_alloc(Thread* t) {
  if (kSyncPoll && UNLIKELY(guard(t) == kStackPoison)) honor_stop(t);
}

// The call-site safe-point: honour a stop request, then make room for a
// frame whose top is at `top`.
enum SafepointOutcome { kSafepointOk, kSafepointError, kSafepointParked };
NOINLINE SafepointOutcome call_safepoint(Thread* t, size_t top) {
  if (kSyncPoll && guard(t) == kStackPoison) {
    StopOutcome so = honor_stop(t, kReexecute);
    if (so != kStopGo) return so == kStopParked ? kSafepointParked : kSafepointError;
  }
  return t->ensure_stack(top) ? kSafepointOk : kSafepointError;
}

// A boxed or inline int; the box is allocated inline (Heap::alloc's fast
// path), as boxing is the common slow case of int arithmetic.
inline Value box_int(Runtime* rt, int64_t v) {
  if (Value::fits_inline(v)) return Value::inline_int(v);
  BigInt* b = static_cast<BigInt*>(rt->heap().alloc(sizeof(BigInt), true));
  if (UNLIKELY(b == nullptr)) return rt->make_int(v);  // reports out of memory
  b->init(ObjType::BigInt);
  b->value = v;
  return Value::object(b);
}

// An array literal's n <= 255 items: inline, allocated like box_int's box.
inline Array* new_literal_array(Runtime* rt, const Value* items, uint32_t n) {
  auto* a = static_cast<Array*>(rt->heap().alloc(sizeof(Array) + n * sizeof(Value), false));
  if (UNLIKELY(a == nullptr)) a = rt->new_array(n, n);  // reports out of memory
  a->init(ObjType::Array);  // zeroed memory: store == nullptr
  a->aux = uint16_t(n);
  a->len = n;
  // Literals are mostly short ([l, r], a pair, a point): an inline copy.
  // GCC expands a memcpy of unknown size into `rep movsq`, whose start-up
  // alone was 12% of binary-trees' interpreter time.
  if (LIKELY(n <= 4)) {
#pragma GCC unroll 4
    for (uint32_t j = 0; j < 4; j++) {
      if (j < n) a->inline_items[j] = items[j];
    }
  } else {
    std::memcpy(a->inline_items, items, n * sizeof(Value));
  }
  return a;
}

constexpr bool is_add(Op op) { return op == Op::ADD || op == Op::ADDK; }
constexpr bool is_sub(Op op) { return op == Op::SUB || op == Op::SUBK; }
constexpr bool is_mul(Op op) { return op == Op::MUL || op == Op::MULK; }
constexpr bool is_div(Op op) { return op == Op::DIV || op == Op::DIVK; }

// Arithmetic off the fast path: boxed results and operands, int/float
// mixes, string concatenation, errors. One instance per opcode. kPoll: honour
// a stop request before allocating; ARITH2 polls once for both of its steps
// instead, because its intermediate lives in no register.
template <Op OP, bool kPoll = true>
NOINLINE bool arith_slow(Thread* t, Value* dst, Value a, Value b) {
  Runtime* rt = t->rt;
  if (LIKELY(is_int(a) && is_int(b))) {
    uint64_t x = uint64_t(int_of(a)), y = uint64_t(int_of(b));
    int64_t r;
    if constexpr (is_add(OP)) {
      r = int64_t(x + y);
    } else if constexpr (is_sub(OP)) {
      r = int64_t(x - y);
    } else if constexpr (is_mul(OP)) {
      r = int64_t(x * y);
    } else {
      if (y == 0) {
        t->raise("division by zero");
        return false;
      }
      if (int64_t(y) == -1) {  // INT64_MIN / -1 wraps; any % -1 is 0
        r = is_div(OP) ? int64_t(0 - x) : 0;
      } else {
        r = is_div(OP) ? int64_t(x) / int64_t(y) : int64_t(x) % int64_t(y);
      }
    }
    if (kPoll && !Value::fits_inline(r)) poll_alloc(t);
    *dst = box_int(rt, r);
    return true;
  }
  if (is_number(a) && is_number(b)) {
    double x = number_of(a), y = number_of(b), r;
    if constexpr (is_add(OP)) r = x + y;
    else if constexpr (is_sub(OP)) r = x - y;
    else if constexpr (is_mul(OP)) r = x * y;
    else if constexpr (is_div(OP)) r = x / y;
    else r = std::fmod(x, y);
    *dst = Value::number(r);
    return true;
  }
  if (is_add(OP) && is_type(a, ObjType::String) && is_type(b, ObjType::String)) {
    if (kPoll) poll_alloc(t);
    String* x = as_string(a);
    String* y = as_string(b);
    if (!string_room(t, uint64_t(x->len) + y->len)) return false;
    *dst = Value::object(concat_strings(rt->heap(), x, y));  // amortized linear appends
    return true;
  }
  t->raise("invalid operation: %s %s %s", type_name(a), op_text(OP), type_name(b));
  return false;
}

// One arithmetic step of ARITH2's slow path, without polling.
bool arith_step(Op op, Thread* t, Value* dst, Value a, Value b) {
  switch (op) {
    case Op::ADD: case Op::ADDK: return arith_slow<Op::ADD, false>(t, dst, a, b);
    case Op::SUB: case Op::SUBK: return arith_slow<Op::SUB, false>(t, dst, a, b);
    case Op::MUL: case Op::MULK: return arith_slow<Op::MUL, false>(t, dst, a, b);
    case Op::DIV: case Op::DIVK: return arith_slow<Op::DIV, false>(t, dst, a, b);
    default: return arith_slow<Op::MOD, false>(t, dst, a, b);
  }
}

// ARITH2 off the fast path. The one poll comes first: allocation never
// collects, so the intermediate (perhaps a boxed int or a new string, held
// only here) cannot be freed before the second step has consumed it.
NOINLINE bool arith2_slow(Thread* t, Value* dst, Instr extra, Value x, Value y, Value z) {
  poll_alloc(t);
  Value tmp;
  return arith_step(Op(arg_a(extra)), t, &tmp, x, y) && arith_step(Op(arg_b(extra)), t, dst, tmp, z);
}

// A float operation's operands, for the fast paths: true when neither is
// anything but a float or an inline int, and not both ints (int op int
// stays int; a float operand makes a float: docs/language.md#arithmetic),
// the int converted as the slow path's number_of does.
//
// A float is recognised and decoded by one subtraction (vm/core/value.h):
// bits - 2^49 is the double's own bits, below kDoubleEnd for a float and
// not for anything else (an int's wraps to kDoubleEnd and above, an
// object's or constant's to 0xFFFE... and above).
constexpr uint64_t kDoubleEnd = Value::kNumberTag - Value::kDoubleOffset;
inline bool double_bits(Value v, uint64_t* b) {
  *b = v.bits() - Value::kDoubleOffset;
  return *b < kDoubleEnd;
}
inline double bits_double(uint64_t b) {
  double d;
  std::memcpy(&d, &b, 8);
  return d;
}
inline bool float_operand(Value v, double* d) {
  if (uint64_t b; LIKELY(double_bits(v, &b))) *d = bits_double(b);
  else if (v.is_inline_int()) *d = double(v.as_inline_int());
  else return false;
  return true;
}
inline bool float_operands(Value x, Value y, double* a, double* b) {
  return float_operand(x, a) && float_operand(y, b) && !both_inline(x, y);
}

// ARITH2's float step, as arith_slow computes it.
inline double float_step(Op op, double a, double b) {
  switch (op) {
    case Op::ADD: case Op::ADDK: return a + b;
    case Op::SUB: case Op::SUBK: return a - b;
    case Op::MUL: case Op::MULK: return a * b;
    case Op::DIV: case Op::DIVK: return a / b;
    default: return std::fmod(a, b);
  }
}

// The inline cache of the GETFIELD or SETFIELD just dispatched (pc is
// past it): Proto::field_hints.
inline uint32_t* field_hint(Closure* cl, const Instr* pc) {
  Proto* p = cl->proto;
  return &p->field_hints[size_t(pc - 1 - p->code.data())];
}

// Wrapping int64 arithmetic for ARITH2's fast path; false for a zero
// divisor (the slow path raises).
inline bool int_step(Op op, int64_t a, int64_t b, int64_t* r) {
  switch (op) {
    case Op::ADD: case Op::ADDK: *r = int64_t(uint64_t(a) + uint64_t(b)); return true;
    case Op::SUB: case Op::SUBK: *r = int64_t(uint64_t(a) - uint64_t(b)); return true;
    case Op::MUL: case Op::MULK: *r = int64_t(uint64_t(a) * uint64_t(b)); return true;
    case Op::DIV: case Op::DIVK:
      if (b == 0) return false;
      *r = b == -1 ? int64_t(0 - uint64_t(a)) : a / b;
      return true;
    default:
      if (b == 0) return false;
      *r = b == -1 ? 0 : a % b;
      return true;
  }
}

// A bitwise operator on two int64s; false for a negative shift count.
// Shifts of 64 or more are defined (0, or -1 for >> of a negative), where
// C++ leaves them undefined.
constexpr bool bit_step(Op op, int64_t a, int64_t b, int64_t* r) {
  switch (op) {
    case Op::BAND: case Op::BANDK: *r = a & b; return true;
    case Op::BOR: case Op::BORK: *r = a | b; return true;
    case Op::BXOR: case Op::BXORK: *r = a ^ b; return true;
    case Op::SHL: case Op::SHLK:
      if (b < 0) return false;
      *r = b >= 64 ? 0 : int64_t(uint64_t(a) << b);
      return true;
    default:  // SHR, SHRK: arithmetic
      if (b < 0) return false;
      *r = a >> (b >= 64 ? 63 : b);
      return true;
  }
}

// Bitwise operators off the fast path: boxed operands or results, errors.
// One instance per opcode.
template <Op OP>
NOINLINE bool bitwise_slow(Thread* t, Value* dst, Value a, Value b) {
  if (!is_int(a) || !is_int(b)) {
    t->raise("invalid operation: %s %s %s", type_name(a), op_text(OP), type_name(b));
    return false;
  }
  int64_t r;
  if (!bit_step(OP, int_of(a), int_of(b), &r)) {
    t->raise("negative shift amount %lld", (long long)int_of(b));
    return false;
  }
  if (!Value::fits_inline(r)) poll_alloc(t);
  *dst = box_int(t->rt, r);
  return true;
}

NOINLINE bool bnot_slow(Thread* t, Value* dst, Value a) {
  if (!is_int(a)) {
    t->raise("invalid operation: ~%s", type_name(a));
    return false;
  }
  poll_alloc(t);
  *dst = box_int(t->rt, ~int_of(a));
  return true;
}

NOINLINE bool neg_slow(Thread* t, Value* dst, Value a) {
  poll_alloc(t);
  if (is_int(a)) {
    *dst = box_int(t->rt, int64_t(0 - uint64_t(int_of(a))));
    return true;
  }
  if (a.is_double()) {
    *dst = Value::number(-a.as_double());
    return true;
  }
  t->raise("invalid operation: -%s", type_name(a));
  return false;
}

// " (global 'foo')": where the failing instruction's callee or object was
// read from (Proto::operand_names), or "" when the compiler recorded
// nothing for it. Only for errors raised by the top frame's instruction.
std::string operand_where(Thread* t) {
  const Frame& f = t->frames.back();
  if (f.closure == nullptr) return "";
  const Proto* p = f.closure->proto;
  const OperandName* n = p->operand_name(uint32_t(f.pc - p->code.data()));
  return n == nullptr ? std::string() : " (" + n->describe() + ")";
}

// `cannot call nil (global 'foo')`, `cannot index int (local 'x')`: what the
// instruction at the top frame's saved pc cannot do to v.
NOINLINE void raise_bad_operand(Thread* t, const char* what, Value v) {
  t->raise("cannot %s %s%s", what, type_name(v), operand_where(t).c_str());
}

bool array_index_check(Thread* t, Value k) {
  if (is_int(k)) return true;
  t->raise("array index must be an int, not %s", type_name(k));
  return false;
}

// ok, or `index out of range` raised for index i of a sequence of length len.
bool in_range(Thread* t, bool ok, int64_t i, uint32_t len) {
  if (!ok) t->raise("index out of range [%lld] with length %u", (long long)i, len);
  return ok;
}

// `obj.name` (or obj["name"]) of a host object: its method `name` bound to
// obj, a new Native whose `data` is obj (the host's native finds its
// receiver there, vm/api/api_native.cpp). A field read is no safe-point:
// the allocation only posts a collection request (vm/gc/heap.h), and the
// Native is in a register before the next safe-point.
NOINLINE bool host_field_get(Thread* t, Value o, Value k, Value* out) {
  const HostClass* cls = as_host_object(o)->cls;
  if (!is_type(k, ObjType::String)) {
    t->raise("cannot index %s with %s%s", cls->name.c_str(), type_name(k), operand_where(t).c_str());
    return false;
  }
  const HostMethod* m = cls->find(as_string(k)->view());
  if (m == nullptr) {
    t->raise("%s has no field '%s'%s", cls->name.c_str(), as_string(k)->data, operand_where(t).c_str());
    return false;
  }
  Native* n = t->rt->new_native(m->qualified.c_str(), m->fn, m->min_args, m->max_args);
  n->data = o;
  *out = Value::object(n);
  return true;
}

NOINLINE bool index_get_slow(Thread* t, Value o, Value k, Value* out) {
  if (is_type(o, ObjType::Array)) {
    Array* a = as_array(o);
    return array_index_check(t, k) && in_range(t, array_get(a, int_of(k), out), int_of(k), a->len);
  }
  if (is_type(o, ObjType::Map)) {
    if (!map_key(t, &k)) return false;
    Value v = map_get_miss(as_map(o), k, &t->map_hint);
    *out = v.is_empty() ? Value::nil() : v;
    return true;
  }
  if (is_type(o, ObjType::String)) {
    String* s = as_string(o);
    if (!is_int(k)) {
      t->raise("string index must be an int, not %s", type_name(k));
      return false;
    }
    int64_t i = int_of(k);
    if (!in_range(t, uint64_t(i) < s->len, i, s->len)) return false;
    *out = t->rt->byte_strings[uint8_t(s->chars()[i])];
    return true;
  }
  if (is_type(o, ObjType::Host)) return host_field_get(t, o, k, out);
  raise_bad_operand(t, "index", o);
  return false;
}

NOINLINE bool index_set_slow(Thread* t, Value o, Value k, Value v) {
  if (is_type(o, ObjType::Array)) {
    Array* a = as_array(o);
    return array_index_check(t, k) && in_range(t, array_set_slow(t->rt->heap(), a, int_of(k), v), int_of(k), a->len);
  }
  if (is_type(o, ObjType::Map)) {
    poll_alloc(t);
    if (!map_key(t, &k)) return false;
    if (!map_set_at(as_map(o), k, v, t->map_hint)) map_set(t->rt->heap(), as_map(o), k, v);
    return true;
  }
  if (is_type(o, ObjType::String)) {
    t->raise("cannot assign to an element of a string (strings are immutable)");
    return false;
  }
  if (is_type(o, ObjType::Host)) {  // its fields are its methods: read-only
    const char* cls = as_host_object(o)->cls->name.c_str();
    if (is_type(k, ObjType::String))
      t->raise("cannot set field '%s' of %s%s", as_string(k)->data, cls, operand_where(t).c_str());
    else
      t->raise("cannot index %s with %s%s", cls, type_name(k), operand_where(t).c_str());
    return false;
  }
  raise_bad_operand(t, "index", o);
  return false;
}

// ITERNEXT over maps, strings and arrays whose fast path failed. Returns 1
// when it produced an element, 0 at the end.
NOINLINE int iter_next_slow(Thread* t, Value* ra, bool two) {
  Value o = ra[0];
  int64_t i = int_of(ra[1]);
  if (is_type(o, ObjType::Map)) {
    Map* m = as_map(o);
    MapEntry en;
    int64_t e = map_next(m, i, &en);
    if (e < 0) return 0;
    ra[1] = Value::inline_int(e + 1);
    ra[2] = en.key;
    if (two) ra[3] = en.value;
    return 1;
  }
  Value x;
  if (is_type(o, ObjType::String)) {
    String* s = as_string(o);
    if (uint64_t(i) >= s->len) return 0;
    x = t->rt->byte_strings[uint8_t(s->chars()[i])];
  } else if (!array_get(as_array(o), i, &x)) {
    return 0;
  }
  ra[1] = Value::inline_int(i + 1);
  if (two) {
    ra[2] = Value::inline_int(i);
    ra[3] = x;
  } else {
    ra[2] = x;
  }
  return 1;
}

NOINLINE bool forprep_slow(Thread* t, Value* ra, bool* empty) {
  if (!is_int(ra[0]) || !is_int(ra[1])) {
    t->raise("range bounds must be ints");
    return false;
  }
  *empty = int_of(ra[0]) >= int_of(ra[1]);
  if (!*empty) ra[2] = ra[0];
  return true;
}

NOINLINE bool forloop_slow(Thread* t, Value* ra) {
  int64_t n = int_of(ra[0]) + 1;
  if (n >= int_of(ra[1])) return false;
  ra[0] = ra[2] = t->rt->make_int(n);
  return true;
}

NOINLINE bool set_pairs(Thread* t, Map* m, const Value* kv, int pairs) {
  for (int j = 0; j < pairs; j++) {
    Value k = kv[2 * j];
    if (!map_key(t, &k)) return false;
    map_set(t->rt->heap(), m, k, kv[2 * j + 1]);
  }
  return true;
}

Value pcall_result(Thread* t, bool ok, Value v) {
  Array* a = t->rt->new_array(2, 2);
  a->inline_items[0] = Value::boolean(ok);
  a->inline_items[1] = v;
  return Value::object(a);
}

// The pending error as pcall's [false, message]; clears it.
Value pcall_catch(Thread* t) {
  Value msg = t->error;
  t->drop_error();
  return pcall_result(t, false, msg);
}

enum CallOutcome { kCallDone, kCallEnter, kCallError, kCallParked };

// A kNativeBlocking native runs as a system call (vm/core/object.h): on a copy
// of its arguments, between entersyscall and exitsyscall, without a P.
NOINLINE Value call_blocking(Thread* t, Native* n, uint32_t slot, int nargs) {
  if (t->g == nullptr) return n->fn(t, t->stack + slot + 1, nargs);  // no scheduler
  std::vector<Value> copy(t->stack + slot, t->stack + slot + 1 + nargs);  // the callee first (Native)
  sched::entersyscall();
  Value r = n->fn(t, copy.data() + 1, nargs);
  sched::exitsyscall();
  return r;
}

inline bool native_arity_ok(const Native* n, int nargs) {
  return nargs >= n->min_args && (n->max_args < 0 || nargs <= n->max_args);
}

// CALL of a native with its arguments at R[a+1 ..]; the result goes to R[a].
// A native that parks stacklessly returns kParked (vm/interp/interp.h).
Value call_native(Thread* t, Native* n, uint32_t slot, int nargs) {
  if (!native_arity_ok(n, nargs)) {
    raise_arity(t, n->name, n->min_args, n->max_args, nargs);
    return Value::empty();
  }
  if (UNLIKELY(n->flags & kNativeBlocking)) return call_blocking(t, n, slot, nargs);
  return n->fn(t, t->stack + slot + 1, nargs);
}

// pcall(f, args...) called from CALL at R[a]: runs f in place under a
// kFramePcall frame when it is a closure.
CallOutcome pcall_in_place(Thread* t, uint32_t base, int a, int nargs) {
  if (nargs < 1) {
    raise_arity(t, "pcall", 1, -1, nargs);
    return kCallError;
  }
  uint32_t slot = base + uint32_t(a);
  Value fn = t->stack[slot + 1];
  int n = nargs - 1;
  if (is_type(fn, ObjType::Closure)) {
    Closure* c = as_closure(fn);
    Proto* p = c->proto;
    if (p->nparams != n) {
      raise_arity(t, p->name.c_str(), p->nparams, p->nparams, n);
    } else if (t->ensure_stack(slot + 2 + size_t(p->nregs))) {
      t->frames.push_back(Frame{c, p->code.data(), p->k.data(), slot + 2, kFramePcall});
      return kCallEnter;
    }
  } else if (is_type(fn, ObjType::Native)) {
    t->depth++;  // a park inside must keep the stack: pcall wraps the result
    Value r = call_native(t, as_native(fn), slot + 1, n);
    t->depth--;
    if (!r.is_empty()) {
      t->stack[slot] = pcall_result(t, true, r);
      return kCallDone;
    }
  } else {
    t->raise("cannot call %s", type_name(fn));
  }
  Value caught = pcall_catch(t);
  t->stack[slot] = caught;
  return kCallDone;
}

// A native called by CALL returned r, now in R[A], and the guard is
// poisoned: the stop that came during the call is honoured, completing the
// CALL.
NOINLINE CallOutcome native_returned_to_stop(Thread* t, Value r) {
  StopOutcome so = honor_stop(t, kComplete, r);
  if (so == kStopGo) return kCallDone;
  return so == kStopParked ? kCallParked : kCallError;
}

// CALL of anything but a closure. The caller's pc is saved.
NOINLINE CallOutcome call_slow(Thread* t, int a, int nargs) {
  uint32_t base = t->frames.back().base;
  Value fn = t->stack[base + uint32_t(a)];
  if (!is_type(fn, ObjType::Native)) {
    raise_bad_operand(t, "call", fn);
    return kCallError;
  }
  Native* n = as_native(fn);
  // Natives do not check the guard themselves: a pending stop is honoured
  // before the call (nothing done yet) and after it (the result is in R[A]).
  if (guard(t) == kStackPoison) {
    StopOutcome so = honor_stop(t, kReexecute);
    if (so != kStopGo) return so == kStopParked ? kCallParked : kCallError;
  }
  if (n->flags & kNativePcall) return pcall_in_place(t, base, a, nargs);
  Value r = call_native(t, n, base + uint32_t(a), nargs);
  if (r.is_empty()) return kCallError;
  if (r == kParked) return kCallParked;  // the native set g->resume
  t->stack[base + uint32_t(a)] = r;
  if (guard(t) == kStackPoison) return native_returned_to_stop(t, r);
  return kCallDone;
}

// CALLV (vm/interp/opcodes.h): R[A+1](the elements of the array R[A]),
// copied to R[A+2 ..] first, where a CALL would have put them. The
// caller's pc is saved. A stop honoured here re-executes the CALLV, which
// finds its array again in R[A].
NOINLINE CallOutcome callv_slow(Thread* t, int a) {
  uint32_t nb = t->frames.back().base + uint32_t(a) + 2;  // the callee's frame, as CALL's
  Array* args = as_array(t->stack[nb - 2]);  // the compiler made it: always an array
  uint32_t n = args->len;
  Value fn = t->stack[nb - 1];
  Proto* p = is_type(fn, ObjType::Closure) ? as_closure(fn)->proto : nullptr;
  SafepointOutcome so = call_safepoint(t, nb + size_t(n) + size_t(p ? p->nregs : 0));
  if (so != kSafepointOk) return so == kSafepointParked ? kCallParked : kCallError;
  for (uint32_t j = 0; j < n; j++) array_get(args, j, &t->stack[nb + j]);
  if (p == nullptr) return call_slow(t, a + 1, int(n));
  if (p->nparams != int(n)) {
    raise_arity(t, p->name.c_str(), p->nparams, p->nparams, int(n));
    return kCallError;
  }
  t->frames.push_back(Frame{as_closure(fn), p->code.data(), p->k.data(), nb, 0});
  return kCallEnter;
}

// GO: starts R[A](R[A+1] .. R[A+B]) as a goroutine; errors as a call's.
NOINLINE bool go_slow(Thread* t, Value* ra, int nargs) {
  Value fn = ra[0];
  if (!is_type(fn, ObjType::Closure)) {
    if (is_type(fn, ObjType::Native)) t->raise("go: cannot start builtin %s as a goroutine", as_native(fn)->name);
    else raise_bad_operand(t, "call", fn);
    return false;
  }
  Proto* p = as_closure(fn)->proto;
  if (p->nparams != nargs) {
    raise_arity(t, p->name.c_str(), p->nparams, p->nparams, nargs);
    return false;
  }
  if (sched::current_sched() == nullptr) {
    t->raise("go: goroutines need the scheduler (Runtime::run)");
    return false;
  }
  sched::newproc(fn, ra + 1, nargs);
  return true;
}

// NEWSPILL: a function's spill array, n nils, the first ones the
// parameters from R[a] on (those past its register file).
NOINLINE Value new_spill(Thread* t, int a, int n) {
  Runtime* rt = t->rt;
  Array* arr = rt->new_array(uint32_t(n), uint32_t(n));
  const Frame& f = t->frames.back();
  int nparams = f.closure->proto->nparams;
  for (int j = 0; j < n && a + j < nparams; j++) array_set_slow(rt->heap(), arr, j, t->stack[f.base + uint32_t(a + j)]);
  return Value::object(arr);
}

// GOV: go R[A+1](the elements of the array R[A]), which stays rooted in
// R[A] while the goroutine is made.
NOINLINE bool gov_slow(Thread* t, Value* ra) {
  Array* args = as_array(ra[0]);
  std::vector<Value> call(size_t(args->len) + 1);  // callee, arguments: go_slow's layout
  call[0] = ra[1];
  for (uint32_t j = 0; j < args->len; j++) array_get(args, j, &call[j + 1]);
  return go_slow(t, call.data(), int(args->len));
}

// The instruction at pc of a G re-entered with Resume::Complete: a CALL
// of a native that parked (sleep, gosched, gc, a preempted native call)
// takes its result from g->resume_value; a channel instruction is finished
// by chan_complete (vm/interp/chanops.h). Returns the pc to go on at, or
// nullptr with an error raised.
NOINLINE const Instr* complete_instruction(Thread* t, const Instr* pc, Value* R) {
  sched::G* g = t->g;
  if (Op op = op_of(*pc); op == Op::CALL || op == Op::CALLG || op == Op::CALLV) {
    R[arg_a(*pc) + (op == Op::CALLV ? 1 : 0)] = g->resume_value;  // CALLV's result: R[A+1]
    g->resume_value = Value::nil();
    return pc + 1;
  }
  return chan_complete(t, pc, R);
}

NOINLINE void raise_simple(Thread* t, const char* msg) { t->raise("%s", msg); }

NOINLINE void raise_type_arity(Thread* t, Proto* p, int got) {
  raise_arity(t, p->name.c_str(), p->nparams, p->nparams, got);
}

}  // namespace

Value pcall_outcome(Thread* t, Value r) { return r.is_empty() ? pcall_catch(t) : pcall_result(t, true, r); }

void raise_arity(Thread* t, const char* name, int min_args, int max_args, int got) {
  if (min_args == max_args) {
    t->raise("%s expects %d argument%s, got %d", name, min_args, min_args == 1 ? "" : "s", got);
  } else if (max_args < 0) {
    t->raise("%s expects at least %d argument%s, got %d", name, min_args, min_args == 1 ? "" : "s", got);
  } else {
    t->raise("%s expects %d to %d arguments, got %d", name, min_args, max_args, got);
  }
}

bool map_key(Thread* t, Value* k) {
  if (is_valid_key(*k)) return true;
  if (k->is_double()) {
    double d = k->as_double();
    if (d >= -0x1p63 && d < 0x1p63 && std::trunc(d) == d) {
      *k = t->rt->make_int(int64_t(d));  // -0.0 too: it is 0
      return true;
    }
    std::string text;
    format_value(text, *k, false);
    t->raise("invalid map key: float %s has no int value", text.c_str());
    return false;
  }
  t->raise("invalid map key type: %s", type_name(*k));
  return false;
}

bool compare_values(Thread* t, const char* op, Value a, Value b, bool* result) {
  bool le = op[1] == '=';
  bool swap = op[0] == '>';
  Value x = swap ? b : a, y = swap ? a : b;
  if (is_number(x) && is_number(y)) {
    if (is_int(x) && is_int(y)) {
      int64_t i = int_of(x), j = int_of(y);
      *result = le ? i <= j : i < j;
    } else if (is_int(x) || is_int(y)) {  // exact: no rounding of the int
      int c = is_int(x) ? compare_int_float(int_of(x), y.as_double())
                        : -compare_int_float(int_of(y), x.as_double());
      *result = (c == -1 || (le && c == 0));  // NaN (2 or -2): false
    } else {
      double i = x.as_double(), j = y.as_double();
      *result = le ? i <= j : i < j;
    }
    return true;
  }
  if (is_type(x, ObjType::String) && is_type(y, ObjType::String)) {
    int c = as_string(x)->view().compare(as_string(y)->view());
    *result = le ? c <= 0 : c < 0;
    return true;
  }
  t->raise("invalid operation: %s %s %s", type_name(a), op, type_name(b));
  return false;
}

namespace {

// 1 or 0, or -1 with an error raised. A result, not a bool* out-parameter:
// the address of the dispatch loop's local would keep it in memory.
NOINLINE int compare_slow(Thread* t, const char* op, Value a, Value b) {
  bool r;
  return compare_values(t, op, a, b, &r) ? int(r) : -1;
}

}  // namespace

// The loop behind execute() and execute_goroutine(): `complete` finishes
// the instruction at the top frame's pc first (a G resumed with
// Resume::Complete). Every exit decrements t->depth, which entry
// increments (one per activation on this native stack).
// no-crossjumping: keep one indirect jump per opcode (GCC otherwise merges
// the dispatch tails into one shared, badly predicted jump; clang has no
// such option and keeps them apart by itself).
// WEFT_ASYNC_SAFE (vm/sched/preempt.h): a goroutine may be stopped at any
// instruction of this loop and resumed on another M. Its state is the
// Thread's and locals derived from it; the M, the P and their caches are
// reached only through out-of-line calls (weft_alloc_fast is a restartable
// sequence of its own), and tests/preempt checks the code for TLS accesses.
#if defined(__clang__)
#define WEFT_NO_CROSSJUMPING
#else
#define WEFT_NO_CROSSJUMPING __attribute__((optimize("no-crossjumping")))
#endif
WEFT_ASYNC_SAFE WEFT_NO_CROSSJUMPING static Value interpret(Thread* t, bool complete) {
  static const void* const kLabels[kOpCount] = {
#define WEFT_LABEL(name, a, b, c, flags) &&op_##name,
      WEFT_OPCODES(WEFT_LABEL)
#undef WEFT_LABEL
  };

  Runtime* const rt = t->rt;
  Value* const G = rt->globals.slots();  // never moves (vm/interp/globals.h)
  Frame* f;
  Closure* cl;
  const Instr* pc;
  Value* R;
  const Value* K;
  Instr i;
  Value ret;
  int64_t a2_int;  // ARITH2's int result on its way to arith2_box

#define LOAD_FRAME()                 \
  do {                               \
    f = &t->frames.back();           \
    cl = f->closure;                 \
    R = t->stack + f->base;          \
    K = f->k;                        \
  } while (0)
#define NEXT()                       \
  do {                               \
    i = *pc++;                       \
    goto* kLabels[i & 0xff];       \
  } while (0)
#define SAVEPC() (f->pc = pc - 1)
#define A arg_a(i)
#define B arg_b(i)
#define C arg_c(i)
#define RA R[arg_a(i)]
#define RB R[arg_b(i)]
#define RC R[arg_c(i)]
// Before an allocation: the allocation-site check of the guard (none
// without kSyncPoll).
#define ALLOC_POLL()                                \
  do {                                              \
    if (kSyncPoll && UNLIKELY(R > guard(t))) {      \
      SAVEPC();                                     \
      STOP(honor_stop(t, kReexecute));              \
    }                                               \
  } while (0)
// After a safe-point's honor_stop: unwind if it parked, throw if it raised.
#define STOP(outcome)                            \
  do {                                           \
    StopOutcome so_ = (outcome);                 \
    if (so_ == kStopParked) goto parked;         \
    if (so_ == kStopError) goto error;           \
  } while (0)
#define THROW_IF(cond) \
  do {                 \
    if (cond) goto error; \
  } while (0)
// Compare-and-skip: the next instruction is a JMP taken iff cond == C.
#define COND_JUMP(cond)                          \
  do {                                           \
    if ((cond) == bool(C)) pc += arg_sj(*pc) + 1; \
    else pc++;                                   \
  } while (0)

  t->depth++;
  LOAD_FRAME();
  pc = f->pc;
  if (complete) {
    pc = complete_instruction(t, pc, R);
    if (pc == nullptr) goto error;
    LOAD_FRAME();
  }
  NEXT();

op_MOVE:
  RA = RB;
  NEXT();
op_LOADK:
  RA = K[arg_bx(i)];
  NEXT();
op_LOADI:
  RA = Value::inline_int(arg_sbx(i));
  NEXT();
op_LOADNIL:
  for (int j = 0; j <= B; j++) R[A + j] = Value::nil();
  NEXT();
op_LOADTRUE:
  RA = Value::boolean(true);
  NEXT();
op_LOADFALSE:
  RA = Value::boolean(false);
  NEXT();
op_GETGLOBAL:
  RA = G[arg_bx(i)];
  NEXT();
op_SETGLOBAL:
  G[arg_bx(i)] = RA;
  NEXT();
op_GETUPVAL:
  RA = cl->upvals[arg_bx(i)]->value;
  NEXT();
op_SETUPVAL: {
  Cell* cell = cl->upvals[arg_bx(i)];
  cell->value = RA;
  gc::write_barrier(cell, RA);
  NEXT();
}
op_NEWCELL:
  ALLOC_POLL();
  RA = Value::object(rt->new_cell(RB));
  NEXT();
op_GETCELL:
  RA = as_cell(RB)->value;
  NEXT();
op_SETCELL:
  as_cell(RA)->value = RB;
  gc::write_barrier(RA.as_obj(), RB);
  NEXT();
op_CLOSURE: {
  ALLOC_POLL();
  Proto* p = cl->proto->protos[arg_bx(i)];
  Closure* c = rt->new_closure(p);
  for (uint32_t j = 0; j < c->nupvals; j++) {
    const Capture& cap = p->captures[j];
    if (!cap.from_register) {
      c->upvals[j] = cl->upvals[cap.index];
    } else {
      Value v = R[cap.index];
      if (UNLIKELY(cap.slot >= 0)) array_get(as_array(v), cap.slot, &v);  // a spilled local's cell
      c->upvals[j] = as_cell(v);
    }
  }
  // Fresh, but this instruction may be preempted (and a minor run) after
  // new_closure: bdwgc would rescan it anyway (vm/gc/barrier.h); one
  // barrier per closure is cheaper than reasoning about it.
  if (c->nupvals != 0) gc::write_barrier(c);
  RA = Value::object(c);
  NEXT();
}
op_NEWARRAY: {
  ALLOC_POLL();
  RA = Value::object(new_literal_array(rt, &RB, C));
  NEXT();
}
op_APPENDN: {
  ALLOC_POLL();
  Array* a = as_array(RA);
  for (int j = 0; j < C; j++) array_push(rt->heap(), a, R[B + j]);
  NEXT();
}
op_NEWMAP: {
  ALLOC_POLL();
  Map* m = rt->new_map(uint32_t(C));
  RA = Value::object(m);
  if (UNLIKELY(!set_pairs(t, m, &RB, C))) {
    SAVEPC();
    goto error;
  }
  NEXT();
}
op_SETMAPN: {
  ALLOC_POLL();
  if (UNLIKELY(!set_pairs(t, as_map(RA), &RB, C))) {
    SAVEPC();
    goto error;
  }
  NEXT();
}
op_GETINDEX: {
  Value o = RB, k = RC;
  if (LIKELY(is_type(o, ObjType::Array) && k.is_inline_int()) &&
      array_get(as_array(o), k.as_inline_int(), &RA)) {
    NEXT();
  }
  SAVEPC();
  THROW_IF(!index_get_slow(t, o, k, &RA));
  NEXT();
}
op_SETINDEX: {
  Value o = RA, k = RB;
  if (LIKELY(is_type(o, ObjType::Array) && k.is_inline_int()) &&
      array_set(as_array(o), k.as_inline_int(), RC)) {
    NEXT();
  }
  ALLOC_POLL();  // a map store may allocate
  SAVEPC();
  THROW_IF(!index_set_slow(t, o, k, RC));
  NEXT();
}
op_GETINDEXI: {
  Value o = RB;
  if (LIKELY(is_type(o, ObjType::Array)) && array_get(as_array(o), C, &RA)) NEXT();
  SAVEPC();
  THROW_IF(!index_get_slow(t, o, Value::inline_int(C), &RA));
  NEXT();
}
op_SETINDEXI: {
  Value o = RA;
  if (LIKELY(is_type(o, ObjType::Array)) && array_set(as_array(o), B, RC)) NEXT();
  ALLOC_POLL();  // a map store may allocate
  SAVEPC();
  THROW_IF(!index_set_slow(t, o, Value::inline_int(B), RC));
  NEXT();
}
op_GETFIELD: {
  Value o = RB;
  if (LIKELY(is_type(o, ObjType::Map))) {
    Value v = map_get_hinted(as_map(o), K[C], field_hint(cl, pc));
    RA = v.is_empty() ? Value::nil() : v;
    NEXT();
  }
  SAVEPC();
  THROW_IF(!index_get_slow(t, o, K[C], &RA));
  NEXT();
}
op_SETFIELD: {
  // The inline cache's hit first: it allocates nothing, so it is no stop.
  if (LIKELY(is_type(RA, ObjType::Map)) && map_set_hit(as_map(RA), K[B], RC, field_hint(cl, pc))) NEXT();
  ALLOC_POLL();
  SAVEPC();
  if (LIKELY(is_type(RA, ObjType::Map))) {  // K[B] is a string: a valid key
    map_set_hinted(rt->heap(), as_map(RA), K[B], RC, field_hint(cl, pc));
    NEXT();
  }
  THROW_IF(!index_set_slow(t, RA, K[B], RC));
  NEXT();
}

// CAN_BOX: the int result r is exact (wrapped) even when it leaves the
// inline range, so it is boxed here rather than recomputed in the slow path.
#define ARITH(NAME, SLOW, X, Y, INT_EXPR, DBL_EXPR, CAN_BOX)            \
  op_##NAME: {                                                          \
    Value x = X, y = Y;                                                 \
    if (LIKELY(both_inline(x, y))) {                                    \
      int64_t a = x.as_inline_int(), b = y.as_inline_int(), r;          \
      INT_EXPR;                                                         \
      if (LIKELY(Value::fits_inline(r))) {                              \
        RA = Value::inline_int(r);                                      \
        NEXT();                                                         \
      }                                                                 \
      if (CAN_BOX) {                                                    \
        ALLOC_POLL();                                                   \
        RA = box_int(rt, r);                                            \
        NEXT();                                                         \
      }                                                                 \
    } else if (double a, b; float_operands(x, y, &a, &b)) {            \
      RA = Value::number(DBL_EXPR);                                     \
      NEXT();                                                           \
    }                                                                   \
    ALLOC_POLL(); /* the slow path may allocate: a full safe-point */   \
    SAVEPC();                                                           \
    THROW_IF(!arith_slow<Op::SLOW>(t, &RA, x, y));                      \
    NEXT();                                                             \
  }
// Division and modulo leave zero divisors (and their errors) to the slow path.
#define INT_ADD r = a + b
#define INT_SUB r = a - b
#define INT_MUL r = int64_t(uint64_t(a) * uint64_t(b))
#define INT_DIV                      \
  if (UNLIKELY(b == 0)) r = INT64_MAX; \
  else r = a / b
#define INT_MOD                      \
  if (UNLIKELY(b == 0)) r = INT64_MAX; \
  else r = a % b

  ARITH(ADD, ADD, RB, RC, INT_ADD, a + b, true)
  ARITH(SUB, SUB, RB, RC, INT_SUB, a - b, true)
  ARITH(MUL, MUL, RB, RC, INT_MUL, a * b, true)
  ARITH(DIV, DIV, RB, RC, INT_DIV, a / b, false)
  ARITH(MOD, MOD, RB, RC, INT_MOD, std::fmod(a, b), false)
  ARITH(ADDK, ADD, RB, K[C], INT_ADD, a + b, true)
  ARITH(SUBK, SUB, RB, K[C], INT_SUB, a - b, true)
  ARITH(MULK, MUL, RB, K[C], INT_MUL, a * b, true)
  ARITH(DIVK, DIV, RB, K[C], INT_DIV, a / b, false)
  ARITH(MODK, MOD, RB, K[C], INT_MOD, std::fmod(a, b), false)
  // The constant on the left: the same instances of the slow path, given
  // the operands in source order.
  ARITH(KADD, ADD, K[C], RB, INT_ADD, a + b, true)
  ARITH(KSUB, SUB, K[C], RB, INT_SUB, a - b, true)
  ARITH(KMUL, MUL, K[C], RB, INT_MUL, a * b, true)
  ARITH(KDIV, DIV, K[C], RB, INT_DIV, a / b, false)
  ARITH(KMOD, MOD, K[C], RB, INT_MOD, std::fmod(a, b), false)

// The ARITH2 family: one body per pair of operators, so that the pair is
// known where it is compiled (the generic form's two switches on them cost
// two indirect jumps per instruction).
#define ARITH2_BODY(OP1, OP2)                                                   \
  op_##OP1##_##OP2: {                                                          \
    Instr extra = *pc++;                                                        \
    Value x = RB, y = RC;                                                       \
    Value z = extra_z_is_k(extra) ? K[arg_c(extra)] : R[arg_c(extra)];          \
    if (LIKELY(both_inline(x, y) && z.is_inline_int())) {                       \
      if (LIKELY(int_step(Op::OP1, x.as_inline_int(), y.as_inline_int(), &a2_int) && \
                 int_step(Op::OP2, a2_int, z.as_inline_int(), &a2_int))) {       \
        if (LIKELY(Value::fits_inline(a2_int))) {                               \
          RA = Value::inline_int(a2_int);                                       \
          NEXT();                                                               \
        }                                                                       \
        goto arith2_box;                                                        \
      }                                                                         \
    } else if (double a, b, c; float_operands(x, y, &a, &b) && float_operand(z, &c)) { \
      /* a float first step makes the second one float too */                  \
      RA = Value::number(float_step(Op::OP2, float_step(Op::OP1, a, b), c));    \
      NEXT();                                                                   \
    }                                                                           \
    goto arith2_slow;                                                           \
  }
#define ARITH2_ROW(OP1) \
  ARITH2_BODY(OP1, ADD) ARITH2_BODY(OP1, SUB) ARITH2_BODY(OP1, MUL) ARITH2_BODY(OP1, DIV) ARITH2_BODY(OP1, MOD)
  ARITH2_ROW(ADD)
  ARITH2_ROW(SUB)
  ARITH2_ROW(MUL)
  ARITH2_ROW(DIV)
  ARITH2_ROW(MOD)
#undef ARITH2_ROW
#undef ARITH2_BODY
arith2_box:  // an int result beyond the inline range, in a2_int
  f->pc = pc - 2;  // ARITH2's own pc: its stack map
  if (kSyncPoll && UNLIKELY(R > guard(t))) STOP(honor_stop(t, kReexecute));
  RA = box_int(rt, a2_int);
  NEXT();
arith2_slow: {
  Instr extra = pc[-1];
  Value z = extra_z_is_k(extra) ? K[arg_c(extra)] : R[arg_c(extra)];
  f->pc = pc - 2;
  if (kSyncPoll && UNLIKELY(R > guard(t))) STOP(honor_stop(t, kReexecute));
  THROW_IF(!arith2_slow(t, &RA, extra, RB, RC, z));
  NEXT();
}
op_EXTRA:  // never dispatched: the instruction before it consumes it
  fatal("interp: EXTRA executed");
op_NEWSPILL:
  ALLOC_POLL();
  SAVEPC();
  RA = new_spill(t, A, arg_bx(i));
  NEXT();
// The wide forms: the index is the next (EXTRA) word's Ax.
op_LOADKX:
  RA = K[arg_ax(*pc++)];
  NEXT();
op_GETGLOBALX:
  RA = G[arg_ax(*pc++)];
  NEXT();
op_SETGLOBALX:
  G[arg_ax(*pc++)] = RA;
  NEXT();
op_NEG: {
  Value x = RB;
  if (LIKELY(x.is_inline_int()) && x.as_inline_int() != Value::kMinInline) {
    RA = Value::inline_int(-x.as_inline_int());
    NEXT();
  }
  ALLOC_POLL();
  SAVEPC();
  THROW_IF(!neg_slow(t, &RA, x));
  NEXT();
}
op_NOT:
  RA = Value::boolean(!RB.truthy());
  NEXT();

// Bitwise operators: two inline ints give an inline int, except a shift
// left that leaves the range; shift counts outside 0..63 (defined by
// bit_step, negative ones an error), boxed operands and errors take the
// slow path.
#define BITWISE(NAME, OPERAND_C, SHIFT)                                  \
  op_##NAME: {                                                          \
    Value x = RB, y = OPERAND_C;                                        \
    if (LIKELY(both_inline(x, y)) && (!SHIFT || uint64_t(y.as_inline_int()) < 64)) { \
      int64_t r;                                                        \
      bit_step(Op::NAME, x.as_inline_int(), y.as_inline_int(), &r);     \
      if (LIKELY(Value::fits_inline(r))) {                              \
        RA = Value::inline_int(r);                                      \
        NEXT();                                                         \
      }                                                                 \
    }                                                                   \
    ALLOC_POLL(); /* the slow path may allocate: a full safe-point */   \
    SAVEPC();                                                           \
    THROW_IF(!bitwise_slow<Op::NAME>(t, &RA, x, y));                    \
    NEXT();                                                             \
  }
  BITWISE(BAND, RC, false)
  BITWISE(BOR, RC, false)
  BITWISE(BXOR, RC, false)
  BITWISE(SHL, RC, true)
  BITWISE(SHR, RC, true)
  BITWISE(BANDK, K[C], false)
  BITWISE(BORK, K[C], false)
  BITWISE(BXORK, K[C], false)
  BITWISE(SHLK, K[C], true)
  BITWISE(SHRK, K[C], true)
op_BNOT: {
  Value x = RB;
  if (LIKELY(x.is_inline_int())) {  // ~ of an inline int is inline
    RA = Value::inline_int(~x.as_inline_int());
    NEXT();
  }
  ALLOC_POLL();
  SAVEPC();
  THROW_IF(!bnot_slow(t, &RA, x));
  NEXT();
}
op_EQ:
  RA = Value::boolean(values_equal(RB, RC));
  NEXT();
op_NE:
  RA = Value::boolean(!values_equal(RB, RC));
  NEXT();

#define COMPARE(X, Y, OP, TEXT, RESULT)                                  \
  do {                                                                  \
    Value x = X, y = Y;                                                 \
    if (LIKELY(both_inline(x, y))) {                                    \
      RESULT = x.as_inline_int() OP y.as_inline_int();                  \
    } else if (double a_, b_; float_operands(x, y, &a_, &b_)) {        \
      /* exact for an int too: an inline one has at most 49 bits */     \
      RESULT = a_ OP b_;                                                \
    } else {                                                            \
      SAVEPC();                                                         \
      int c_ = compare_slow(t, TEXT, x, y);                             \
      THROW_IF(c_ < 0);                                                 \
      RESULT = c_ != 0;                                                 \
    }                                                                   \
  } while (0)

op_LT: {
  bool r;
  COMPARE(RB, RC, <, "<", r);
  RA = Value::boolean(r);
  NEXT();
}
op_LE: {
  bool r;
  COMPARE(RB, RC, <=, "<=", r);
  RA = Value::boolean(r);
  NEXT();
}
op_GT: {
  bool r;
  COMPARE(RB, RC, >, ">", r);
  RA = Value::boolean(r);
  NEXT();
}
op_GE: {
  bool r;
  COMPARE(RB, RC, >=, ">=", r);
  RA = Value::boolean(r);
  NEXT();
}
op_JEQ:
  COND_JUMP(values_equal(RA, RB));
  NEXT();
op_JLT: {
  bool r;
  COMPARE(RA, RB, <, "<", r);
  COND_JUMP(r);
  NEXT();
}
op_JLE: {
  bool r;
  COMPARE(RA, RB, <=, "<=", r);
  COND_JUMP(r);
  NEXT();
}
op_JGT: {
  bool r;
  COMPARE(RA, RB, >, ">", r);
  COND_JUMP(r);
  NEXT();
}
op_JGE: {
  bool r;
  COMPARE(RA, RB, >=, ">=", r);
  COND_JUMP(r);
  NEXT();
}
op_JEQK:
  COND_JUMP(values_equal(RA, K[B]));
  NEXT();
op_JLTK: {
  bool r;
  COMPARE(RA, K[B], <, "<", r);
  COND_JUMP(r);
  NEXT();
}
op_JLEK: {
  bool r;
  COMPARE(RA, K[B], <=, "<=", r);
  COND_JUMP(r);
  NEXT();
}
op_JGTK: {
  bool r;
  COMPARE(RA, K[B], >, ">", r);
  COND_JUMP(r);
  NEXT();
}
op_JGEK: {
  bool r;
  COMPARE(RA, K[B], >=, ">=", r);
  COND_JUMP(r);
  NEXT();
}
op_JMP:
  pc += arg_sj(i);
  NEXT();
op_JMPIF:
  if (RA.truthy()) pc += arg_sbx(i);
  NEXT();
op_JMPIFNOT:
  if (!RA.truthy()) pc += arg_sbx(i);
  NEXT();

op_FORPREP: {
  Value* ra = &RA;
  if (LIKELY(both_inline(ra[0], ra[1]))) {
    if (ra[0].as_inline_int() >= ra[1].as_inline_int()) pc += arg_sbx(i);
    else ra[2] = ra[0];
    NEXT();
  }
  bool empty;
  SAVEPC();
  THROW_IF(!forprep_slow(t, ra, &empty));
  if (empty) pc += arg_sbx(i);
  NEXT();
}
op_FORLOOP: {
  Value* ra = &RA;
  if (LIKELY(both_inline(ra[0], ra[1]))) {
    int64_t n = ra[0].as_inline_int() + 1;
    if (n < ra[1].as_inline_int()) {
      ra[0] = ra[2] = Value::inline_int(n);
      pc += arg_sbx(i);
    }
    NEXT();
  }
  if (forloop_slow(t, ra)) pc += arg_sbx(i);
  NEXT();
}
op_ITERPREP: {
  Value o = RA;
  if (UNLIKELY(!is_type(o, ObjType::Array) && !is_type(o, ObjType::Map) && !is_type(o, ObjType::String) &&
               !is_type(o, ObjType::Channel))) {
    SAVEPC();
    t->raise("cannot iterate over a value of type %s", type_name(o));
    goto error;
  }
  R[A + 1] = Value::inline_int(0);
  pc += arg_sbx(i);
  NEXT();
}
op_ITERNEXT1: {
  Value* ra = &RA;
  if (LIKELY(is_type(ra[0], ObjType::Array))) {
    int64_t j = ra[1].as_inline_int();
    if (array_get(as_array(ra[0]), j, &ra[2])) {
      ra[1] = Value::inline_int(j + 1);
      pc += arg_sbx(i);
    }
    NEXT();
  }
  SAVEPC();
  if (is_type(ra[0], ObjType::Channel)) {  // receives until closed and drained
    ALLOC_POLL();
    Value v;
    bool ok;
    ChanStep r = chan_recv(t, ra[0], &v, &ok);
    if (r == ChanStep::Unwound) goto parked;
    if (ok) {
      ra[2] = v;
      pc += arg_sbx(i);
    }
    NEXT();
  }
  if (iter_next_slow(t, ra, false)) pc += arg_sbx(i);
  NEXT();
}
op_ITERNEXT2: {
  Value* ra = &RA;
  if (LIKELY(is_type(ra[0], ObjType::Array))) {
    int64_t j = ra[1].as_inline_int();
    if (array_get(as_array(ra[0]), j, &ra[3])) {
      ra[1] = Value::inline_int(j + 1);
      ra[2] = Value::inline_int(j);
      pc += arg_sbx(i);
    }
    NEXT();
  }
  SAVEPC();
  if (UNLIKELY(is_type(ra[0], ObjType::Channel))) {
    raise_simple(t, "cannot iterate over a channel with two variables");
    goto error;
  }
  if (iter_next_slow(t, ra, true)) pc += arg_sbx(i);
  NEXT();
}

op_CALL: {
  int a = A, nargs = B;
  Value fn = R[a];
  f->pc = pc - 1;  // the caller is suspended in this CALL
  if (LIKELY(is_type(fn, ObjType::Closure))) {
    Closure* c = as_closure(fn);
    Proto* p = c->proto;
    if (UNLIKELY(p->nparams != nargs)) {
      raise_type_arity(t, p, nargs);
      goto error;
    }
    uint32_t nb = f->base + uint32_t(a) + 1;
    if (UNLIKELY(call_check_fails(t, nb, p->nregs))) {
      SafepointOutcome so = call_safepoint(t, nb + size_t(p->nregs));
      THROW_IF(so == kSafepointError);
      if (so == kSafepointParked) goto parked;
    }
    t->frames.push_back(Frame{c, p->code.data(), p->k.data(), nb, 0});
    f = &t->frames.back();
    cl = c;
    R = t->stack + nb;
    K = p->k.data();
    pc = p->code.data();
    NEXT();
  }
  if (LIKELY(is_type(fn, ObjType::Native))) {
    // The common native (neither pcall nor blocking, its arity right, no
    // stop pending) is called here: call_slow's and call_native's frames
    // were a sixth of a host native's call (bench/embed). The rest, and a
    // stop pending before the call, take call_slow.
    Native* n = as_native(fn);
    if (LIKELY(n->flags == 0 && native_arity_ok(n, nargs) && guard(t) != kStackPoison)) {
      Value r = n->fn(t, R + a + 1, nargs);
      THROW_IF(r.is_empty());
      if (UNLIKELY(r == kParked)) goto parked;  // the native set g->resume
      LOAD_FRAME();  // a callback into Weft may have moved the stack and the frames
      R[a] = r;
      if (UNLIKELY(guard(t) == kStackPoison)) {
        CallOutcome o = native_returned_to_stop(t, r);
        THROW_IF(o == kCallError);
        if (o == kCallParked) goto parked;
        LOAD_FRAME();
      }
      NEXT();  // pc is past the CALL, where f->pc + 1 would put it
    }
  }
  CallOutcome o = call_slow(t, a, nargs);
  THROW_IF(o == kCallError);
  if (o == kCallParked) goto parked;
  LOAD_FRAME();
  pc = o == kCallEnter ? f->pc : f->pc + 1;
  NEXT();
}
op_CALLG:
  RA = G[C];
  goto op_CALL;
op_CALLV: {
  f->pc = pc - 1;  // the caller is suspended in this CALLV
  CallOutcome o = callv_slow(t, A);
  THROW_IF(o == kCallError);
  if (o == kCallParked) goto parked;
  LOAD_FRAME();
  pc = o == kCallEnter ? f->pc : f->pc + 1;
  NEXT();
}
op_GOV:
  ALLOC_POLL();
  SAVEPC();
  THROW_IF(!gov_slow(t, &RA));
  NEXT();
op_GO:
  ALLOC_POLL();
  SAVEPC();
  THROW_IF(!go_slow(t, &RA, B));
  NEXT();
op_RETURN:
  ret = RA;
  goto do_return;
op_RETURNNIL:
  ret = Value::nil();
do_return: {
  uint32_t flags = f->flags, base = f->base;
  if (LIKELY(flags == 0)) {  // back to the caller below: f - 1, as frames are contiguous
    R[-1] = ret;
    t->frames.pop_back();
    f--;
    cl = f->closure;
    R = t->stack + f->base;
    K = f->k;
    pc = f->pc + 1;
    NEXT();
  }
  t->frames.pop_back();
  if (flags & kFrameReentry) {
    t->depth--;
    return ret;
  } else {  // kFramePcall: the caller's R[A] is the pcall slot, below f's
    t->stack[base - 2] = pcall_result(t, true, ret);
  }
  LOAD_FRAME();
  pc = f->pc + 1;
  NEXT();
}
// Channel instructions (vm/interp/chanops.h). A blocked one parks: stackfully
// it returns Done once woken; stacklessly it returns Unwound and is finished
// by chan_complete when the G is re-entered at its saved pc. Each
// polls the guard first (ALLOC_POLL: nothing done yet, so a preemption
// re-executes it): a loop of channel operations that never block, call or
// allocate must still stop for the world.
op_SEND: {
  ALLOC_POLL();
  SAVEPC();
  ChanStep r = chan_send(t, RA, &RB);
  if (LIKELY(r == ChanStep::Done)) NEXT();
  THROW_IF(r == ChanStep::Error);
  goto parked;
}
op_RECV: {
  ALLOC_POLL();
  SAVEPC();
  Value v;
  bool ok;
  ChanStep r = chan_recv(t, RB, &v, &ok);
  if (LIKELY(r == ChanStep::Done)) {
    RA = v;
    NEXT();
  }
  THROW_IF(r == ChanStep::Error);
  goto parked;
}
op_RECV2: {
  ALLOC_POLL();
  SAVEPC();
  Value v;
  bool ok;
  ChanStep r = chan_recv(t, RB, &v, &ok);
  if (LIKELY(r == ChanStep::Done)) {
    RA = v;
    R[A + 1] = Value::boolean(ok);
    NEXT();
  }
  THROW_IF(r == ChanStep::Error);
  goto parked;
}
op_SELECT: {
  ALLOC_POLL();
  SAVEPC();
  int chosen;
  Value v;
  bool ok;
  ChanStep r = chan_select(t, &RB, K[C].as_inline_int(), &chosen, &v, &ok);
  if (LIKELY(r == ChanStep::Done)) {
    RA = Value::inline_int(chosen);
    R[A + 1] = v;
    R[A + 2] = Value::boolean(ok);
    NEXT();
  }
  THROW_IF(r == ChanStep::Error);
  goto parked;
}

error:
  // Unwind to the nearest pcall frame (which catches) or re-entry frame
  // (which hands the error to whoever called execute()).
  for (;;) {
    Frame fr = t->frames.back();
    t->frames.pop_back();
    if (fr.flags & kFrameReentry) {
      t->depth--;
      return Value::empty();
    }
    if (fr.flags & kFramePcall) {
      Value caught = pcall_catch(t);
      t->stack[fr.base - 2] = caught;
      LOAD_FRAME();
      pc = f->pc + 1;
      NEXT();
    }
  }

parked:
  // Parked stacklessly (sched::gopark returned Unwound): the frame's pc is
  // saved at the instruction, which is re-executed or completed on resume
  // per g->resume. Only the G's bottom activation (depth 1) gets here.
  t->depth--;
  return kParked;

#undef LOAD_FRAME
#undef NEXT
#undef SAVEPC
#undef A
#undef B
#undef C
#undef RA
#undef RB
#undef RC
#undef ALLOC_POLL
#undef THROW_IF
#undef COND_JUMP
#undef ARITH
#undef BITWISE
#undef COMPARE
}

Value execute(Thread* t) { return interpret(t, false); }

Value execute_goroutine(Thread* t) {
  sched::G* g = t->g;
  bool complete = g->resume == sched::Resume::Complete;
  g->resume = sched::Resume::Reexecute;
  return interpret(t, complete);
}

Value Runtime::call(Thread* t, Value fn, const Value* args, int nargs) {
  // The callee first (Native), then the arguments: args may point into the
  // VM stack, which the call may grow. On this C++ stack when they fit: a
  // goroutine parked inside the call and abandoned at shutdown then leaks
  // no allocation.
  constexpr int kInline = 8;
  Value inline_copy[kInline];
  std::vector<Value> heap_copy;
  Value* copy = inline_copy;
  if (nargs + 1 > kInline) {
    heap_copy.resize(size_t(nargs) + 1);
    copy = heap_copy.data();
  }
  copy[0] = fn;
  std::copy(args, args + nargs, copy + 1);
  if (t->depth >= kMaxNesting) {
    t->raise("stack overflow");
    return Value::empty();
  }
  if (is_type(fn, ObjType::Native)) {
    Native* n = as_native(fn);
    if (nargs < n->min_args || (n->max_args >= 0 && nargs > n->max_args)) {
      raise_arity(t, n->name, n->min_args, n->max_args, nargs);
      return Value::empty();
    }
    t->depth++;  // counts as an activation: a park inside keeps the stack
    Value r = n->fn(t, copy + 1, nargs);
    t->depth--;
    return r;
  }
  if (!is_type(fn, ObjType::Closure)) {
    t->raise("cannot call %s", type_name(fn));
    return Value::empty();
  }
  Closure* c = as_closure(fn);
  Proto* p = c->proto;
  if (p->nparams != nargs) {
    raise_arity(t, p->name.c_str(), p->nparams, p->nparams, nargs);
    return Value::empty();
  }
  size_t slot = 0;
  if (!t->frames.empty()) {
    const Frame& top = t->frames.back();
    slot = top.base + size_t(top.closure->proto->nregs);
  }
  if (!t->ensure_stack(slot + 1 + size_t(p->nregs))) return Value::empty();
  t->stack[slot] = fn;
  for (int j = 0; j < nargs; j++) t->stack[slot + 1 + size_t(j)] = copy[size_t(j) + 1];
  t->frames.push_back(Frame{c, p->code.data(), p->k.data(), uint32_t(slot + 1), kFrameReentry});
  return execute(t);
}

}  // namespace weft
