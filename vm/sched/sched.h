// The scheduler: goroutines (G) run on OS threads (M) that hold the right
// to run Weft code (P), as in Go's runtime, with Go's names.
//
// Model.
//  - A G is a goroutine: its VM state (weft::Thread: VM stack, frames,
//    guard), its status, and while it runs, the native stack it runs on.
//  - An M is an OS thread. It runs the scheduler on its g0 context (the
//    thread's own stack) and goroutines on native stacks from its pool
//    (vm/arch: mmap'd, guard page, >= 64 KiB). Ms start on demand and park
//    on a futex when idle.
//  - A P is the right to run Weft code; there are `procs` of them. Each has
//    a run queue (256 slots, lock-free for its owner, stolen from by
//    others), a runnext slot, and the allocation caches of vm/gc.
//
// Stackless parking (docs/design.md#parking). A G that blocks or is
// preempted at a blocked or synchronous safe-point while the interpreter is
// its only activation (no native frame between the G's entry and the
// running VM frame: GoroutineVM::depth == 1) unwinds the interpreter:
// execute() returns kParked, the G's entry switches to g0, g0 finishes the
// park and the native stack goes back to the pool. A parked G then costs its
// G and its VM stack only. It resumes by re-entering the interpreter at its
// saved pc, on any M, with a fresh native stack; g->resume says whether the
// instruction at that pc is re-executed (preemption) or completed with a
// result a waker delivered (channel ops, blocking natives).
// A G that blocks inside a native that called back into Weft (depth > 1)
// parks stackfully: it keeps its native stack, switches to g0, and later
// continues exactly where it was (possibly on another M).
//
// Invariants.
//  - Every G status change goes through casgstatus(), which rejects
//    transitions that are not in Go's state machine (fatal); every P
//    status change through casp() or trycasp(), likewise.
//  - A G is on at most one run queue, and only when _Grunnable.
//  - Only the M holding a P runs Weft code or allocates from that P's caches.
//  - Runtime code that may switch M (anything that can park) re-derives the
//    current M after the switch through getm(), a non-inlinable accessor
//    (docs/design.md#tls-across-calls: GCC caches TLS addresses across calls).
//  - Every blocking system call retries on EINTR.
//
// Lock order: every runtime lock has a rank, and the ranks are one list,
// vm/core/lockrank.h (sched.lock < channel locks, in address order for
// select < timers < allglock < ...); builds with WEFT_LOCKRANK check it.
//
// Lifecycle. A Runtime owns its Sched (the scheduler's global state, Go's
// `sched` plus allp/allm/allgs). The first host request that needs
// goroutines starts it (vm/api/host.cpp): `procs` Ps and the sysmon thread; Ms
// start on demand. Host threads spawn Gs and wait for them (they never run
// goroutines). A run ends when a program's main returns, a goroutine the
// host did not start fails, or interrupt() is called; then every M stops
// where it is idle or at its next safe-point. Any number of Scheds (one per
// VM) run at once in a process: each has its own Ps, Ms, Gs, run queues,
// timers and deadlock detection, and shares with the others only the
// world: a stop-the-world (bdwgc's heap is process-wide) stops them all.
// An M belongs to one Sched; a host thread has one M per Sched it calls
// into, and getm()'s thread-local says which is current.
//
// Rejected: one OS thread per goroutine (100,000 parked goroutines must be
// cheap), and stackful-only parking (every parked G would pin >= 4 KiB of
// native stack).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "vm/arch/context.h"
#include "vm/core/lockrank.h"
#include "vm/core/value.h"

namespace weft::arch {
struct NativeStack;
struct Spill;
class StackPool;
}  // namespace weft::arch

namespace weft::gc {
struct Cache;      // per-P allocation caches (vm/gc)
}

