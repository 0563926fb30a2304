// Channels: the lock, the wait queues, send, receive and close. The model,
// the wake protocol and the GC contract are in vm/sched/chan.h; select is
// in vm/sched/select.cpp.
#include "vm/sched/chan.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <new>

#include "vm/arch/cpu.h"
#include "vm/core/fatal.h"
#include "vm/sched/chan_internal.h"
#include "vm/sched/os_linux.h"

namespace weft::sched {

namespace {

constexpr int kLockSpins = 100;  // CAS attempts before sleeping: a channel op holds the lock for ~50 ns

__attribute__((noinline)) void lock_slow(std::atomic<uint32_t>* w) {
  for (int i = 0; i < kLockSpins; i++) {
    uint32_t free = 0;
    if (w->load(std::memory_order_relaxed) == 0 &&
        w->compare_exchange_weak(free, 1, std::memory_order_acquire))
      return;
    arch::cpu_relax();
  }
  // Drepper's mutex: 2 marks "held, maybe with sleepers".
  while (w->exchange(2, std::memory_order_acquire) != 0) futexsleep(w, 2);
}

bool unlock_chan(G*, void* c) {
  chan_unlock(static_cast<Channel*>(c));
  return true;
}

Sudog* new_sudog(G* g, Channel* c, Value* elem) {
  Sudog* sg = new Sudog{g};
  sg->c = c;
  sg->elem = elem;
  return sg;
}

// Parks the running G on c's queue q (the lock held; gopark's unlockf
// releases it).
Parked block_on(Channel* c, WaitQ* q, Value* elem, WaitReason reason) {
  G* g = getg();
  Sudog* sg = new_sudog(g, c, elem);
  g->waiting = sg;
  waitq_enqueue(q, sg);
  return gopark(unlock_chan, c, reason);
}

// The running G's single Sudog after a wake: its success flag; freed.
bool take_sudog(G* g) {
  Sudog* sg = g->waiting;
  if (sg == nullptr) fatal("chan: resumed without a sudog");
  bool ok = sg->success;
  g->waiting = nullptr;
  delete sg;
  return ok;
}

}  // namespace

// ---- the lock ----

void chan_lock(Channel* c) {
  lockrank_acquire(LockRank::Chan, c);
  if (M* m = getm()) m->locks.fetch_add(1, std::memory_order_relaxed);
  uint32_t free = 0;
  if (!c->lock.word.compare_exchange_strong(free, 1, std::memory_order_acquire)) lock_slow(&c->lock.word);
}

void chan_unlock(Channel* c) {
  if (c->lock.word.exchange(0, std::memory_order_release) == 2) futexwakeup(&c->lock.word);
  if (M* m = getm()) m->locks.fetch_sub(1, std::memory_order_relaxed);
  lockrank_release(LockRank::Chan, c);
}

// ---- the queues ----

void waitq_enqueue(WaitQ* q, Sudog* sg) {
  sg->next = nullptr;
  sg->prev = q->last;
  if (q->last) q->last->next = sg;
  else q->first = sg;
  q->last = sg;
}

Sudog* waitq_dequeue(WaitQ* q) {
  for (;;) {
    Sudog* sg = q->first;
    if (sg == nullptr) return nullptr;
    q->first = sg->next;
    if (q->first) q->first->prev = nullptr;
    else q->last = nullptr;
    sg->next = sg->prev = nullptr;
    if (sg->is_select) {
      // A select blocked on several channels is woken once: the waker
      // that wins this CAS; the others drop its Sudog and look further.
      uint32_t open = 0;
      if (!sg->g->selectDone.compare_exchange_strong(open, 1, std::memory_order_acq_rel)) continue;
    }
    return sg;
  }
}

void waitq_remove(WaitQ* q, Sudog* sg) {
  Sudog* x = sg->prev;
  Sudog* y = sg->next;
  if (x) x->next = y;
  else if (q->first == sg) q->first = y;
  else return;  // not queued: a waker already dequeued (and dropped) it
  if (y) y->prev = x;
  else q->last = x;
  sg->next = sg->prev = nullptr;
}

// ---- allocation ----

size_t chan_bytes(uint32_t cap) { return sizeof(Channel) + size_t(cap) * sizeof(Value); }

void chan_init(Channel* c, uint32_t cap) {
  c->init(ObjType::Channel);
  new (&c->lock) ChanLock();
  c->cap = cap;
  c->count = c->recvx = c->sendx = c->closed = 0;
  c->recvq = WaitQ{};
  c->sendq = WaitQ{};
  for (uint32_t i = 0; i < cap; i++) c->buf[i] = Value::nil();
}

// ---- handing values over (lock held) ----

void wake_fill(Sudog* sg, Value v, bool ok) {
  G* g = sg->g;
  sg->success = ok;
  g->resume_value = v;
  g->resume_ok = ok;
  g->resume_index = sg->case_index;
  g->resume = Resume::Complete;
}

Value recv_from_sender(Channel* c, Sudog* sg) {
  Value v;
  if (c->cap == 0) {
    v = *sg->elem;
  } else {  // the buffer is full: take its head, the sender's value goes to the tail
    v = chanbuf_take(c);
    chanbuf_put(c, *sg->elem);
  }
  wake_fill(sg, Value::nil(), true);
  return v;
}

// ---- send, receive, close ----

ChanOp chansend(Channel* c, Value* v) {
  chan_lock(c);
  if (c->closed) {
    chan_unlock(c);
    return ChanOp::Closed;
  }
  if (Sudog* sg = waitq_dequeue(&c->recvq)) {
    wake_fill(sg, *v, true);
    G* rg = sg->g;
    chan_unlock(c);
    goready(rg);
    return ChanOp::Done;
  }
  if (c->count < c->cap) {
    chanbuf_put(c, *v);
    chan_unlock(c);
    return ChanOp::Done;
  }
  if (block_on(c, &c->sendq, v, WaitReason::ChanSend) == Parked::Unwound) return ChanOp::Unwound;
  return finish_send() ? ChanOp::Done : ChanOp::Closed;
}

ChanOp chanrecv(Channel* c, Value* out, bool* ok) {
  chan_lock(c);
  if (Sudog* sg = waitq_dequeue(&c->sendq)) {
    *out = recv_from_sender(c, sg);
    *ok = true;
    G* sgp = sg->g;
    chan_unlock(c);
    goready(sgp);
    return ChanOp::Done;
  }
  if (c->count > 0) {
    *out = chanbuf_take(c);
    *ok = true;
    chan_unlock(c);
    return ChanOp::Done;
  }
  if (c->closed) {
    chan_unlock(c);
    *out = Value::nil();
    *ok = false;
    return ChanOp::Done;
  }
  if (block_on(c, &c->recvq, nullptr, WaitReason::ChanReceive) == Parked::Unwound) return ChanOp::Unwound;
  finish_recv(out, ok);
  return ChanOp::Done;
}

bool closechan(Channel* c) {
  chan_lock(c);
  if (c->closed) {
    chan_unlock(c);
    return false;
  }
  c->closed = 1;
  // Every waiter, receivers (nil, not ok) and senders (they raise), chained
  // through their (now free) next links and readied after the unlock.
  Sudog* list = nullptr;
  for (WaitQ* q : {&c->recvq, &c->sendq}) {
    while (Sudog* sg = waitq_dequeue(q)) {
      wake_fill(sg, Value::nil(), false);
      sg->next = list;
      list = sg;
    }
  }
  chan_unlock(c);
  while (list) {
    Sudog* next = list->next;  // read first: once readied, the G frees its Sudog
    goready(list->g);
    list = next;
  }
  return true;
}

void chan_free_waiting(G* g) {
  for (Sudog* sg = g->waiting; sg != nullptr;) {
    Sudog* next = sg->waitlink;
    delete sg;
    sg = next;
  }
  g->waiting = nullptr;
}

// ---- after a wake (the running G) ----

bool finish_send() {
  G* g = getg();
  bool ok = take_sudog(g);
  g->resume_value = Value::nil();
  return ok;
}

void finish_recv(Value* out, bool* ok) {
  G* g = getg();
  take_sudog(g);
  *out = g->resume_value;
  *ok = g->resume_ok;
  g->resume_value = Value::nil();
}

}  // namespace weft::sched
