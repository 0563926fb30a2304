// The host side of the Runtime: the scheduler's life across host requests,
// host requests run as goroutines, and the handle registry (model and
// locking in vm/api/host.h).
//
// The scheduler. Started by the first request that needs goroutines
// (ensure_sched_locked) and kept between requests, so any number of host
// threads can call in at once; stopped when a run ends (report_done: a
// program's main returned, a goroutine the host did not start failed,
// interrupt()), at which point every waiting host gets the run's outcome,
// or at destruction. The next request starts a fresh Sched; the Runtime's
// globals, protos and handles are untouched. A stopped Sched is retired
// (kept until the Runtime dies), because the collector and the heap's gc()
// waiters may still hold its Gs.
//
// Waiting. A host thread waits on the Sched's done_cv for its task's
// `done`, the run's end, or checkdead's verdict that every goroutine is
// asleep (asleep_gen moved, counted only while host_waiters > 0). It
// registers, then runs checkdead itself under sched.lock, so a goroutine
// that went to sleep before the host started waiting is seen too. A
// verdict is confirmed after a grace period (deadlock_confirmed): other host
// threads are outside the scheduler's view and may be about to help.
//
// Loading. Compiling allocates (string constants, closures) and defines
// globals, which only a thread holding a P or a stopped world may do: the
// host thread stops the world (sched::stop_the_world, the collector's own
// protocol, which serializes with collections) for the compile.
//
// Lock order: sched_mu_ < sched.lock < done_mu; HostState::mu is a leaf,
// except that host_goexit takes done_mu under it (nothing takes mu under
// done_mu).
#include <algorithm>
#include <chrono>
#include <iterator>
#include <thread>

#include "vm/arch/stack.h"
#include "vm/core/fatal.h"
#include "vm/api/host.h"
#include "vm/sched/preempt.h"
#include "vm/sched/sched.h"

