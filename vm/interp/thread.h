// A Thread is the VM's state for one goroutine: its VM stack of registers,
// its call frames, its guard, and its pending error. Each goroutine (the
// scheduler's G, vm/sched) owns one; Runtime::main_thread() is the host
// thread's, for running Weft code off the scheduler.
//
// The VM stack is a contiguous array of Values that is reallocated (copied)
// when it grows, so frames refer to it by offsets and any Value* into it is
// invalid after anything that may call, allocate or switch.
//
// The guard: every VM call checks `top-of-new-frame > stackguard`, and
// every allocating instruction checks `base > stackguard`. Normally
// stackguard points kStackSlack registers below the stack's end, so only a
// real overflow fails. To stop the goroutine at its next safe-point (a
// collection request, a preemption) anyone sets it to kStackPoison,
// making both checks fail; the slow path looks at why and restores it. This
// is the only check on the call and allocation paths.
#pragma once

#include <cstddef>
#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "vm/core/object.h"
#include "vm/interp/bytecode.h"
#include "vm/sched/sched.h"

namespace weft {

class Runtime;

constexpr size_t kStackSlack = 8;  // registers kept free above the guard
constexpr size_t kInitialStack = 1024;   // Values; 8 KiB, enough for most scripts
constexpr size_t kGoroutineStack = 32;   // Values (256 B) of a new goroutine: grows by copying;
                                         // 100,000 parked goroutines must fit in ~1 KiB each
constexpr int kMaxNesting = 200;         // execute() activations (natives calling back into
                                         // Weft) per goroutine: bounds native stack use
constexpr size_t kMaxStack = 1u << 22;   // Values (32 MiB): beyond it, `stack overflow`

// One activation of a VM function, or of a native called from one.
struct Frame {
  Closure* closure;     // GC root; nullptr for a native's frame
  const Instr* pc;      // saved pc: the next instruction, or the safe-point
                        // instruction itself while the frame is suspended in it
  const Value* k;       // closure->proto->k.data(): a return reloads one word, not three
  uint32_t base;        // offset of R[0] in the VM stack
  uint32_t flags;       // kFramePcall, kFrameReentry
};

constexpr uint32_t kFramePcall = 1;    // a pcall boundary: errors unwind to it
constexpr uint32_t kFrameReentry = 2;  // entered by a native calling back: return leaves execute()

// What the interpreter reads of a host request (vm/api/host.h's HostTask
// derives from it): a G with g->host set points at one.
struct HostRequest {
  // The request's deadline passed (VM::call_for): from now on every
  // safe-point of its goroutine raises `deadline exceeded` (honor_stop,
  // vm/interp/interp.cpp), so a pcall cannot outlive the deadline. Set by
  // the host's watchdog, which also poisons the goroutine's guard.
  std::atomic<bool> deadline_passed{false};
};

// The guard word, the guard's limit and `depth` (execute() activations on
// the native stack) are in the base, where the scheduler sees them.
struct Thread : sched::GoroutineVM {
  Runtime* rt;
  sched::G* g = nullptr;        // the goroutine this is the VM state of (set by vm/sched)

  // The VM stack. Owned by this Thread (malloc'd: bdwgc never scans it; the
  // collector pushes its live registers by the stack maps).
  Value* stack = nullptr;
  size_t stack_size = 0;        // in Values

  std::vector<Frame> frames;    // frames.back() is the running one

  // Values a native keeps across a callback into Weft (sort's array, say).
  // GC roots, precise. Push and pop with PinScope.
  std::vector<Value> pins;

  // The pending error: set by raise(), consumed by the unwinder. GC roots.
  // Any value (error(v) raises v as it is); the VM's own are strings.
  Value error = Value::nil();
  std::string traceback;        // captured when raised, innermost first
  // The pending error is the heap limit's `out of memory` (honor_stop):
  // catching it withdraws the collections' verdicts (drop_error).
  bool raised_oom = false;
  // The entry number where this goroutine's last m[k] read found k: the
  // next m[k] = v tries it first (map_set_at). Only ever checked.
  uint32_t map_hint = 0;
  // "FILE:LINE" of the `go` statement that started this goroutine; empty
  // for main and for goroutines a host started. Written by the creator
  // (the prepare hook) before the G is runnable; ends its error's traceback.
  std::string started_at;

  // The innermost Weft frame as a traceback line without its indent and
  // newline, "at NAME (FILE:LINE)"; "" when there is none. The owner's
  // thread, or any thread while the G is parked (the deadlock report).
  std::string where() const;
  // "FILE:LINE" of the innermost Weft frame's saved pc; "" if none.
  std::string file_line() const;
  // The traceback of the frames now, innermost first, "  at NAME (FILE:LINE)"
  // lines (long ones elided in the middle), as raise() captures it.
  std::string stack_trace() const;

  // Raises a runtime error with a formatted message; the native that calls
  // it then returns Value::empty().
  void raise(const char* fmt, ...) __attribute__((format(printf, 2, 3)));
  // Raises v itself: pcall catches it unchanged (error(v)).
  void raise_value(Value v);
  // The pending error as an uncaught one is reported: str(error).
  std::string error_text() const;
  // Forgets the pending error and its traceback: it was caught or reported.
  void drop_error();

  void set_guard();             // the unpoisoned guard for the current stack
  void grow_stack(size_t need); // makes room for `need` more Values above the top frame
  // Makes the stack hold at least `top` Values plus the slack; false (with
  // `stack overflow` raised) beyond kMaxStack.
  bool ensure_stack(size_t top);
  Value* stack_limit() const { return stack + stack_size - kStackSlack; }
};

using sched::kStackPoison;

// The VM state of a goroutine.
inline Thread* thread_of(sched::G* g) { return static_cast<Thread*>(g->vm); }

struct PinScope {
  Thread* t;
  size_t mark;
  explicit PinScope(Thread* th) : t(th), mark(th->pins.size()) {}
  ~PinScope() { t->pins.resize(mark); }
  void pin(Value v) { t->pins.push_back(v); }
};

}  // namespace weft