namespace weft::sched {

// G status, Go's values (runtime2.go).
enum GStatus : uint32_t {
  _Gidle = 0,
  _Grunnable = 1,   // on a run queue, not running
  _Grunning = 2,    // running Weft code on an M with a P
  _Gsyscall = 3,    // in a blocking native; holds an M but no P's work
  _Gwaiting = 4,    // blocked (channel, sleep, gc(), suspended)
  _Gdead = 6,       // finished (or not yet used)
  _Gpreempted = 9,  // stopped itself for a suspendG (preemptStop)
  _Gscan = 0x1000,  // combined with the above: someone holds the G for scanning
};

// What a _Gwaiting G waits for (Go's waitReason), as the deadlock report
// names it (`goroutine 3 [chan receive]: ...`). One table: add a reason
// here and every report knows its text.
#define WEFT_WAIT_REASONS(X)                 \
  X(None, "waiting")                         \
  X(ChanReceive, "chan receive")             \
  X(ChanSend, "chan send")                   \
  X(Select, "select")                        \
  X(SelectNoCases, "select")                 \
  X(Sleep, "sleep")                          \
  X(GC, "GC")                                \
  X(Import, "import")        /* another goroutine loads the module (vm/lib/imports.cpp) */ \
  X(Exited, "exited")        /* called os.exit in an embedded VM: never readied (vm/lib/os.cpp) */
enum class WaitReason : uint8_t {
#define WEFT_WAIT_ENUM(name, text) name,
  WEFT_WAIT_REASONS(WEFT_WAIT_ENUM)
#undef WEFT_WAIT_ENUM
};
const char* wait_reason_text(WaitReason r);

enum PStatus : uint32_t { _Pidle = 0, _Prunning = 1, _Psyscall = 2, _Pgcstop = 3, _Pdead = 4 };

// How a G resumes after a stackless park.
enum class Resume : uint8_t {
  Reexecute,  // run the instruction at the saved pc again (preempted before it acted)
  Complete,   // it acted: write g->resume_value (etc.) into its result and go past it
};

struct G;
struct M;
struct P;
struct Sudog;
struct Sched;

// ---- the VM as the scheduler sees it ----
// The scheduler runs goroutines without knowing the interpreter: it owns
// this interface, and the Runtime implements it (Runtime::sched_hooks,
// vm/interp/goroutine.cpp).

// Stored in a goroutine's guard to stop it at its next safe-point.
inline Value* const kStackPoison = nullptr;

// What a goroutine's code returns when it parked stacklessly (gopark
// returned Parked::Unwound): it has unwound to its entry, its pc saved at
// the instruction, which is finished per g->resume when it is run again.
// Never a script-visible value.
inline constexpr Value kParked = Value::from_bits(0x0e);

// The part of a goroutine's VM state that the scheduler and the collector
// touch; the interpreter's weft::Thread derives from it.
struct GoroutineVM {
  // Every VM call compares its new frame's top, and every allocating
  // instruction its base, against this: the one check on those paths.
  // Normally guard_limit; anyone stores kStackPoison to make both checks
  // fail, and the slow path looks at why (preemption, a collection).
  // Atomic, as any thread may poison it. The checks load it relaxed (a
  // plain mov on x86-64 and arm64, as the volatile it was): a poison seen
  // late only delays the stop to the next check, and what the slow path
  // reads to learn why (G::preempt, the heap's request) is atomic itself.
  // Another thread poisons with a seq_cst store after its seq_cst store of
  // G::preempt (set_guard's Dekker pattern needs both); the owner's own
  // stores are relaxed.
  std::atomic<Value*> stackguard{nullptr};
  // The guard when no stop is requested; the VM keeps it as its stack moves.
  Value* guard_limit = nullptr;
  // Interpreter activations on the G's native stack: 1 while the
  // interpreter is its only one (a park may then unwind it), more while a
  // native calls back into Weft (a park keeps the native stack).
  int depth = 0;
};

// Sets vm's guard to its limit, unless g (may be null) has a preemption
// requested; then the poison stays.
void set_guard(GoroutineVM* vm, const G* g);

// Counted by the scheduler and the interpreter (any thread); owned by the
// VM instance, so the counts outlive one scheduler's run.
struct Counters {
  std::atomic<uint64_t> preemptions_sync{0};   // stopped at a synchronous safe-point
  std::atomic<uint64_t> preemptions_async{0};  // stopped by a signal (vm/sched/preempt.h)
};

struct Hooks {
  void* vm = nullptr;  // the VM instance, passed back to every hook
  Counters* counters = nullptr;
  // Makes g ready to run fn(args...): creates its VM state when g->vm is
  // null (a new G), or reuses the one reset() left. Sets g->vm->stackguard.
  void (*prepare)(void* vm, G* g, Value fn, const Value* args, int nargs) = nullptr;
  // Runs g's code from where it stands, on g's native stack: the result,
  // Value::empty() when it failed, or kParked.
  Value (*run)(G* g) = nullptr;
  // g is done with result r (Value::empty(): it failed): on g, before its
  // last switch to g0. The VM hands the result to whoever waits for it, or
  // ends the run (sched::report_done) when the failure is nobody's.
  void (*exited)(void* vm, G* g, Value r) = nullptr;
  // A dead G's VM state is kept for reuse by the next newproc: drop what
  // it refers to. And its deletion, when the Sched goes.
  void (*reset)(G* g) = nullptr;
  void (*destroy)(G* g) = nullptr;
  // Writes "runtime error: stack overflow" and g's traceback to fd 2, for
  // a G that overflowed its native stack. Runs in a signal handler: only
  // async-signal-safe calls (write(2), no allocation, no locks).
  void (*overflow)(G* g) = nullptr;
};

// How a Sched runs (the VM's options that concern it).
struct Options {
  int procs = 1;                       // Ps
  bool trace = false;                  // --trace=sched: a line a second to stderr
  bool async_preempt = true;           // off: Go's GODEBUG=asyncpreemptoff=1
  bool preempt_stress = false;         // signal every running M about every 50 us
  int64_t time_slice_ns = 10'000'000;  // sysmon preempts a G that ran this long
};

struct G {
  std::atomic<uint32_t> atomicstatus{_Gidle};  // only through casgstatus & co
  uint64_t goid = 0;
  GoroutineVM* vm = nullptr;     // the VM state (a weft::Thread); owned by the G
  // The M running it; valid iff _Grunning or _Gsyscall. Written by that
  // M (release), read by suspendG on other threads (acquire: it then reads
  // the M's preemptGen; a stale M only aims a signal at the wrong M, which
  // suspendG's next round corrects).
  std::atomic<M*> m{nullptr};
  G* schedlink = nullptr;        // run-queue / free-list link; owned by whoever holds the queue

