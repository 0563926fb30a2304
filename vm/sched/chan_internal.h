// Shared between chan.cpp and select.cpp only: handing values over under a
// channel's lock, and finishing an operation after the G was woken.
#pragma once

#include "vm/sched/chan.h"

namespace weft::sched {

// A waker's half (c locked): writes the woken G's resume fields for its
// Sudog sg: the value (receivers), ok, the case, Resume::Complete.
void wake_fill(Sudog* sg, Value v, bool ok);
// A receiver takes from sender sg (dequeued from c->sendq): directly when
// unbuffered, else the buffer's head while sg's value goes to its tail.
// Fills sg's wake. Returns the received value.
Value recv_from_sender(Channel* c, Sudog* sg);

// The woken G's half (no locks held), on the G itself: frees its Sudogs
// and reads the result of the operation it was blocked in.
bool finish_send(Thread* t);               // false: `send on closed channel` raised
void finish_recv(Value* out, bool* ok);
bool finish_select(Thread* t, int* chosen, Value* recv);  // false: raised

}  // namespace weft::sched
