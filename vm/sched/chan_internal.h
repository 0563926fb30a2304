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

}  // namespace weft::sched