  // Preemption (Go's preempt.go): written by any thread, read at safe-points.
  std::atomic<bool> preempt{false};      // a preemption is requested
  std::atomic<bool> preemptStop{false};  // ...and it should park _Gpreempted, not just yield
  // Stopped at an async safe-point (vm/sched/preempt.h): set by the G in
  // weft_async_preempt2 while it is parked there, cleared when it resumes.
  // The collector then scans its top VM frame (vm/interp/scan.cpp) and its
  // native stack (vm/gc/scan.cpp) conservatively.
  std::atomic<bool> asyncSafePoint{false};
  // Valid iff asyncSafePoint: the trampoline's spill area and XSAVE image
  // on this G's native stack (vm/arch/async.h). Written by the G.
  arch::Spill* async_spill = nullptr;
  void* async_xsave = nullptr;

  // Native stack: held while running, and while parked stackfully.
  arch::NativeStack* stack = nullptr;
  arch::Context* ctx = nullptr;   // saved context iff parked stackfully (in *stack)

  // Resumption after a park: written by the waker before it readies the G.
  Resume resume = Resume::Reexecute;
  Value resume_value;             // GC root while parked: received value, native result
  int32_t resume_index = -1;      // select: the case taken
  bool resume_ok = false;         // receive: false when the channel was closed and drained

  // Blocking bookkeeping, owned by the G while it runs and by the waker after.
  Sudog* waiting = nullptr;       // sudogs of the channel op or select it is blocked in
  // select: 0 while blocked in a select; the first waker CASes it to 1 and
  // wins, later wakers skip this G's other sudogs (Go's g.selectDone).
  std::atomic<uint32_t> selectDone{0};
  int64_t when_ns = 0;            // sleep deadline
  WaitReason waitreason = WaitReason::None;  // valid while _Gwaiting; written by the G before it parks
  // Written by the G's own M: the park is stackful (the G keeps its native
  // stack; ctx points into it) versus stackless.
  bool parked_stackful = false;
  bool is_main = false;           // the main goroutine: its return ends the program
  Sched* owner = nullptr;         // the scheduler it belongs to; immutable
  // The embedding API's request this G runs (a HostTask, vm/api/host.h), or
  // nullptr. Set before the G is runnable; its M hands the result or error
  // to Runtime::host_goexit instead of ending the program. Not a GC root.
  void* host = nullptr;
  // Running a host call on the calling thread's own M (vm/sched/hostcall.cpp):
  // when it returns, g_entry leaves the result in resume_value for that
  // thread instead of calling Hooks::exited. Set and cleared by the host M
  // while the G is off every run queue (before it runs, or when the host
  // hands a parked call over to the scheduler). Atomic: interrupt() reads
  // it from another thread to find the call's traceback (relaxed: it then
  // suspends the G, which orders what it reads of the G).
  std::atomic<bool> hostcall{false};
};

// A G waiting on a channel (Go's sudog): on that channel's recvq or sendq.
struct Sudog {
  G* g;
  Sudog* next = nullptr;          // on the channel's queue
  Sudog* prev = nullptr;
  Sudog* waitlink = nullptr;      // the G's other sudogs (select)
  void* c = nullptr;              // the channel (a weft heap object)
  Value* elem = nullptr;          // send: the value to send; receive: where to put it
  int32_t case_index = -1;        // select: which case this is
  bool success = false;           // woken by a communication (not a close)
  bool is_select = false;
};

struct P {
  int32_t id;
  std::atomic<uint32_t> status{_Pidle};  // only through casp/trycasp
  // The M holding it; nullptr iff _Pidle/_Pgcstop. Stored with release by
  // whoever changes it (the M, or the stopper under sched.lock); loaded with
  // acquire by preemptone and --preempt-stress on other threads, which then
  // read that M's curg. A stale M is harmless there: its G, if any, only
  // gets one needless preemption request.
  std::atomic<M*> m{nullptr};
  P* link = nullptr;                // idle list
  // Written by the owning M, read by sysmon (relaxed atomics: a stale read
  // only delays a retake by one sysmon tick).
  std::atomic<uint64_t> schedtick{0};      // incremented on every execute()
  std::atomic<uint64_t> syscalltick{0};    // incremented on every entersyscall()
  std::atomic<int64_t> schedwhen_ns{0};    // when the current G started running
  std::atomic<int64_t> syscallwhen_ns{0};  // when the P entered _Psyscall
  // sysmon's last observation of the ticks above (sysmon thread only).
  uint64_t sysmon_schedtick = 0, sysmon_syscalltick = 0;

