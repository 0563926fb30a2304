// Channels and select (Go's chan.go and select.go, for Weft values).
//
// Model. A Channel is a heap object (normal kind: bdwgc scans its buffer)
// with a lock, a ring buffer of `cap` Values inline after the header, and
// two wait queues of Sudogs: receivers blocked on an empty channel (recvq)
// and senders blocked on a full one (sendq). Everything but the ring's
// storage is changed only under the channel's lock.
//  - Unbuffered channels hand a value directly from the sender to a waiting
//    receiver (or the reverse); buffered ones queue FIFO, and a receiver
//    that finds the buffer full and a sender waiting takes the head and
//    moves the sender's value to the tail, so order is kept.
//  - close wakes every waiter: receivers get nil (ok = false), senders raise
//    `send on closed channel` when they resume.
//  - A blocked G parks with sched::gopark and an unlockf that releases the
//    channel lock once the G is off its stack, so a waker can never see a
//    queued G that is not yet parked.
//
// Wake protocol. A waker dequeues a Sudog under the lock, writes the G's
// resume fields (g->resume = Complete, resume_value, resume_ok,
// resume_index, sudog->success), unlocks and calls goready. The woken G
// itself frees its Sudogs: inline if it parked stackfully, otherwise in
// finish_send/finish_recv/finish_select when its code runs again at the blocked
// instruction. A select's Sudogs on other channels are dequeued by the
// woken G (it takes all of its channels' locks again), never by the waker,
// which holds only one lock; select wakers race through g->selectDone.
//
// Sudogs: a send's elem points at the value's register; a receive's is
// nullptr (the value goes to g->resume_value), so elem tells the queue.
//
// GC. Sudogs are malloc'd (not scanned). What they refer to stays alive by
// other means: a sender's elem points at the value's VM register, live at
// the SEND/SELECT pc per the stack maps, and the VM stack is not moved while
// its G is parked; a value delivered to a receiver goes into
// g->resume_value, a root while the G is parked or runnable; the channel
// itself is in a live register of every G blocked on it.
//
// Lock order (the ranks of vm/core/lockrank.h): sched.lock < channel locks,
// several in address order (select) < timers < allocation. Code holding a
// channel lock is runtime code: it never allocates, raises or parks (it
// unlocks first), and it counts itself in m->locks so asynchronous preemption
// leaves it alone.
//
// Rejected: a lock-free channel (Go measured the lock to be cheaper in
// practice, and select needs multi-channel atomicity anyway), and keeping
// sent values in the Sudog (they would need rooting; the register already is).
#pragma once

#include <atomic>
#include <cstdint>

#include "vm/core/object.h"
#include "vm/sched/sched.h"

namespace weft::sched {

// A queue of Sudogs linked through next/prev.
struct WaitQ {
  Sudog* first = nullptr;
  Sudog* last = nullptr;
};

// The channel lock: a futex word, 0 free, 1 held, 2 held with waiters.
struct ChanLock {
  std::atomic<uint32_t> word{0};
};

struct Channel : Obj {
  ChanLock lock;        // guards every field below except cap
  uint32_t cap;         // buffer slots; immutable
  uint32_t count;       // buffered values; under lock (len() reads it racily)
  uint32_t recvx;       // next buffer slot to receive from; under lock
  uint32_t sendx;       // next buffer slot to send into; under lock
  uint32_t closed;      // 0 or 1; set once, under lock
  WaitQ recvq;          // blocked receivers; under lock (malloc'd Sudogs, not GC memory)
  WaitQ sendq;          // blocked senders; under lock
  Value buf[];          // cap slots; GC-scanned with the object
};

inline bool is_channel(Value v) { return is_type(v, ObjType::Channel); }
inline Channel* as_channel(Value v) { return static_cast<Channel*>(v.as_obj()); }

// ---- the data structure (no parking; used directly by the unit tests) ----

// Queue operations; the caller holds the channel lock.
void waitq_enqueue(WaitQ* q, Sudog* sg);
// The first Sudog whose select (if any) this caller wins, removed; skips
// and drops the Sudogs of selects another waker already won.
Sudog* waitq_dequeue(WaitQ* q);
// Removes sg if it is still queued on q (a select cleaning up).
void waitq_remove(WaitQ* q, Sudog* sg);

// The ring buffer; the caller holds the lock and checks count/cap.
inline void chanbuf_put(Channel* c, Value v) {
  c->buf[c->sendx] = v;
  if (++c->sendx == c->cap) c->sendx = 0;
  c->count++;
}
inline Value chanbuf_take(Channel* c) {
  Value v = c->buf[c->recvx];
  c->buf[c->recvx] = Value::nil();  // drop the reference
  if (++c->recvx == c->cap) c->recvx = 0;
  c->count--;
  return v;
}

void chan_lock(Channel* c);
void chan_unlock(Channel* c);

// Initialises a Channel in zeroed memory of chan_bytes(cap) bytes.
size_t chan_bytes(uint32_t cap);
void chan_init(Channel* c, uint32_t cap);

// ---- the operations ----
// On the running G (they may park). Errors are the caller's to raise: the
// VM wraps these with its type checks and messages (vm/interp/chanops.h).

// How an operation ended.
enum class ChanOp : uint8_t {
  Done,     // completed (results written)
  Unwound,  // parked stacklessly: the caller unwinds (kParked); when the G
            // runs again its code finishes the operation with finish_*
  Closed,   // a send on a closed channel: nothing was sent
};

// `c <- *v`; v points at the value's VM register (it must stay there while
// parked: a receiver reads it from there).
ChanOp chansend(Channel* c, Value* v);
// `<-c`: *out = the value, or nil with *ok = false once closed and drained.
// Never Closed.
ChanOp chanrecv(Channel* c, Value* out, bool* ok);
// close(c); false when c was closed already.
bool closechan(Channel* c);

// select over n cases (at most kMaxSelectCases). On Done: *chosen is the
// case taken (-1: the default), *recv the value received (nil otherwise)
// and *recv_ok false iff a receive found the channel closed and drained.
// Closed: the case *chosen is a send on a closed channel.
constexpr int kMaxSelectCases = 32;
struct SelectCase {
  Channel* c;   // nullptr: a nil channel, never ready (Go's way to switch a case off)
  Value* elem;  // send: the value's VM register (as chansend); receive: nullptr
};
ChanOp selectgo(const SelectCase* cases, int n, bool has_default, int* chosen, Value* recv, bool* recv_ok);

// The woken G's half, after a stackless park in the operation above (the
// G runs again with g->resume == Resume::Complete): frees its Sudogs and
// returns the operation's results. False from finish_send and
// finish_select: the send was woken by close (nothing was sent).
bool finish_send();
void finish_recv(Value* out, bool* ok);
bool finish_select(int* chosen, Value* recv, bool* recv_ok);

// Frees the Sudogs of a G that will never run again (blocked when its
// Runtime shuts down). Its channels are not touched: they die with the heap.
void chan_free_waiting(G* g);

}  // namespace weft::sched
