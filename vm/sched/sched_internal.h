// Functions the scheduler's own files share, and nothing outside vm/sched
// calls: the M/P loop (proc.cpp), the goroutine lifecycle (goroutine.cpp),
// timers and sysmon.
#pragma once

#include "vm/sched/sched.h"

namespace weft::sched {

// proc.cpp
void dropg(M* m, G* g);             // m no longer runs g
void release_stack(M* m, G* g);     // g is off its native stack: pool it, unless parked stackfully
void switch_to_g0(G* g, bool dying);  // the running G hands its M to g0 (the action is recorded)
M* switch_to_g(M* m, G* g);          // g0 runs g (on a fresh or its parked stack) until it switches back
void acquirep(M* m, P* p);          // p (idle, taken off the list) becomes m's, _Prunning
P* releasep(M* m);                  // m's P, now _Pidle and on no list
void p_stopped(Sched* s);           // sched.lock held: one more P is _Pgcstop
// g0, after the G switched there: what its M::Action asked.
void park_m(Sched* s, M* m, G* g);
void gosched_m(Sched* s, M* m, G* g);
void preemptpark_m(M* m, G* g);
void exitsyscall0(Sched* s, M* m, G* g);

// stw.cpp: the running Scheds, which a stop-the-world stops (host thread;
// each waits out a stop in progress).
void sched_register(Sched* s);
void sched_unregister(Sched* s);

// goroutine.cpp
void g_entry(void*);                // a G's first activation on a fresh native stack
void goexit0(Sched* s, M* m, G* g);  // g0: retire g, which returned or failed
void free_gs(Sched* s);             // ~Sched: every G and its VM state
// newproc's common part: `reuse` (a dead G, or nullptr: one from the free
// list or a new one) made ready to run fn(args...), _Grunnable, on no queue.
G* newproc1(Sched* s, Value fn, const Value* args, int nargs, void* host, bool is_main, G* reuse = nullptr);

// sysmon.cpp, timers.cpp
void sysmon_main(Sched* s, bool trace);
void run_timers(Sched* s, int64_t now);
int64_t timer_timeout(Sched* s, int64_t now);

}  // namespace weft::sched