  // Run queue: runq[head % 256 .. tail % 256), owner pushes at tail, anyone
  // steals from head with CAS (Go's runqput / runqsteal).
  std::atomic<uint32_t> runqhead{0};
  std::atomic<uint32_t> runqtail{0};
  // The slots: written by the owner only, between the tail's load and its
  // store-release; read by thieves between their acquire of head and tail
  // and their CAS of the head. A thief may read a slot while the owner
  // rewrites it after a wrap (the CAS then fails and discards what it read),
  // so slots are atomics, relaxed: the head and tail give the ordering.
  std::atomic<G*> runq[256] = {};
  std::atomic<G*> runnext{nullptr};  // the next G to run, ahead of runq

  gc::Cache* mcache = nullptr;      // allocation caches; flushed at each stop-the-world
};

struct M {
  int64_t id;
  // The running user G, or nullptr on g0. Written by the M (release: a
  // G it got from a run queue), read by the M and its signal handlers
  // relaxed, by preemptone and --preempt-stress with acquire (they read
  // the G's vm). A G that has just left only gets a preemption request,
  // which execute() clears when it runs again.
  std::atomic<G*> curg{nullptr};
  P* p = nullptr;                   // attached P
  P* nextp = nullptr;               // P to acquire on wake
  arch::Context* g0 = nullptr;      // the scheduler's context (thread stack): &g0ctx
  arch::Context g0ctx;              // valid while a G runs on this M
  void* g0_lo = nullptr;            // the thread's stack, for the sanitizers' fiber hooks
  size_t g0_size = 0;
  arch::StackPool* stacks = nullptr;  // this M's native-stack cache (owned)
  P* oldp = nullptr;                // the P it held before entersyscall
  std::thread thread;               // the OS thread (joined by the Sched's shutdown)
  bool exited = false;              // the thread left mstart (under sched.lock)
  uint64_t fastrand_state = 0;      // fastrand(): owned by this M
  // What the G asked g0 to do when it switched there (owned by this M).
  enum class Action : uint8_t { None, Park, Gosched, PreemptPark, Exit, ExitSyscall };
  Action action = Action::None;
  bool (*park_unlockf)(G*, void*) = nullptr;  // valid iff action == Park
  void* park_arg = nullptr;
  M* schedlink = nullptr;           // idle list
  std::atomic<int32_t> locks{0};    // runtime locks held: not async-preemptible
  std::atomic<int32_t> mallocing{0};  // inside the allocator's slow path: not async-preemptible
  const char* preemptoff = nullptr; // non-null: not preemptible, with the reason
  bool spinning = false;            // looking for work
  std::atomic<uint32_t> park{0};    // futex word for notesleep/notewakeup
  // Between entersyscall and exitsyscall: kInSyscall. The shutdown that
  // gives up on the M (sched_stop) swaps that for kAbandoned, and then
  // exitsyscall never returns: its Runtime may be gone.
  enum : uint32_t { kNotInSyscall, kInSyscall, kAbandoned };
  std::atomic<uint32_t> syscall{kNotInSyscall};
  // Async preemption (vm/sched/preempt.h).
  // The OS thread id (tgkill); set by the M at start, read by preemptM on
  // any thread (relaxed: 0 means not started, and preemptM then sends no
  // signal; the requester retries).
  std::atomic<int32_t> tid{0};
  void* sigstack = nullptr;         // its signal stack (owned; the M's thread only)
  void* old_sigstack = nullptr;     // the thread's signal stack before ours (ASan's), restored at exit
  size_t old_sigstack_size = 0;
  int old_sigstack_flags = 0;
  std::atomic<bool> signalPending{false};  // a SIGURG is in flight (preemptM coalesces on it)
  std::atomic<uint32_t> preemptGen{0};     // bumped by every SIGURG the handler sees
  // A host thread's M (vm/sched/hostcall.cpp; docs/design.md#host-calls):
  // made by the thread's first call into this Sched and kept by the Sched
  // (hostms), current on that thread (weft_tls_m) only during a call. Not in
  // allm: it is no scheduler thread and never runs schedule().
  bool host = false;
  std::thread::id host_thread;      // a host M's thread (immutable): its next call into this Sched finds it
  bool g0_borrowed = false;         // a host M whose g0 bounds are a goroutine's stack (host_leave_m)
  G* hostg = nullptr;               // a host M's cached G, _Gdead between calls (owned by allgs)
  // A host M between host_acquire and host_release (its thread's only):
  // a call nested in that one on the same thread (a native calling
  // another VM that calls back into this one) takes another M of the
  // thread's, since this one is in a system call under it.
  bool host_busy = false;
};

// The scheduler's global state (Go's schedt plus allp, allm, allgs).
// Owned by the Runtime; created by Runtime::run.
struct Sched {
  Sched() = default;
  ~Sched();  // frees the Gs, Ps and (exited) Ms; only after sched_stop returned true
  Sched(const Sched&) = delete;
  Sched& operator=(const Sched&) = delete;

