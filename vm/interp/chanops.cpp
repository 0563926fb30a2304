// The VM's channel operations (vm/interp/chanops.h).
#include "vm/interp/chanops.h"

#include "vm/core/fatal.h"
#include "vm/interp/runtime.h"

namespace weft {

static_assert(kMaxSelectCases <= sched::kMaxSelectCases, "the compiler allows selects the scheduler refuses");

namespace {

sched::Channel* channel_arg(Thread* t, const char* op, Value ch) {
  if (is_type(ch, ObjType::Channel)) return static_cast<sched::Channel*>(ch.as_obj());
  t->raise("%s: expected channel, got %s", op, type_name(ch));
  return nullptr;
}

ChanStep step(Thread* t, sched::ChanOp r) {
  switch (r) {
    case sched::ChanOp::Done: return ChanStep::Done;
    case sched::ChanOp::Unwound: return ChanStep::Unwound;
    case sched::ChanOp::Closed: break;
  }
  t->raise("send on closed channel");
  return ChanStep::Error;
}

}  // namespace

// The write barrier of the channel operations (vm/gc/barrier.h): vm/sched
// writes the buffer and cannot see vm/gc, so the barrier follows each
// operation here, before the next safe-point. A receive writes the buffer
// too (a full buffer's waiting sender's value goes to its tail); a send or
// receive that parks writes nothing of its own later (the other side's
// operation does, and barriers).
ChanStep chan_send(Thread* t, Value ch, Value* v) {
  sched::Channel* c = channel_arg(t, "send", ch);
  if (c == nullptr) return ChanStep::Error;
  sched::ChanOp r = sched::chansend(c, v);
  gc::write_barrier(c);
  return step(t, r);
}

ChanStep chan_recv(Thread* t, Value ch, Value* out, bool* ok) {
  sched::Channel* c = channel_arg(t, "receive", ch);
  if (c == nullptr) return ChanStep::Error;
  sched::ChanOp r = sched::chanrecv(c, out, ok);
  gc::write_barrier(c);
  return step(t, r);
}

bool chan_close(Thread* t, Value ch) {
  sched::Channel* c = channel_arg(t, "close", ch);
  if (c == nullptr) return false;
  if (sched::closechan(c)) return true;
  t->raise("close of closed channel");
  return false;
}

ChanStep chan_select(Thread* t, Value* regs, int64_t desc, int* chosen, Value* recv, bool* ok) {
  int n = select_ncases(desc);
  if (n > kMaxSelectCases) fatal("chan: select descriptor out of range");
  sched::SelectCase cases[kMaxSelectCases] = {};
  int r = 0;
  for (int i = 0; i < n; i++) {
    sched::Channel* c = nullptr;  // a nil channel's case is never ready
    if (!regs[r].is_nil() && (c = channel_arg(t, "select", regs[r])) == nullptr) return ChanStep::Error;
    bool send = select_is_send(desc, i);
    cases[i] = sched::SelectCase{c, send ? &regs[r + 1] : nullptr};
    r += send ? 2 : 1;
  }
  sched::ChanOp op = sched::selectgo(cases, n, select_has_default(desc), chosen, recv, ok);
  for (int i = 0; i < n; i++) {
    if (cases[i].c != nullptr) gc::write_barrier(cases[i].c);  // see chan_send
  }
  return step(t, op);
}

const Instr* chan_complete(Thread* t, const Instr* pc, Value* R) {
  Instr i = *pc;
  switch (op_of(i)) {
    case Op::SEND:
      if (sched::finish_send()) return pc + 1;
      t->raise("send on closed channel");
      return nullptr;
    case Op::RECV:
    case Op::RECV2: {
      Value v;
      bool ok;
      sched::finish_recv(&v, &ok);
      R[arg_a(i)] = v;
      if (op_of(i) == Op::RECV2) R[arg_a(i) + 1] = Value::boolean(ok);
      return pc + 1;
    }
    case Op::ITERNEXT1: {  // over a channel: into the body, or past the loop once closed
      Value v;
      bool ok;
      sched::finish_recv(&v, &ok);
      if (!ok) return pc + 1;
      R[arg_a(i) + 2] = v;
      return pc + 1 + arg_sbx(i);
    }
    case Op::SELECT: {
      int chosen;
      Value v;
      bool ok;
      if (!sched::finish_select(&chosen, &v, &ok)) {
        t->raise("send on closed channel");
        return nullptr;
      }
      R[arg_a(i)] = Value::inline_int(chosen);
      R[arg_a(i) + 1] = v;
      R[arg_a(i) + 2] = Value::boolean(ok);
      return pc + 1;
    }
    default: fatal("chan: chan_complete on a non-channel instruction");
  }
}

}  // namespace weft