namespace weft {

namespace detail {

int32_t HostState::hold(Value v) {
  if (!v.is_obj()) return -1;
  int32_t slot;
  if (!free_slots.empty()) {
    slot = free_slots.back();
    free_slots.pop_back();
    slots[size_t(slot)] = v;
    refs[size_t(slot)] = 1;
  } else {
    slot = int32_t(slots.size());
    slots.push_back(v);
    refs.push_back(1);
  }
  return slot;
}

void HostState::retain(int32_t slot) {
  if (slot >= 0) refs[size_t(slot)]++;
}

void HostState::release(int32_t slot) {
  if (slot < 0 || --refs[size_t(slot)] != 0) return;
  slots[size_t(slot)] = Value::nil();
  free_slots.push_back(slot);
}

void HostState::push_roots(gc::RootSink& sink) {
  {
    std::lock_guard lk(mu);
    root_copy.assign(slots.begin(), slots.end());
    root_copy.insert(root_copy.end(), entries.begin(), entries.end());
    for (auto& t : tasks) {
      root_copy.push_back(t->fn);
      root_copy.push_back(t->result);
    }
  }
  sink.values(root_copy.data(), root_copy.data() + root_copy.size());
}

std::unique_ptr<HostTask> HostState::take_task(HostTask* t) {
  for (auto it = tasks.begin(); it != tasks.end(); ++it) {
    if (it->get() == t) {
      std::unique_ptr<HostTask> owned = std::move(*it);
      tasks.erase(it);
      return owned;
    }
  }
  return nullptr;
}

}  // namespace detail

namespace {

constexpr const char* kEntryFile = "<host>";  // the trampolines' file: hidden from tracebacks
constexpr int kMaxHostArgs = 100;             // a trampoline's registers stay far below the compiler's limit

Status misuse(std::string message) {
  Status st;
  st.kind = Status::Misuse;
  st.message = std::move(message);
  return st;
}

// The trampolines' argument source: host_arg(i) is the G's task's i-th
// argument as a heap value (allocated here, on the goroutine).
Value host_arg(Thread* t, Value* args, int) {
  auto* task = static_cast<HostTask*>(static_cast<HostRequest*>(t->g->host));
  return detail::Access::to_value(*t->rt, task->args[size_t(args[0].as_inline_int())]);
}

// The Sched's run has ended (report_done sets `done` before `stopping`).
bool run_over(sched::Sched* s) {
  if (s->stopping.load()) return true;
  std::lock_guard d(s->done_mu);
  return s->done;
}

// "  at NAME (<host>:1)" lines are the trampoline's, not the script's.
std::string strip_entry_frames(const std::string& tb) {
  std::string out, marker = std::string(" (") + kEntryFile + ":";
  size_t at = 0;
  while (at < tb.size()) {
    size_t end = tb.find('\n', at);
    end = end == std::string::npos ? tb.size() : end + 1;
    std::string_view line(tb.data() + at, end - at);
    if (line.find(marker) == std::string_view::npos) out.append(line);
    at = end;
  }
  return out;
}

std::string trampoline_source(int nargs) {
  std::string call;
  for (int i = 0; i < nargs; i++) call += (i ? ", p(" : "p(") + std::to_string(i) + ")";
  return "(fn(p, f) { return f(" + call + ") })\n";
}

}  // namespace

// ---- the world stopped ----

void Runtime::stop_world_locked() {
  if (sched_ != nullptr && run_over(sched_.get())) stop_sched_locked();  // the run ended
  sched::stop_the_world("host");  // every VM's goroutines: bdwgc's heap is the process's
}

void Runtime::with_world_stopped(const std::function<void()>& f) {
  std::lock_guard lk(sched_mu_);
  stop_world_locked();
  f();
  sched::start_the_world();
}

Status Runtime::load(std::string_view file, std::string_view source, HostTask** task) {
  Status st;
  with_world_stopped([&] {
    if (main_file.empty()) main_file = std::string(file);
    Proto* p = nullptr;
    st = compile(file, source, &p);
    if (st.ok()) *task = add_task(Value::object(new_closure(p)), {});
  });
  return st;
}

// sched_mu_ held: the entry closure for a call with nargs arguments,
// compiled once (with the world stopped) and kept in host_->entries.
Value Runtime::trampoline(int nargs) {
  size_t i = 1 + size_t(nargs);
  {
    std::lock_guard lk(host_->mu);
    if (i < host_->entries.size() && !host_->entries[i].is_nil()) return host_->entries[i];
  }
  stop_world_locked();
  Proto* main = nullptr;
  Status st = compile(kEntryFile, trampoline_source(nargs), &main);
  if (!st.ok() || main->protos.empty()) fatal("host: the call trampoline does not compile");
  Value fn = Value::object(new_closure(main->protos[0]));
  // Made before taking host_->mu: the collector takes it under bdwgc's
  // lock (push_roots), so allocating under it inverts that order.
  // (Made on every trampoline compile, used only by the first.)
  Value arg = Value::object(new_native("host argument", host_arg, 1, 1));
  {
    std::lock_guard lk(host_->mu);
    if (host_->entries.empty()) host_->entries.push_back(arg);
    if (host_->entries.size() <= i) host_->entries.resize(i + 1, Value::nil());
    host_->entries[i] = fn;
  }
  sched::start_the_world();
  return fn;
}

// ---- the scheduler's life ----

Status Runtime::ensure_sched_locked() {
  if (sched_ != nullptr && run_over(sched_.get())) stop_sched_locked();
  if (sched_ != nullptr) return {};
  auto s = std::make_unique<sched::Sched>();
  sched::Options so;
  so.procs = opts_.procs > 0 ? opts_.procs : default_procs();
  so.trace = opts_.trace_sched;
  so.async_preempt = opts_.async_preempt;
  so.preempt_stress = opts_.preempt_stress;
  so.time_slice_ns = opts_.time_slice_ns;
  if (!sched::sched_start(s.get(), sched_hooks(), so)) fatal("host: a scheduler started twice");
  sched_ = std::move(s);
  live_sched_.store(sched_.get());
  return {};
}

void Runtime::stop_sched_locked() {
  if (sched_ == nullptr) return;
  sched::Sched* s = sched_.get();
  live_sched_.store(nullptr);
  sched::report_done(s, sched::Sched::Exit::Error, "the run ended before this request finished", "");
  // A blocking native cannot be stopped; it returns into a stopping
  // scheduler and its goroutine stops at the next safe-point.
  while (host_->blocking_calls.load() > 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  bool clean = sched::sched_stop(s);
  std::vector<std::unique_ptr<HostTask>> dead;  // destroyed unlocked: their handles take mu
  {
    std::lock_guard lk(host_->mu);  // their goroutines will never run again
    auto& ts = host_->tasks;
    auto gone = std::stable_partition(ts.begin(), ts.end(), [s](auto& t) { return t->sched != s || !t->abandoned; });
    std::move(gone, ts.end(), std::back_inserter(dead));
    ts.erase(gone, ts.end());
  }
  // An M that did not stop (its goroutine in a blocking native that never
  // returns, or in a call-free loop with asynchronous preemption off) may
  // still touch its Sched: that Sched is leaked, not freed under it.
  if (clean) {
    retired_scheds_.push_back(std::move(sched_));
    arch::release_global_stacks();  // the pool's free stacks (other VMs' Ms take theirs out of it first)
  } else {
    (void)sched_.release();
  }
}

void Runtime::stop_scheduler() {
  std::lock_guard lk(sched_mu_);
  stop_sched_locked();
}

void Runtime::interrupt(const char* message) {
  sched::Sched* s = live_sched_.load();
  if (s == nullptr) return;
  sched::report_done(s, sched::Sched::Exit::Error, message, interrupted_traceback(s));
}

// Where interrupt() stopped the run: the calling goroutine's own traceback
// when a native calls it; else main's, or that of the oldest goroutine a
// host started, read while sched::suspendG holds it at a safe-point.
// Without asynchronous preemption a call-free loop never stops for
// suspendG (nor for the interrupt), so then there is none rather than a
// hang.
std::string Runtime::interrupted_traceback(sched::Sched* s) {
  if (sched::G* self = sched::getg()) return self->owner == s ? thread_of(self)->stack_trace() : std::string();
  if (!opts_.async_preempt || !sched::async_preempt_enabled()) return {};  // (off in a WEFT_TSAN build)
  sched::G* pick = nullptr;
  {
    std::lock_guard lk(s->allglock);
    for (sched::G* g : s->allgs) {
      if ((sched::readgstatus(g) & ~sched::_Gscan) == sched::_Gdead || g->vm == nullptr) continue;
      if (g->is_main) {
        pick = g;
        break;
      }
      bool from_host = g->host != nullptr || g->hostcall.load(std::memory_order_relaxed);  // spawned for a host, or running on its thread
      if (from_host && (pick == nullptr || g->goid < pick->goid)) pick = g;
    }
  }
  if (pick == nullptr) return {};
  sched::SuspendGState st = sched::suspendG(pick);
  std::string tb = st.dead ? std::string() : thread_of(pick)->stack_trace();
  sched::resumeG(st);
  return tb;
}

// ---- requests ----

HostTask* Runtime::add_task(Value fn, std::vector<Arg> args) {
  auto t = std::make_unique<HostTask>();
  t->fn = fn;
  t->args = std::move(args);
  HostTask* raw = t.get();
  std::lock_guard lk(host_->mu);
  host_->tasks.push_back(std::move(t));
  return raw;
}

void Runtime::release_task(HostTask* task) {
  std::unique_ptr<HostTask> dead;  // destroyed unlocked
  std::lock_guard lk(host_->mu);
  if (task->finished || task->sched == nullptr) dead = host_->take_task(task);
  else task->abandoned = true;
}

Status Runtime::spawn(HostTask* task) {
  Value fn = task->fn;
  int nargs = int(task->args.size());
  if (nargs > kMaxHostArgs) return misuse("a call from the host takes at most " + std::to_string(kMaxHostArgs) + " arguments");
  if (is_type(fn, ObjType::Closure) && as_closure(fn)->proto->nparams != nargs) {
    const Proto* p = as_closure(fn)->proto;
    Status st;
    st.kind = Status::RuntimeError;
    st.message = p->name + " expects " + std::to_string(p->nparams) + " argument" +
                 (p->nparams == 1 ? "" : "s") + ", got " + std::to_string(nargs);
    return st;
  }
  if (!is_type(fn, ObjType::Closure) && !is_type(fn, ObjType::Native)) {
    Status st;
    st.kind = Status::RuntimeError;
    st.message = std::string("cannot call ") + type_name(fn);
    return st;
  }
  std::lock_guard lk(sched_mu_);
  Value entry = fn;
  Value entry_args[2];
  int entry_nargs = 0;
  if (nargs > 0 || !is_type(fn, ObjType::Closure)) {  // a goroutine's entry must be a closure
    entry = trampoline(nargs);  // first: compiling it may stop an ended run's scheduler
    entry_args[0] = host_->entries[0];
    entry_args[1] = fn;
    entry_nargs = 2;
  }
  Status st = ensure_sched_locked();
  if (!st.ok()) return st;
  task->sched = sched_.get();
  host_spawns_.fetch_add(1);
  sched::G* g = sched::host_newproc(sched_.get(), entry, entry_args, entry_nargs, static_cast<HostRequest*>(task),
                                    task->program);
  std::lock_guard hl(host_->mu);
  task->g = g;
  return st;
}

// Under mu the task's goroutine, while !finished, is still the task's
// (host_goexit marks it finished under mu before the G can be reused).
bool Runtime::expire(HostTask* task) {
  std::lock_guard lk(host_->mu);
  if (task->finished || task->g == nullptr) return false;
  task->deadline_passed.store(true, std::memory_order_relaxed);
  thread_of(task->g)->stackguard.store(kStackPoison, std::memory_order_relaxed);
  return true;
}

// ---- calls on the host thread (docs/design.md#host-calls) ----

Runtime::Here Runtime::call_here(Value fn, int global, const std::vector<Arg>& args, Result* out, HostTask** task) {
  sched::Sched* s = live_sched_.load(std::memory_order_acquire);
  if (s == nullptr || args.size() > size_t(kMaxHostArgs)) return Here::NotRun;
  sched::M* m = sched::host_acquire(s);
  if (m == nullptr) return Here::NotRun;
  // With the P held no collection runs: values in C++ locals stay valid.
  if (global >= 0) fn = globals[size_t(global)];
  if (!is_type(fn, ObjType::Closure) || as_closure(fn)->proto->nparams != int(args.size())) {
    sched::host_release(s, m);
    return Here::NotRun;  // spawn reports the error as before
  }
  sched::G* g = sched::host_g(s, m, fn, nullptr, 0);
  Thread* t = thread_of(g);
  for (size_t j = 0; j < args.size(); j++) t->stack[1 + j] = detail::Access::to_value(*this, args[j]);
  Value r;
  if (sched::host_run(s, m, g, &r)) {
    if (r.is_empty()) {
      out->kind = Result::Runtime;
      out->message = is_type(t->error, ObjType::String) ? std::string(as_string(t->error)->view()) : "error";
      out->traceback = strip_entry_frames(t->traceback);
      t->drop_error();
    } else if (r.is_obj()) {
      std::lock_guard lk(host_->mu);
      out->value = detail::Access::make_handle(host_, r, host_->hold(r));
    } else {
      out->value = detail::Access::make_handle(host_, r, -1);
    }
    sched::host_finish(s, m, g);
    sched::host_release(s, m);
    return Here::Done;
  }
  // It parked: from here it is a goroutine like a spawned call's.
  HostTask* t2 = add_task(fn, {});
  t2->sched = s;
  g->host = static_cast<HostRequest*>(t2);
  {
    std::lock_guard lk(host_->mu);
    t2->g = g;
  }
  host_spawns_.fetch_add(1);
  sched::host_detach(s, m, g);
  sched::host_release(s, m);
  *task = t2;
  return Here::Waiting;
}

namespace {

// Registers the calling host thread as a waiter on s, returning checkdead's
// generation to compare with; checkdead runs once for it.
uint64_t begin_wait(sched::Sched* s) {
  std::lock_guard lk(s->lock);
  s->host_waiters++;
  uint64_t gen;
  {
    std::lock_guard d(s->done_mu);
    gen = s->asleep_gen;
  }
  sched::checkdead(s);
  return gen;
}

void end_wait(sched::Sched* s) {
  std::lock_guard lk(s->lock);
  s->host_waiters--;
}

// The run ended (s->done) while a host waited for something else.
Status run_ended(sched::Sched* s) {
  std::lock_guard d(s->done_mu);
  Status st;
  st.kind = Status::RuntimeError;
  if (s->exit_kind == sched::Sched::Exit::Exited) {  // os.exit in an embedded VM (vm/lib/os.cpp)
    st.kind = Status::Exit;
    st.exit_code = s->exit_code;
    st.message = s->message;
    st.traceback = strip_entry_frames(s->traceback);
  } else if (s->exit_kind == sched::Sched::Exit::Error) {
    st.message = s->message;
    st.traceback = strip_entry_frames(s->traceback);
  } else {
    st.message = "the program's main returned before this request finished";
  }
  return st;
}

constexpr size_t kDeadlockListed = 10;  // goroutines the deadlock report lists (docs/language.md#deadlock)

// The deadlock report: the message, and in the traceback one line for each
// of the first kDeadlockListed blocked goroutines (by number), as Go's
// dump: `  goroutine 3 [chan receive]: at worker (w.wf:4)`. Every G is
// asleep, so their frames hold still while we read them.
Status deadlock(sched::Sched* s) {
  Status st;
  st.kind = Status::Fatal;
  st.message = "all goroutines are asleep - deadlock!";
  std::vector<sched::G*> blocked;
  {
    std::lock_guard lk(s->allglock);
    for (sched::G* g : s->allgs) {
      if ((sched::readgstatus(g) & ~sched::_Gscan) == sched::_Gwaiting && g->vm != nullptr) blocked.push_back(g);
    }
  }
  std::sort(blocked.begin(), blocked.end(), [](sched::G* a, sched::G* b) { return a->goid < b->goid; });
  for (size_t i = 0; i < blocked.size() && i < kDeadlockListed; i++) {
    sched::G* g = blocked[i];
    std::string where = thread_of(g)->where();
    st.traceback += "  goroutine " + std::to_string(g->goid) + " [" + sched::wait_reason_text(g->waitreason) + "]" +
                    (where.empty() ? "" : ": " + where) + "\n";
  }
  if (blocked.size() > kDeadlockListed)
    st.traceback += "  ... " + std::to_string(blocked.size() - kDeadlockListed) + " more goroutines ...\n";
  return st;
}

}  // namespace

// After checkdead found every goroutine asleep while this host waits: a
// deadlock only if the verdict still holds after the grace period and no
// host request started meanwhile (another host thread may be about to send
// what this one waits for; Go, built as a library, gives up detection
// altogether for the same reason). `finished` says the wait is over
// anyway. *gen becomes the generation to wait past next.
bool Runtime::deadlock_confirmed(sched::Sched* s, uint64_t* gen, const std::function<bool()>& finished) {
  uint64_t spawns = host_spawns_.load();
  {
    std::unique_lock lk(s->done_mu);
    if (s->done_cv.wait_for(lk, std::chrono::nanoseconds(opts_.deadlock_grace_ns),
                            [&] { return finished() || s->done; }))
      return false;
  }
  std::lock_guard lk(s->lock);
  uint64_t before, after;
  {
    std::lock_guard d(s->done_mu);
    before = s->asleep_gen;
  }
  sched::checkdead(s);
  {
    std::lock_guard d(s->done_mu);
    after = s->asleep_gen;
  }
  *gen = after;
  return after != before && host_spawns_.load() == spawns;
}

// Waits until finished() (Ok), the run ends, or a confirmed deadlock.
Status Runtime::wait_for(sched::Sched* s, const std::function<bool()>& finished) {
  uint64_t gen = begin_wait(s);
  Status st;
  for (;;) {
    {
      std::unique_lock lk(s->done_mu);
      s->done_cv.wait(lk, [&] { return finished() || s->done || s->asleep_gen != gen; });
      if (finished()) break;
      if (s->done) {
        lk.unlock();
        st = run_ended(s);
        break;
      }
    }
    if (deadlock_confirmed(s, &gen, finished)) {
      st = deadlock(s);
      break;
    }
  }
  end_wait(s);
  return st;
}

Status Runtime::await(HostTask* task) {
  Status st = wait_for(task->sched, [task] { return task->done; });  // under done_mu
  return st.ok() ? task->status : st;  // status is written before `done`
}

Status Runtime::await_all() {
  sched::Sched* s;
  {
    std::lock_guard lk(sched_mu_);
    s = sched_ != nullptr && !run_over(sched_.get()) ? sched_.get() : nullptr;
  }
  if (s == nullptr) return {};
  return wait_for(s, [s] { return s->ngoroutines.load() == 0; });
}

// The G's M, before the G exits (the exited hook, vm/interp/goroutine.cpp,
// called by g_entry in vm/sched/goroutine.cpp).
void Runtime::host_goexit(sched::G* g, Value r) {
  auto* task = static_cast<HostTask*>(static_cast<HostRequest*>(g->host));
  g->host = nullptr;
  Status st;
  if (r.is_empty()) {
    Thread* t = thread_of(g);
    st.kind = Status::RuntimeError;
    st.message = t->error_text();
    st.traceback = strip_entry_frames(t->traceback);
    r = Value::nil();
  }
  sched::Sched* s = task->sched;
  std::unique_ptr<HostTask> dead;  // destroyed unlocked
  {
    std::lock_guard lk(host_->mu);
    if (task->abandoned) {
      dead = host_->take_task(task);
      return;
    }
    task->finished = true;
    task->status = std::move(st);
    task->result = r;
    std::lock_guard d(s->done_mu);  // under mu: the waiter frees the task after `done`
    task->done = true;
  }
  s->done_cv.notify_all();
}

}  // namespace weft