  Hooks hooks;                       // fixed after start
  Options opts;                      // fixed after start
  uint64_t id = 0;                   // unique in the process (sched_start): keys host threads' M caches
  Mutex lock{LockRank::Sched};       // sched.lock: guards the fields marked (L)

  std::vector<P*> allp;              // fixed after start; owned
  int32_t nprocs = 0;
  P* pidle = nullptr;                // (L) idle Ps
  std::atomic<int32_t> npidle{0};    // written under L

  std::vector<M*> allm;              // (L) owned
  M* midle = nullptr;                // (L) idle Ms
  int32_t nmidle = 0;                // (L)
  int32_t mcount = 0;                // (L) Ms started and not exited
  int64_t mnext = 0;                 // (L) next M id
  std::atomic<int32_t> nmspinning{0};
  std::vector<M*> hostms;            // (L) host threads' Ms (hostcall.cpp); owned
  // Host Ms inside a call: holding a P, or running their G in a blocking
  // native. Written under L on entry; checkdead counts them as running
  // Ms, sched_stop waits for them to leave.
  std::atomic<int32_t> nhostm{0};

  G* runqhead = nullptr;             // (L) the global run queue
  G* runqtail = nullptr;
  std::atomic<int32_t> runqsize{0};  // written under L

  Mutex allglock{LockRank::AllG};    // guards allgs and gfree
  std::vector<G*> allgs;             // every G ever made, dead ones included; owned
  G* gfree = nullptr;                // dead Gs for reuse
  std::atomic<uint64_t> goidgen{0};
  std::atomic<int64_t> ngoroutines{0};  // live (not dead) Gs: goroutines()

  // Stop-the-world handshake (vm/sched/stw.cpp drives it; schedule() obeys).
  std::atomic<bool> gcwaiting{false};
  int32_t stopwait = 0;              // (L) Ps still to stop
  std::atomic<uint32_t> stopnote{0}; // futex word: the last P to stop wakes the stopper
  int64_t stopped_ns = 0;            // (L) when the last P stopped: the end of time-to-stop
  // True from stop_the_world until start_the_world (the collector reads
  // Gs meanwhile; see stw_quiesce). Informational: --trace=sched.
  std::atomic<bool> gc_active{false};
  // Work in flight outside the Ms that will ready a G (a requested
  // collection): checkdead() sees no deadlock while it is > 0.
  std::atomic<int32_t> external_work{0};

  // Timers (vm/sched/timers.cpp).
  Mutex timers_lock{LockRank::Timers};
  std::vector<G*> timers;            // a min-heap on G::when_ns (sleepers)
  std::atomic<int64_t> next_timer{INT64_MAX};  // earliest deadline, INT64_MAX if none

