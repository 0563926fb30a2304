// select (Go's selectgo).
//
// 1. Shuffle the cases into a poll order
//    (uniformly random, so no ready case is favoured) and sort them into a
//    lock order (by channel address; a channel named twice is locked once).
// 2. Lock all; poll in poll order; the first case that can proceed does, as
//    a plain send/receive would (a send to a closed channel raises).
// 3. None ready: take the default, or enqueue a Sudog per case (in lock
//    order, linked through waitlink from g->waiting) and park; the unlockf
//    releases every lock.
// 4. Woken: the waker that won g->selectDone filled in which case and the
//    value. Lock all again, dequeue the other Sudogs (a losing waker may
//    have dropped some already), unlock, free them.
// A select with no cases and no default blocks forever; so does one whose
// cases are all on nil channels: a nil case is left out of both orders
// (never polled, locked or queued on), as in Go.
//
// Rejected: re-running the select after a wake (simpler, but a receive
// woken by a close could then take another case, and a woken sender's value
// would have been delivered already).
#include <cstdint>

#include "vm/core/fatal.h"
#include "vm/sched/chan_internal.h"

namespace weft::sched {

namespace {

using Case = SelectCase;

// Uniform in [0, n), from the M's generator (sched::fastrand).
uint32_t fastrandn(uint32_t n) { return uint32_t((uint64_t(fastrand()) * n) >> 32); }

// The m cases whose channel is not nil, in a uniformly random order;
// returns m.
int shuffle(uint8_t* order, const Case* cases, int n) {
  int m = 0;
  for (int i = 0; i < n; i++) {
    if (cases[i].c == nullptr) continue;
    int j = int(fastrandn(uint32_t(m + 1)));
    order[m] = order[j];
    order[j] = uint8_t(i);
    m++;
  }
  return m;
}

// The same m cases (pollorder's) by channel address.
void sort_by_address(uint8_t* order, const uint8_t* pollorder, const Case* cases, int n) {
  for (int i = 0; i < n; i++) order[i] = pollorder[i];
  for (int i = 1; i < n; i++) {  // insertion sort: n <= kMaxSelectCases
    uint8_t x = order[i];
    int j = i;
    for (; j > 0 && cases[order[j - 1]].c > cases[x].c; j--) order[j] = order[j - 1];
    order[j] = x;
  }
}

void sellock(const Case* cases, const uint8_t* lockorder, int n) {
  Channel* last = nullptr;
  for (int i = 0; i < n; i++) {
    Channel* c = cases[lockorder[i]].c;
    if (c != last) chan_lock(c);
    last = c;
  }
}

void selunlock(const Case* cases, const uint8_t* lockorder, int n) {
  Channel* last = nullptr;
  for (int i = 0; i < n; i++) {
    Channel* c = cases[lockorder[i]].c;
    if (c != last) chan_unlock(c);
    last = c;
  }
}

// gopark's unlockf: releases the channels of g->waiting (in lock order).
// Once the last lock is released a waker may run the G, which frees the
// list; so the list is never touched after that unlock.
bool selparkcommit(G* g, void*) {
  Channel* last = nullptr;
  for (Sudog* sg = g->waiting; sg != nullptr; sg = sg->waitlink) {
    Channel* c = static_cast<Channel*>(sg->c);
    if (c != last && last != nullptr) chan_unlock(last);
    last = c;
  }
  if (last != nullptr) chan_unlock(last);
  return true;
}

bool park_forever(G*, void*) { return true; }

// Step 2 for one case: proceeds if it can. 1: done; 0: not ready; -1: a
// send on a closed channel. A receive from a closed channel clears *recv_ok.
int try_case(const Case& cs, Value* recv, bool* recv_ok, G** wake) {
  Channel* c = cs.c;
  if (cs.elem != nullptr) {  // send
    if (c->closed) return -1;
    if (Sudog* sg = waitq_dequeue(&c->recvq)) {
      wake_fill(sg, *cs.elem, true);
      *wake = sg->g;
      return 1;
    }
    if (c->count < c->cap) {
      chanbuf_put(c, *cs.elem);
      return 1;
    }
    return 0;
  }
  if (Sudog* sg = waitq_dequeue(&c->sendq)) {
    *recv = recv_from_sender(c, sg);
    *wake = sg->g;
    return 1;
  }
  if (c->count > 0) {
    *recv = chanbuf_take(c);
    return 1;
  }
  if (c->closed) {  // *recv stays nil
    *recv_ok = false;
    return 1;
  }
  return 0;
}

// Step 3: one Sudog per case in lock order, queued, then park.
Parked enqueue_and_park(const Case* cases, const uint8_t* lockorder, int n) {
  G* g = getg();
  g->selectDone.store(0, std::memory_order_relaxed);
  Sudog** link = &g->waiting;
  for (int i = 0; i < n; i++) {
    int k = lockorder[i];
    Sudog* sg = new Sudog{g};
    sg->c = cases[k].c;
    sg->elem = cases[k].elem;
    sg->case_index = k;
    sg->is_select = true;
    *link = sg;
    link = &sg->waitlink;
    waitq_enqueue(cases[k].elem ? &cases[k].c->sendq : &cases[k].c->recvq, sg);
  }
  *link = nullptr;
  return gopark(selparkcommit, nullptr, WaitReason::Select);
}

}  // namespace

ChanOp selectgo(const SelectCase* cases, int n, bool has_default, int* chosen, Value* recv, bool* recv_ok) {
  if (n < 0 || n > kMaxSelectCases) fatal("chan: select of too many cases");
  *chosen = -1;
  *recv = Value::nil();
  *recv_ok = true;
  uint8_t pollorder[kMaxSelectCases], lockorder[kMaxSelectCases];
  n = shuffle(pollorder, cases, n);  // from here on, the non-nil cases only
  if (n == 0) {
    if (has_default) return ChanOp::Done;
    if (gopark(park_forever, nullptr, WaitReason::SelectNoCases) == Parked::Unwound) return ChanOp::Unwound;
    fatal("chan: a select with no cases was woken");
  }
  sort_by_address(lockorder, pollorder, cases, n);

  sellock(cases, lockorder, n);
  for (int i = 0; i < n; i++) {
    int k = pollorder[i];
    G* wake = nullptr;
    int r = try_case(cases[k], recv, recv_ok, &wake);
    if (r == 0) continue;
    selunlock(cases, lockorder, n);
    *chosen = k;
    if (r < 0) return ChanOp::Closed;
    if (wake) goready(wake);
    return ChanOp::Done;
  }
  if (has_default) {
    selunlock(cases, lockorder, n);
    return ChanOp::Done;
  }
  if (enqueue_and_park(cases, lockorder, n) == Parked::Unwound) return ChanOp::Unwound;
  return finish_select(chosen, recv, recv_ok) ? ChanOp::Done : ChanOp::Closed;
}

bool finish_select(int* chosen, Value* recv, bool* recv_ok) {
  G* g = getg();
  int win = g->resume_index;
  // Step 4: the list is in lock order, so it locks in order.
  Channel* last = nullptr;
  for (Sudog* sg = g->waiting; sg != nullptr; sg = sg->waitlink) {
    Channel* c = static_cast<Channel*>(sg->c);
    if (c != last) chan_lock(c);
    last = c;
  }
  Sudog* winner = nullptr;
  for (Sudog* sg = g->waiting; sg != nullptr; sg = sg->waitlink) {
    Channel* c = static_cast<Channel*>(sg->c);
    if (sg->case_index == win) winner = sg;
    else waitq_remove(sg->elem ? &c->sendq : &c->recvq, sg);
  }
  last = nullptr;
  for (Sudog* sg = g->waiting; sg != nullptr; sg = sg->waitlink) {
    Channel* c = static_cast<Channel*>(sg->c);
    if (c != last) chan_unlock(c);
    last = c;
  }
  if (winner == nullptr) fatal("chan: select woken without a winning case");
  bool send = winner->elem != nullptr;
  bool ok = winner->success;
  *chosen = win;
  *recv = send ? Value::nil() : g->resume_value;
  *recv_ok = send || ok;
  g->resume_value = Value::nil();
  chan_free_waiting(g);
  return !send || ok;
}

}  // namespace weft::sched
