// Run queues: each P's 256-slot ring with its runnext slot, and the global
// queue (Go's runqput/runqget/runqgrab/runqsteal and globrunqput/get).
//
// Model. The owner of a P pushes at runqtail and pops at runqhead; thieves
// grab half of the ring from runqhead with a CAS. Only the owner writes
// runqtail (store-release), so a thief that read head and tail sees every
// slot in between. A full ring moves half of itself plus the new G to the
// global queue in one batch (runqputslow), so the lock is taken once per
// 128 spawns at worst. runnext holds the G made runnable most recently by
// this P (a goroutine just readied by a channel op runs next, sharing the
// time slice: Go's design for ping-pong latency); thieves take it only
// on their last round, after letting the owner run it for a moment.
//
// Invariant: a G is in at most one queue and only while _Grunnable.
//
// Memory ordering (what a weakly ordered CPU such as arm64 needs; amd64's
// TSO would hide a mistake here, so each choice is argued where it is made):
// slots are written and read relaxed, and published by runqtail's
// store-release / load-acquire; a reader gives a slot back by the
// release half of its CAS on runqhead, which the owner's load-acquire of
// runqhead pairs with before it overwrites that slot.
#include <chrono>
#include <thread>

#include "vm/sched/sched.h"

namespace weft::sched {

namespace {

constexpr uint32_t kRunqSize = 256;

// Moves half of p's ring plus g to the global queue. False if the ring
// changed under us (a thief took some): the caller retries the fast path.
bool runqputslow(Sched* s, P* p, G* g, uint32_t h, uint32_t t) {
  G* batch[kRunqSize / 2 + 1];
  uint32_t n = (t - h) / 2;
  if (n != kRunqSize / 2) return false;
  for (uint32_t i = 0; i < n; i++)
    batch[i] = p->runq[(h + i) % kRunqSize].load(std::memory_order_relaxed);
  if (!p->runqhead.compare_exchange_strong(h, h + n, std::memory_order_acq_rel)) return false;
  batch[n] = g;
  std::lock_guard lk(s->lock);
  for (uint32_t i = 0; i <= n; i++) globrunqput(s, batch[i]);
  return true;
}

// Grabs a batch (half) of p's ring into batch[]; returns how many.
uint32_t runqgrab(P* p, G** batch, bool steal_runnext) {
  for (;;) {
    uint32_t h = p->runqhead.load(std::memory_order_acquire);
    uint32_t t = p->runqtail.load(std::memory_order_acquire);
    uint32_t n = t - h;
    n = n - n / 2;
    if (n == 0) {
      if (steal_runnext) {
        if (G* next = p->runnext.load(std::memory_order_acquire)) {
          // Let the owner run it first if it is about to (Go sleeps 3 µs).
          std::this_thread::sleep_for(std::chrono::microseconds(3));
          if (p->runnext.compare_exchange_strong(next, nullptr, std::memory_order_acq_rel)) {
            batch[0] = next;
            return 1;
          }
        }
      }
      return 0;
    }
    if (n > kRunqSize / 2) continue;  // read an inconsistent h and t
    // Relaxed: the acquire of runqtail above made slots [h, t) visible.
    for (uint32_t i = 0; i < n; i++)
      batch[i] = p->runq[(h + i) % kRunqSize].load(std::memory_order_relaxed);
    // Release: the slot loads above complete before the owner, seeing the
    // new head, may reuse the slots (without it arm64 may let a slot load
    // be satisfied after the CAS, reading a G the owner stored later).
    if (p->runqhead.compare_exchange_strong(h, h + n, std::memory_order_acq_rel)) return n;
  }
}

}  // namespace

void runqput(Sched* s, P* p, G* g, bool next) {
  if (next) {
    G* old = p->runnext.exchange(g, std::memory_order_acq_rel);
    if (old == nullptr) return;
    g = old;  // the old runnext goes to the tail
  }
  for (;;) {
    // Acquire: pairs with a thief's CAS release, so its loads of the slot
    // about to be overwritten are done. runqtail relaxed: only we write it.
    uint32_t h = p->runqhead.load(std::memory_order_acquire);
    uint32_t t = p->runqtail.load(std::memory_order_relaxed);
    if (t - h < kRunqSize) {
      p->runq[t % kRunqSize].store(g, std::memory_order_relaxed);
      // Release: publishes the slot, and the G's fields written before it.
      p->runqtail.store(t + 1, std::memory_order_release);
      return;
    }
    if (runqputslow(s, p, g, h, t)) return;
  }
}

G* runqget(P* p, bool* inherit) {
  if (inherit != nullptr) *inherit = false;
  if (G* next = p->runnext.load(std::memory_order_acquire)) {
    if (p->runnext.compare_exchange_strong(next, nullptr, std::memory_order_acq_rel)) {
      if (inherit != nullptr) *inherit = true;
      return next;
    }
  }
  for (;;) {
    uint32_t h = p->runqhead.load(std::memory_order_acquire);
    uint32_t t = p->runqtail.load(std::memory_order_relaxed);
    if (t == h) return nullptr;
    G* g = p->runq[h % kRunqSize].load(std::memory_order_relaxed);
    if (p->runqhead.compare_exchange_strong(h, h + 1, std::memory_order_acq_rel)) return g;
  }
}

G* runqsteal(P* p, P* victim, bool steal_runnext) {
  G* batch[kRunqSize / 2];
  uint32_t n = runqgrab(victim, batch, steal_runnext);
  if (n == 0) return nullptr;
  G* g = batch[--n];
  if (n == 0) return g;
  uint32_t t = p->runqtail.load(std::memory_order_relaxed);
  // p's ring has room: a thief only steals when its own queue is empty.
  for (uint32_t i = 0; i < n; i++)
    p->runq[(t + i) % kRunqSize].store(batch[i], std::memory_order_relaxed);
  p->runqtail.store(t + n, std::memory_order_release);
  return g;
}

bool runqempty(P* p) {
  for (;;) {
    uint32_t h = p->runqhead.load(std::memory_order_acquire);
    uint32_t t = p->runqtail.load(std::memory_order_acquire);
    G* next = p->runnext.load(std::memory_order_acquire);
    if (t == p->runqtail.load(std::memory_order_acquire)) return h == t && next == nullptr;
  }
}

void globrunqput(Sched* s, G* g) {
  g->schedlink = nullptr;
  if (s->runqtail != nullptr) s->runqtail->schedlink = g;
  else s->runqhead = g;
  s->runqtail = g;
  s->runqsize.fetch_add(1);  // seq_cst: ordered against a spinning M giving up (findrunnable)
}

void globrunqputhead(Sched* s, G* g) {
  g->schedlink = s->runqhead;
  s->runqhead = g;
  if (s->runqtail == nullptr) s->runqtail = g;
  s->runqsize.fetch_add(1);  // seq_cst: ordered against a spinning M giving up (findrunnable)
}

G* globrunqget(Sched* s, P* p, int32_t max) {
  int32_t size = s->runqsize.load();
  if (size == 0) return nullptr;
  int32_t n = size / (s->nprocs > 0 ? s->nprocs : 1) + 1;
  if (n > size) n = size;
  if (max > 0 && n > max) n = max;
  if (n > int32_t(kRunqSize / 2)) n = kRunqSize / 2;
  G* g = s->runqhead;
  s->runqhead = g->schedlink;
  if (s->runqhead == nullptr) s->runqtail = nullptr;
  g->schedlink = nullptr;
  s->runqsize.fetch_sub(1);
  for (int32_t i = 1; i < n; i++) {
    G* x = s->runqhead;
    s->runqhead = x->schedlink;
    if (s->runqhead == nullptr) s->runqtail = nullptr;
    x->schedlink = nullptr;
    s->runqsize.fetch_sub(1);
    runqput(s, p, x, false);
  }
  return g;
}

}  // namespace weft::sched