  // Lifecycle.
  std::atomic<bool> stopping{false};  // shutting down: Ms exit at their next schedule
  // sched_stop gave up on an M that may never stop (the Sched is leaked):
  // a stop-the-world stops waiting for its Ps (vm/sched/stw.cpp).
  std::atomic<bool> given_up{false};
  std::thread sysmon;
  std::atomic<uint32_t> sysmon_note{0};  // wakes sysmon: shutdown, or a timer due before its next poll
  std::atomic<uint32_t> ready_rr{0};  // goready from outside: round-robin over the Ps
  std::atomic<bool> runq_urgent{false};  // the global queue's head was readied from outside
  Mutex done_mu{LockRank::Done};      // guards the fields below
  std::condition_variable_any done_cv;
  bool done = false;
  // Ok: the main goroutine returned; Exited: a script called os.exit in an
  // embedded VM (vm/lib/os.cpp), which ends the run, not the process.
  enum class Exit { Ok, Error, Exited } exit_kind = Exit::Ok;
  std::string message, traceback;     // valid iff exit_kind != Ok
  int exit_code = 0;                  // valid iff exit_kind == Exited
  // Host threads (the embedding API, vm/api/host.cpp) blocked until a goroutine
  // finishes. Every goroutine asleep is a deadlock only while one waits:
  // checkdead then bumps asleep_gen and wakes them (done_cv).
  int32_t host_waiters = 0;           // (L)
  uint64_t asleep_gen = 0;            // written under L and done_mu; read under either
};

// The Sched of the goroutine running on this thread, or nullptr off a
// goroutine. Any thread.
Sched* current_sched();
// How many Scheds run (started and not yet stopped), in every VM of the
// process. Any thread; a snapshot.
int32_t running_scheds();
// The running Sched whose Hooks::vm is vm, or nullptr. Any thread (a
// snapshot: the caller keeps it from stopping), or the stopper.
Sched* running_sched_of(const void* vm);

// The host's side (Runtime, vm/api/host.cpp; host threads only). sched_start
// adds `s` to the running Scheds (any number run at once, one per VM: a
// stop-the-world stops them all, vm/sched/stw.cpp) and creates `procs` Ps
// and the sysmon thread; Ms start when goroutines are spawned
// (host_newproc). It returns false only when s was started before. The Sched then
// runs until sched_stop, through any number of host requests; report_done
// ends its run early (main returned, a goroutine failed, interrupt): every
// waiter wakes (done_cv) and every M stops at its next schedule.
// sched_stop stops every M at its next schedule (waiting up to kStopGrace
// for Gs to reach a safe-point; an M that does not stop is detached and its
// Sched leaked), waits for a collection in progress to end, and removes s
// from the running Scheds. The Gs stay allocated until ~Sched (the collector may
// still hold some).
bool sched_start(Sched* s, const Hooks& hooks, const Options& opts);
// Returns false when some M could not be stopped (then s must be leaked).
bool sched_stop(Sched* s);
// Ends the Sched's run (first caller wins): records the outcome, wakes the
// host waiters and stops every goroutine at its next safe-point. Any thread.
void report_done(Sched* s, Sched::Exit kind, std::string message, std::string traceback, int exit_code = 0);
// Poisons every running G's guard (preempt): they yield at their next
// synchronous safe-point. Any thread.
void preemptall(Sched* s);

// ---- host threads running calls (vm/sched/hostcall.cpp; docs/design.md#host-calls) ----
// Go's needm/cgocallbackg in our terms: a host thread borrows an M of its
// own and an idle P and runs a host call's G itself; when the G returns the
// thread gives the P back. When the G parks instead, the thread hands it to
// the scheduler (an ordinary goroutine from then on) and waits like any
// host. Every function here runs on the calling host thread, in this order:
//   M* m = host_acquire(s);            // nullptr: no P free (spawn instead)
//   G* g = host_g(s, m, fn, args, n);  // _Grunning on m: it may allocate now
//   if (host_run(s, m, g, &r)) { ...take r...; host_finish(s, m, g); }
//   else { g->host = task; host_detach(s, m, g); }
//   host_release(s, m);
// The calling thread's M with an idle P, current on this thread
// (weft_tls_m), or nullptr (nothing changed) when no P is idle or s is
// stopping the world or shutting down. The thread's first call into s
// makes its M (allocates; sets up its signal stack once per thread).
M* host_acquire(Sched* s);
// A G to run fn(args) (a closure), _Grunning on m, not yet started: the
// host M's cached G when it has one. Its arguments may be replaced in its
// VM stack before host_run (the caller holds the P: no collection runs).
G* host_g(Sched* s, M* m, Value fn, const Value* args, int nargs);
// Runs g on m's pooled native stack until it returns (true: *result is its
// result, Value::empty() when it failed with the error on g->vm) or parks
// (false: the park is pending on m until host_detach).
bool host_run(Sched* s, M* m, G* g, Value* result);
// After host_run returned true and the caller took the result: g is dead
// and cached on m for the next call.
void host_finish(Sched* s, M* m, G* g);
// After host_run returned false: performs the park; g is an ordinary
// goroutine from here on (the caller set g->host to wait for it).
void host_detach(Sched* s, M* m, G* g);
// Gives m's P back (to an M for the work the call left on it, to a stopper,
// or to the idle list) and makes m current on no thread.
void host_release(Sched* s, M* m);

// A native calling into another VM (docs/embedding.md#many-vms). Its
// goroutine has entered a syscall in its own VM (entersyscall: its P is
// free for others meanwhile); host_leave_m then makes the thread a host
// thread for the other VM: it returns the goroutine's M and makes none
// current, and the host Ms this thread acquires until host_return_m use the
// goroutine's native stack as their g0 stack (the thread is on it).
// host_return_m(m) makes m current again, before exitsyscall.
M* host_leave_m();
void host_return_m(M* m);

// ---- the API the rest of the VM uses ----

// The current M of this OS thread (nullptr on threads that are not Ms).
// Not inlinable on purpose: re-derive it after anything that may switch M.
M* getm() __attribute__((noinline));
inline G* getg() {
  M* m = getm();
  return m ? m->curg.load(std::memory_order_relaxed) : nullptr;  // the M's own field
}

// Status transitions (Go's casgstatus): fatal on an illegal transition or
// when the G is not in `from`; spins while another holds _Gscan.
void casgstatus(G* g, uint32_t from, uint32_t to);
bool castogscanstatus(G* g, uint32_t from, uint32_t to);  // to = from | _Gscan
void casfrom_Gscanstatus(G* g, uint32_t from, uint32_t to);  // from = to | _Gscan; fatal otherwise
bool casGFromPreempted(G* g, uint32_t from, uint32_t to);  // _Gpreempted -> _Gwaiting
uint32_t readgstatus(G* g);
// Whether casgstatus accepts from -> to (Go's state machine, no _Gscan bits).
bool legal_transition(uint32_t from, uint32_t to);

// P status transitions, every one checked against the P state machine
// (legal_ptransition). casp: the caller owns p's status (it holds p, or
// sched.lock for an idle or stopped P): fatal unless p is in `from`.
// trycasp: for parties that race for a P in a syscall (its M leaving the
// syscall, sysmon retaking it, a stop-the-world): false, changing
// nothing, when p is not in `from`.
void casp(P* p, uint32_t from, uint32_t to);
bool trycasp(P* p, uint32_t from, uint32_t to);
bool legal_ptransition(uint32_t from, uint32_t to);

// Parking. Called by the running G at a safe-point with its pc saved.
// unlockf(arg) runs on g0 after the G is off its stack (it releases the
// lock that keeps wakers away, e.g. a channel's); returning false from it
// aborts the park (the G resumes at once).
// Returns Parked::Unwound when the park is stackless: the caller must
// unwind the interpreter (execute() returns kParked) and the instruction is
// finished on resume per g->resume. Returns Parked::Resumed when the G
// parked stackfully and has now been readied and rescheduled: the caller
// completes the instruction inline from g->resume_*.
enum class Parked { Unwound, Resumed };
Parked gopark(bool (*unlockf)(G*, void*), void* arg, WaitReason reason);
// Makes a _Gwaiting G runnable (on the current P's runnext, like Go's
// ready()). Any thread; the caller has written g->resume_* first.
void goready(G* g);

// Yields the P (gosched / sync preemption): the G goes to the global queue.
Parked gosched();
// Parks as _Gpreempted for a suspendG (preemptStop at a safe-point).
Parked preemptPark();

// Installs the handler that turns a goroutine's native stack overflow (its
// guard page) into "runtime error: stack overflow" and exit status 2
// (vm/sched/fault.cpp). Process-wide, once; sched_start calls it.
void fault_init();

// Parks the running G keeping its native stack, asking g0 for `action`
// (Gosched or PreemptPark); returns when some M runs the G again. The
// async preemption path (vm/sched/preempt.cpp), whatever the depth.
void park_stackful(M::Action action);

// Blocking natives: the G keeps its M but gives up its P for the call.
void entersyscall();
void exitsyscall();

// Starts a goroutine running fn(args...) (a Closure value), the GO opcode.
G* newproc(Value fn, const Value* args, int nargs);
// The same from a host thread (not an M): g->host = host and g->is_main are
// set before the G is runnable; it goes on the global queue and an M is
// woken for it.
G* host_newproc(Sched* s, Value fn, const Value* args, int nargs, void* host, bool is_main);

// Timers: parks the current G until now + ns (sleep).
Parked sleep_ns(int64_t ns);
int64_t nanotime();  // CLOCK_MONOTONIC

// Stop-the-world (vm/gc's collector thread calls these; Go's
// stopTheWorldWithSema / startTheWorldWithSema; vm/sched/stw.cpp). Returns
// the ns it took, or -1 when the scheduler is shutting down (the world was
// not stopped: do not call start_the_world). No Sched: returns 0 (and
// start_the_world must still follow). One stopper at a time.
int64_t stop_the_world(const char* reason);
void start_the_world();
// Waits until no stop-the-world is in progress. sched_stop calls it after
// making no Sched current and before freeing Gs and Ps: a collection that
// began earlier still reads them (it holds them until start_the_world).
void stw_quiesce();

// ---- scheduler internals other subsystems use (vm/gc's stop-the-world) ----

// Futex notes: sleep until the word is non-zero (retrying on EINTR), or for
// at most timeout_ns (< 0: no limit); wake sets it. Clear before reuse.
// Returns false on timeout.
bool notesleep(std::atomic<uint32_t>* note, int64_t timeout_ns = -1);
void notewakeup(std::atomic<uint32_t>* note);

// Under sched.lock: the idle-P list.
P* pidleget(Sched* s);
void pidleput(Sched* s, P* p);
// Starts (or wakes) an M to run p (nullptr: any idle P); spinning says it
// should look for work. Takes sched.lock.
void startm(Sched* s, P* p, bool spinning);
// Wakes an idle M to look for work, if there is an idle P and nobody spins.
void wakep(Sched* s);
// Hands a P whose M blocks (syscall) or stops to some M, or makes it idle.
void handoffp(Sched* s, P* p);
// Reports a deadlock if every M is idle with nothing to run, no timer and
// no outside work pending. sched.lock held.
void checkdead(Sched* s);
// Calls f on every G (allglock held: f must not take it or park).
template <typename F> void for_each_g(Sched* s, F f) {
  std::lock_guard lk(s->allglock);
  for (G* g : s->allgs) f(g);
}

// Run queues (vm/sched/runq.cpp), Go's algorithms.
void runqput(Sched* s, P* p, G* g, bool next);   // p's owner only
// p's owner only. *inherit: the G came from runnext, so it runs in the
// time slice of the G that readied it (Go's inheritTime: a pair of
// goroutines waking each other through runnext would otherwise never be
// preempted and would starve the rest of the queue).
G* runqget(P* p, bool* inherit = nullptr);
G* runqsteal(P* p, P* victim, bool steal_runnext);  // p's owner; any victim
bool runqempty(P* p);
void globrunqput(Sched* s, G* g);                // under sched.lock
void globrunqputhead(Sched* s, G* g);            // under sched.lock: runs before the queued
G* globrunqget(Sched* s, P* p, int32_t max);     // under sched.lock

// A per-M pseudo-random number (wyrand): select's poll order, stealing order.
uint32_t fastrand();

// One line of --trace=sched (GODEBUG=schedtrace-like). Any thread.
std::string schedtrace_line(Sched* s);

// suspendG / resumeG (Go's preempt.go; vm/sched/suspend.cpp): for the collector's root scan.
struct SuspendGState {
  G* g = nullptr;
  bool dead = false;
  bool stopped = false;
  // This suspendG counts in sched.external_work until resumeG readies the G
  // (a G parked _Gpreempted for a suspender is not a deadlock).
  bool counted = false;
  // It was claimed in _Gsyscall: running a blocking native on its native
  // stack, which holds no Weft values (vm/lib/sys.h), and whose M may be
  // saving its context into it right now (exitsyscall parks stackfully).
  // Its native stack and ctx are not to be read (scan_goroutine).
  bool syscall = false;
};
SuspendGState suspendG(G* g);
void resumeG(SuspendGState state);

}  // namespace weft::sched

// getm()'s thread-local, defined in proc.cpp. Initial-exec TLS, so that the
// SIGURG and SIGSEGV handlers (preempt.cpp, fault.cpp) and the allocation
// fast path (vm/arch/<arch>/async.S) read it without a TLS helper call.
// Everything else goes through getm().
extern "C" {
extern __thread weft::sched::M* weft_tls_m __attribute__((tls_model("initial-exec")));
}
