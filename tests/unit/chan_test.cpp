// The channel data structure without the scheduler: the ring buffer, the
// wait queues (including select's skip-the-lost-race rule), the lock under
// contention, and SELECT's descriptor encoding.
#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>
#include <thread>
#include <vector>

#include "vm/interp/opcodes.h"
#include "vm/sched/chan.h"

namespace weft::sched {
namespace {

struct FreeDeleter {
  void operator()(Channel* c) const { std::free(c); }
};
using ChanPtr = std::unique_ptr<Channel, FreeDeleter>;

ChanPtr make(uint32_t cap) {
  Channel* c = static_cast<Channel*>(std::calloc(1, chan_bytes(cap)));
  chan_init(c, cap);
  return ChanPtr(c);
}

TEST(Chan, InitialState) {
  ChanPtr c = make(4);
  EXPECT_EQ(c->type, ObjType::Channel);
  EXPECT_EQ(c->cap, 4u);
  EXPECT_EQ(c->count, 0u);
  EXPECT_EQ(c->closed, 0u);
  EXPECT_EQ(c->recvq.first, nullptr);
  EXPECT_EQ(c->sendq.last, nullptr);
  EXPECT_TRUE(is_channel(Value::object(c.get())));
  EXPECT_EQ(alignof(Channel) % 8, 0u);
  // bdwgc scans aligned words only
  EXPECT_EQ((reinterpret_cast<uintptr_t>(c->buf) - reinterpret_cast<uintptr_t>(c.get())) % 8, 0u);
}

TEST(Chan, RingBufferIsFifoAcrossWraparound) {
  ChanPtr c = make(3);
  int64_t next_in = 0, next_out = 0;
  for (int round = 0; round < 20; round++) {
    while (c->count < c->cap) chanbuf_put(c.get(), Value::inline_int(next_in++));
    int take = 1 + round % 3;
    for (int i = 0; i < take; i++) {
      Value v = chanbuf_take(c.get());
      ASSERT_EQ(v.as_inline_int(), next_out++);
    }
    EXPECT_LT(c->recvx, c->cap);
    EXPECT_LT(c->sendx, c->cap);
  }
  while (c->count > 0) EXPECT_EQ(chanbuf_take(c.get()).as_inline_int(), next_out++);
  EXPECT_EQ(next_in, next_out);
  for (uint32_t i = 0; i < c->cap; i++) EXPECT_TRUE(c->buf[i].is_nil());  // no stale references
}

TEST(Chan, WaitQueueIsFifo) {
  WaitQ q;
  G g;
  Sudog a{&g}, b{&g}, c{&g};
  waitq_enqueue(&q, &a);
  waitq_enqueue(&q, &b);
  waitq_enqueue(&q, &c);
  EXPECT_EQ(waitq_dequeue(&q), &a);
  EXPECT_EQ(waitq_dequeue(&q), &b);
  EXPECT_EQ(waitq_dequeue(&q), &c);
  EXPECT_EQ(waitq_dequeue(&q), nullptr);
  EXPECT_EQ(q.last, nullptr);
}

TEST(Chan, WaitQueueRemove) {
  G g;
  Sudog s[4] = {Sudog{&g}, Sudog{&g}, Sudog{&g}, Sudog{&g}};
  WaitQ q;
  for (Sudog& x : s) waitq_enqueue(&q, &x);
  waitq_remove(&q, &s[1]);  // middle
  waitq_remove(&q, &s[0]);  // first
  waitq_remove(&q, &s[3]);  // last
  EXPECT_EQ(q.first, &s[2]);
  EXPECT_EQ(q.last, &s[2]);
  waitq_remove(&q, &s[1]);  // no longer queued: nothing happens
  EXPECT_EQ(q.first, &s[2]);
  waitq_remove(&q, &s[2]);
  EXPECT_EQ(q.first, nullptr);
  EXPECT_EQ(q.last, nullptr);
  waitq_remove(&q, &s[2]);  // removing from an empty queue
  EXPECT_EQ(q.first, nullptr);
}

TEST(Chan, DequeueSkipsSelectsAlreadyWon) {
  G lost, sel, plain;
  lost.selectDone.store(1);  // another channel's waker already won this select
  Sudog a{&lost}, b{&sel}, c{&plain}, d{&sel};
  a.is_select = b.is_select = d.is_select = true;
  WaitQ q;
  for (Sudog* x : {&a, &b, &c, &d}) waitq_enqueue(&q, x);
  EXPECT_EQ(waitq_dequeue(&q), &b);  // a dropped; sel's select is won here
  EXPECT_EQ(sel.selectDone.load(), 1u);
  EXPECT_EQ(waitq_dequeue(&q), &c);
  EXPECT_EQ(waitq_dequeue(&q), nullptr);  // d belongs to sel, already won: dropped
  EXPECT_EQ(q.first, nullptr);
}

TEST(Chan, LockExcludesUnderContention) {
  ChanPtr c = make(0);
  constexpr int kThreads = 4, kIters = 100000;
  int64_t counter = 0;
  std::vector<std::thread> ts;
  for (int i = 0; i < kThreads; i++) {
    ts.emplace_back([&] {
      for (int j = 0; j < kIters; j++) {
        chan_lock(c.get());
        counter++;
        chan_unlock(c.get());
      }
    });
  }
  for (auto& t : ts) t.join();
  EXPECT_EQ(counter, int64_t(kThreads) * kIters);
  EXPECT_EQ(c->lock.word.load(), 0u);
}

TEST(Chan, SelectDescriptor) {
  int64_t d = select_desc(3, true, 0b101);
  EXPECT_EQ(select_ncases(d), 3);
  EXPECT_TRUE(select_has_default(d));
  EXPECT_TRUE(select_is_send(d, 0));
  EXPECT_FALSE(select_is_send(d, 1));
  EXPECT_TRUE(select_is_send(d, 2));
  EXPECT_EQ(select_nregs(d), 5);
  int64_t big = select_desc(kMaxSelectCases, false, (uint64_t(1) << kMaxSelectCases) - 1);
  EXPECT_TRUE(Value::fits_inline(big));
  EXPECT_EQ(select_ncases(big), kMaxSelectCases);
  EXPECT_EQ(select_nregs(big), 2 * kMaxSelectCases);
  EXPECT_EQ(select_nregs(select_desc(0, false, 0)), 0);
}

}  // namespace
}  // namespace weft::sched
