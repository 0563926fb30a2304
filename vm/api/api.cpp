// The embedding API's VM and Task (include/weft/weft.h) on top of
// weft::Runtime and its host side (vm/api/host.cpp).
//
// A thin layer: it translates Config into RuntimeOptions, checks requests
// (host misuse is a Result of kind Misuse, never a crash or an exception),
// turns a Status into a Result, and owns what only the public API has:
// the print sinks (a FILE* made with fopencookie around the host's
// callback, so builtins write to a FILE* as always), the on_gc callback,
// and the natives' trampoline slots.
//
// Threads: every method may run on any host thread; waiting methods
// refuse to run on an M (a native would block its P waiting for goroutines
// that may need that P).
#include "weft/weft.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <set>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "vm/api/host.h"
#include "vm/core/objops.h"
#include "vm/lib/lib.h"
#include "vm/lib/stdio.h"
#include "vm/sched/sched.h"

namespace weft {

using detail::Access;
using detail::to_result;

namespace {

Result misuse(std::string message) {
  Result r;
  r.kind = Result::Misuse;
  r.message = std::move(message);
  return r;
}

Result moved_from() { return misuse("this VM was moved from"); }

bool on_goroutine_thread() { return sched::getm() != nullptr; }

Result refuse_on_goroutine(const char* what) {
  return misuse(std::string(what) + " cannot be called from a native or a goroutine's thread (use NativeCall::call)");
}

ssize_t sink_write(void* cookie, const char* buf, size_t n) {
  (*static_cast<std::function<void(std::string_view)>*>(cookie))(std::string_view(buf, n));
  return ssize_t(n);
}

// A line-buffered stream that hands what is written to *fn.
FILE* open_sink(std::function<void(std::string_view)>* fn) {
  cookie_io_functions_t io{nullptr, sink_write, nullptr, nullptr};
  FILE* f = fopencookie(fn, "w", io);
  if (f != nullptr) setvbuf(f, nullptr, _IOLBF, 0);
  return f;
}

GcCycle to_cycle(const gc::Cycle& c) {
  GcCycle g;
  g.seq = c.seq;
  g.at_ns = c.at_ns;
  g.stw_ns = c.stw_ns;
  g.mark_ns = c.mark_ns;
  g.pause_ns = c.pause_ns;
  g.heap_before = c.heap_before;
  g.heap_after = c.heap_after;
  g.live_after = c.live_after;
  g.goroutines = c.goroutines;
  return g;
}

// From a native of another VM, on its goroutine (on a scheduler thread, or
// on a host thread running a host call of that VM): runs f with that
// goroutine out of its VM's P, as a blocking native is (entersyscall: its VM
// goes on running, collects and stops without it), and the thread a host
// thread of the other VM meanwhile (sched::host_leave_m). Counted as a
// blocking call of the native's VM, whose shutdown waits for it to come back.
template <class F>
auto outside_own_vm(F f) {
  detail::HostState& home = thread_of(sched::getg())->rt->host();
  home.blocking_calls.fetch_add(1);
  sched::entersyscall();
  sched::M* m = sched::host_leave_m();
  auto r = f();
  sched::host_return_m(m);
  sched::exitsyscall();
  home.blocking_calls.fetch_sub(1);
  return r;
}

}  // namespace

struct VM::Impl {
  Impl(VM* vm, Config c) : config(std::move(c)) {
    if (config.on_out) out = open_sink(&config.on_out);
    if (config.on_err) err = open_sink(&config.on_err);
    rt = std::make_unique<Runtime>(options());
    rt->host().vm = vm;
    if (config.trace_gc) rt->heap().set_trace(err_stream());
    rt->heap().set_cycle_hook([this](const gc::Cycle& c) {
      std::shared_ptr<std::function<void(const GcCycle&)>> cb;
      {
        std::lock_guard lk(gc_mu);
        cb = gc_callback;
      }
      if (cb != nullptr) (*cb)(to_cycle(c));
    });
  }
  ~Impl() {
    rt->stop_scheduler();
    detail::finalize_all(&rt->host());  // no goroutine runs: the rest of the VM's finalizers, here
    {
      std::lock_guard lk(rt->host().mu);
      for (auto& n : rt->host().natives) detail::unbind_native(n.get());
    }
    rt.reset();
    if (out != nullptr) std::fclose(out);
    if (err != nullptr) std::fclose(err);
  }
  FILE* out_stream() const { return out != nullptr ? out : config.out; }
  FILE* err_stream() const { return err != nullptr ? err : config.err; }
  RuntimeOptions options() const {
    RuntimeOptions o;
    o.gc_percent = config.gc_percent;
    o.gc_stress = config.gc_stress;
    o.gc_stress_minor = config.gc_stress_minor;
    o.gc_verify = config.gc_verify;
    o.heap_limit = config.heap_limit;
    o.preempt_stress = config.preempt_stress;
    o.out = out_stream();
    o.err = err_stream();
    o.args = config.args;
    o.procs = config.procs;
    o.trace_sched = config.trace_sched;
    o.async_preempt = config.async_preempt;
    o.time_slice_ns = config.time_slice_ns;
    if (config.max_stack > 0) o.max_stack = std::min<size_t>(config.max_stack, size_t(1) << 31);
    o.deadlock_grace_ns = std::max<int64_t>(config.deadlock_grace_ns, 0);
    o.private_top_level = config.private_top_level;
    o.lib_fs = config.enable_fs;
    o.lib_os = config.enable_os;
    o.lib_stdin = config.enable_stdin;
    o.file_imports = RuntimeOptions::Imports(config.file_imports);
    o.import_dir = config.import_dir;
    o.exit_process = config.exit_ends_process;
    o.broken_pipe_exits = config.broken_pipe_exits;
    return o;
  }

  // Runs a registered task and waits; the result's value is a handle.
  Result run_task(HostTask* task) {
    Status st = rt->spawn(task);
    return finish_task(task, st);
  }
  // Waits for a started task (unless `st` says it did not start) and
  // releases it.
  Result finish_task(HostTask* task, Status st) {
    if (st.ok()) st = rt->await(task);
    return take_result(task, st);
  }
  // The outcome of a task that was waited for (or never started), and
  // releases it.
  Result take_result(HostTask* task, const Status& st) {
    Result r = to_result(st);
    if (st.ok()) {
      const auto& hs = rt->host_ptr();
      std::lock_guard lk(hs->mu);
      r.value = Access::make_handle(hs, task->result, hs->hold(task->result));
    }
    rt->release_task(task);
    return r;
  }
  // A task for fn(args), or a Misuse/Runtime result explaining why not.
  Result make_task(const Handle& fn, std::vector<Arg>& args, HostTask** task) {
    std::string problem = Access::check_arg(Arg(fn), &rt->host());
    for (size_t i = 0; problem.empty() && i < args.size(); i++) problem = Access::check_arg(args[i], &rt->host());
    if (!problem.empty()) return misuse("argument: " + problem);
    *task = rt->add_task(Access::value_of(fn), std::move(args));
    return {};
  }
  // Runs fn(args) (or global `global`'s value, when >= 0) on this thread
  // when it can (Runtime::call_here); NotRun leaves *r alone.
  bool call_here(Value fn, int global, const std::vector<Arg>& args, Result* r) {
    HostTask* task = nullptr;
    switch (rt->call_here(fn, global, args, r, &task)) {
      case Runtime::Here::Done: return true;
      case Runtime::Here::Waiting: *r = finish_task(task, {}); return true;
      case Runtime::Here::NotRun: return false;
    }
    return false;
  }
  std::string check_args(const std::vector<Arg>& args) {
    std::string problem;
    for (size_t i = 0; problem.empty() && i < args.size(); i++) problem = Access::check_arg(args[i], &rt->host());
    return problem;
  }
  Result define(std::vector<NativeDef>& defs, std::string_view module);
  // Runs f where it may allocate: here on this VM's running goroutine (a
  // native; natives never collect, so what f makes is unrooted only until
  // f roots it), else on a host thread with the world stopped, which a
  // native of another VM becomes for it (outside_own_vm), as for a call.
  // False on a goroutine's thread outside a running goroutine.
  bool allocate(const std::function<void()>& f) {
    if (!on_goroutine_thread()) {
      rt->with_world_stopped(f);
      return true;
    }
    sched::G* g = sched::getg();
    if (g == nullptr || g->vm == nullptr || sched::readgstatus(g) != sched::_Grunning) return false;
    if (thread_of(g)->rt != rt.get()) {
      return outside_own_vm([&] {
        rt->with_world_stopped(f);
        return true;
      });
    }
    f();
    return true;
  }

  Config config;                   // immutable; on_out/on_err are the sinks' cookies
  FILE* out = nullptr;             // owned sink streams (fopencookie), or nullptr
  FILE* err = nullptr;
  std::unique_ptr<Runtime> rt;     // destroyed before the sinks close
  // Host modules' names (define_module), reserved before their natives
  // are made; under modules_mu, a leaf held for the lookup only.
  Mutex modules_mu{LockRank::Leaf};
  std::set<std::string> modules;
  Mutex gc_mu{LockRank::Leaf};     // guards gc_callback
  std::shared_ptr<std::function<void(const GcCycle&)>> gc_callback;
};

VM::VM(Config config) : impl_(std::make_unique<Impl>(this, std::move(config))) {}
VM::~VM() = default;

// The Runtime points back at its VM (NativeCall::vm()): a move re-aims it.
// Like destruction, only while no other thread uses either VM.
VM::VM(VM&& other) noexcept : impl_(std::move(other.impl_)) {
  if (impl_ != nullptr) impl_->rt->host().vm = this;
}

VM& VM::operator=(VM&& other) noexcept {
  if (this != &other) {
    impl_ = std::move(other.impl_);
    if (impl_ != nullptr) impl_->rt->host().vm = this;
  }
  return *this;
}

Result VM::read_file(const std::string& path, std::string* contents) {
  Result r;
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    r.kind = Result::Io;
    r.message = "cannot open '" + path + "': " + std::strerror(errno);
    return r;
  }
  contents->clear();
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) contents->append(buf, n);
  if (std::ferror(f)) {
    r.kind = Result::Io;
    r.message = "cannot read '" + path + "': " + std::strerror(errno);
  }
  std::fclose(f);
  return r;
}

// ---- programs and modules ----

Result VM::run_source(std::string_view name, std::string_view code) {
  if (impl_ == nullptr) return moved_from();
  if (on_goroutine_thread()) return refuse_on_goroutine("VM::run_source");
  Result r = to_result(impl_->rt->run(name, code));
  lib::out_flush(impl_->out_stream(), impl_->config.broken_pipe_exits);  // stdout's reader gone: 141 (vm/lib/stdio.h)
  return r;
}

Result VM::run_file(const std::string& path) {
  std::string code;
  Result r = read_file(path, &code);
  return r.ok() ? run_source(path, code) : r;
}

Result VM::load_source(std::string_view name, std::string_view code) {
  if (impl_ == nullptr) return moved_from();
  if (on_goroutine_thread()) return refuse_on_goroutine("VM::load_source");
  HostTask* task = nullptr;
  Status st = impl_->rt->load(name, code, &task);
  if (!st.ok()) return to_result(st);
  return impl_->run_task(task);
}

Result VM::load_file(const std::string& path) {
  std::string code;
  Result r = read_file(path, &code);
  return r.ok() ? load_source(path, code) : r;
}

Result VM::check_source(std::string_view name, std::string_view code) {
  if (impl_ == nullptr) return moved_from();
  if (on_goroutine_thread()) return refuse_on_goroutine("VM::check_source");
  Status st;
  impl_->rt->with_world_stopped([&] {
    Proto* main = nullptr;
    st = impl_->rt->compile(name, code, &main);
  });
  return to_result(st);
}

Result VM::check_file(const std::string& path) {
  std::string code;
  Result r = read_file(path, &code);
  return r.ok() ? check_source(path, code) : r;
}

Result VM::disassemble_source(std::string_view name, std::string_view code, std::string* listing) {
  if (impl_ == nullptr) return moved_from();
  if (on_goroutine_thread()) return refuse_on_goroutine("VM::disassemble_source");
  Status st;
  impl_->rt->with_world_stopped([&] {
    Proto* main = nullptr;
    st = impl_->rt->compile(name, code, &main);
    if (st.ok() && main != nullptr) *listing = disassemble(*main);
  });
  return to_result(st);
}

Result VM::disassemble_file(const std::string& path, std::string* listing) {
  std::string code;
  Result r = read_file(path, &code);
  return r.ok() ? disassemble_source(path, code, listing) : r;
}

// ---- globals ----

Result VM::get(std::string_view name) {
  if (impl_ == nullptr) return moved_from();
  Runtime& rt = *impl_->rt;
  int slot = rt.find_global(name);
  if (slot < 0) return misuse("undefined global '" + std::string(name) + "'");
  Result r;
  const auto& hs = rt.host_ptr();
  std::lock_guard lk(hs->mu);
  Value v = rt.globals[size_t(slot)];  // reserved storage: never moves
  r.value = Access::make_handle(hs, v, hs->hold(v));
  return r;
}

Result VM::set(std::string_view name, Arg value) {
  if (impl_ == nullptr) return moved_from();
  if (on_goroutine_thread()) return refuse_on_goroutine("VM::set");
  Runtime& rt = *impl_->rt;
  if (std::string problem = Access::check_arg(value, &rt.host()); !problem.empty()) return misuse(problem);
  bool ok = true;
  rt.with_world_stopped([&] { ok = rt.set_global(name, Access::to_value(rt, value)); });
  if (!ok) return misuse("too many globals");
  return {};
}

// ---- calls ----

// From a native of another VM: the call is a host thread's (outside_own_vm).
namespace {
Result call_across(VM& vm, const Handle& function, std::vector<Arg> args) {
  return outside_own_vm([&] { return vm.call(function, std::move(args)); });
}
}  // namespace

// Both calls try the calling thread first (docs/design.md#host-calls): a
// global's value is read there with a P held, a handle's is rooted by it.
Result VM::call(std::string_view function, std::vector<Arg> args) {
  if (!on_goroutine_thread()) {  // (a native's call goes through the handle's)
    int slot = impl_->rt->find_global(function);
    if (slot < 0) return misuse("undefined global '" + std::string(function) + "'");
    if (std::string problem = impl_->check_args(args); !problem.empty()) return misuse("argument: " + problem);
    Result r;
    if (impl_->call_here(Value::nil(), slot, args, &r)) return r;
  }
  Result fn = get(function);
  return fn.ok() ? call(fn.value, std::move(args)) : fn;
}

Result VM::call(const Handle& function, std::vector<Arg> args) {
  if (impl_ == nullptr) return moved_from();
  if (on_goroutine_thread()) {
    sched::G* g = sched::getg();
    if (g == nullptr || g->vm == nullptr || sched::readgstatus(g) != sched::_Grunning)
      return refuse_on_goroutine("VM::call");
    // From a native of this VM on its goroutine: a call back, as NativeCall::call.
    if (thread_of(g)->rt == impl_->rt.get()) return detail::call_on_thread(thread_of(g), function, std::move(args));
    return call_across(*this, function, std::move(args));
  }
  const auto& st = Access::state_of(function);
  if (st != nullptr && st.get() == &impl_->rt->host() && impl_->check_args(args).empty()) {
    Result r;  // a handle of this VM's, so not expired while the VM lives
    if (impl_->call_here(Access::value_of(function), -1, args, &r)) return r;
  }
  HostTask* task = nullptr;
  Result r = impl_->make_task(function, args, &task);
  return r.ok() ? impl_->run_task(task) : r;
}


// A deadline: the call runs as a goroutine (spawn), and a watchdog thread
// expires it if it is still running when the time is up: the goroutine
// raises `deadline exceeded` at its next safe-point (Runtime::expire), with
// its own traceback, and the rest of the run goes on. One that reaches no
// safe-point within kDeadlineGrace (a call-free loop, a goroutine blocked
// on a channel or in sleep) is stopped by interrupting the whole run, as
// interrupt() does. A thread per call costs tens of microseconds, noise
// next to a deadline worth setting.
namespace {
// Ten of sysmon's 10 ms time slices: a goroutine that polls at all (a
// call, an allocation) passes a safe-point long before.
constexpr auto kDeadlineGrace = std::chrono::milliseconds(100);
constexpr auto kDeadlinePoll = std::chrono::milliseconds(1);  // re-poisons the guard (a resumed G may reset it)
}  // namespace

Result VM::call_for(int64_t timeout_ns, const Handle& function, std::vector<Arg> args) {
  if (impl_ == nullptr) return moved_from();
  if (on_goroutine_thread()) return refuse_on_goroutine("VM::call_for");
  HostTask* task = nullptr;
  Result made = impl_->make_task(function, args, &task);
  if (!made.ok()) return made;
  Status st = impl_->rt->spawn(task);
  if (!st.ok()) return impl_->finish_task(task, st);
  std::mutex mu;
  std::condition_variable cv;
  bool finished = false;
  Runtime* rt = impl_->rt.get();
  std::thread watchdog([&] {
    std::unique_lock lk(mu);
    if (cv.wait_for(lk, std::chrono::nanoseconds(std::max<int64_t>(timeout_ns, 0)), [&] { return finished; })) return;
    auto give_up = std::chrono::steady_clock::now() + kDeadlineGrace;
    while (!finished && std::chrono::steady_clock::now() < give_up) {
      lk.unlock();
      bool running = rt->expire(task);
      lk.lock();
      if (!running) return;
      cv.wait_for(lk, kDeadlinePoll, [&] { return finished; });
    }
    if (finished) return;
    lk.unlock();
    rt->interrupt("deadline exceeded");
  });
  st = rt->await(task);
  {
    std::lock_guard lk(mu);
    finished = true;
  }
  cv.notify_one();
  watchdog.join();  // before the task is released: the watchdog reads it
  return impl_->take_result(task, st);
}

Result VM::call_for(int64_t timeout_ns, std::string_view function, std::vector<Arg> args) {
  Result fn = get(function);
  return fn.ok() ? call_for(timeout_ns, fn.value, std::move(args)) : fn;
}

struct Task::Impl {
  std::shared_ptr<detail::HostState> host;  // says whether the VM still lives
  HostTask* task = nullptr;                 // nullptr once waited for (or never started)
  Result result;                            // valid once task == nullptr
  bool started = false;
};

bool Task::valid() const { return impl_ != nullptr && impl_->started; }

Task::Task() = default;  // here, where Task::Impl is complete
Task::Task(Task&&) noexcept = default;
Task& Task::operator=(Task&&) noexcept = default;

Task::~Task() {
  if (impl_ == nullptr || impl_->task == nullptr || impl_->host == nullptr) return;
  Runtime* rt;
  {
    std::lock_guard lk(impl_->host->mu);
    rt = impl_->host->rt;
  }
  if (rt != nullptr) rt->release_task(impl_->task);
}

Result Task::wait() {
  if (impl_ == nullptr) return misuse("Task::wait on an empty Task");
  if (impl_->task == nullptr) return impl_->result;
  if (on_goroutine_thread()) return refuse_on_goroutine("Task::wait");
  Runtime* rt;
  {
    std::lock_guard lk(impl_->host->mu);
    rt = impl_->host->rt;
  }
  if (rt == nullptr) return misuse("Task::wait after its VM was destroyed");
  HostTask* task = std::exchange(impl_->task, nullptr);
  Status st = rt->await(task);
  impl_->result = to_result(st);
  if (st.ok()) {
    std::lock_guard lk(impl_->host->mu);
    impl_->result.value = Access::make_handle(impl_->host, task->result, impl_->host->hold(task->result));
  }
  rt->release_task(task);
  return impl_->result;
}

Task VM::spawn(std::string_view function, std::vector<Arg> args) {
  Result fn = get(function);
  if (fn.ok()) return spawn(fn.value, std::move(args));
  Task t;
  t.impl_ = std::make_unique<Task::Impl>();
  if (impl_ != nullptr) t.impl_->host = impl_->rt->host_ptr();
  t.impl_->result = fn;
  return t;
}

Task VM::spawn(const Handle& function, std::vector<Arg> args) {
  Task t;
  t.impl_ = std::make_unique<Task::Impl>();
  if (impl_ == nullptr) {
    t.impl_->result = moved_from();
    return t;
  }
  t.impl_->host = impl_->rt->host_ptr();
  HostTask* task = nullptr;
  Result r = impl_->make_task(function, args, &task);
  if (r.ok()) {
    Status st = impl_->rt->spawn(task);
    if (st.ok()) {
      t.impl_->task = task;
      t.impl_->started = true;
      return t;
    }
    impl_->rt->release_task(task);
    r = to_result(st);
  }
  t.impl_->result = r;
  return t;
}

Result VM::wait_all() {
  if (impl_ == nullptr) return moved_from();
  if (on_goroutine_thread()) return refuse_on_goroutine("VM::wait_all");
  return to_result(impl_->rt->await_all());
}

// ---- natives ----

namespace {

// What is wrong with a NativeDef, or "".
std::string check_def(const NativeDef& d) {
  if (d.name.empty() || !d.fn) return "a native needs a name and a function";
  if (d.min_args < 0 || d.min_args > 255 || d.max_args < -1 || d.max_args > 255 ||
      (d.max_args >= 0 && d.max_args < d.min_args))
    return "native " + d.name + ": bad argument counts";
  return "";
}

}  // namespace

Result VM::Impl::define(std::vector<NativeDef>& defs, std::string_view module) {
  if (on_goroutine_thread()) return refuse_on_goroutine("VM::define");
  for (const NativeDef& d : defs) {
    if (std::string problem = check_def(d); !problem.empty()) return misuse(problem);
  }
  Result r;
  rt->with_world_stopped([&] {
    Map* m = module.empty() ? nullptr : rt->new_map(uint32_t(defs.size()));
    for (NativeDef& d : defs) {
      auto n = std::make_unique<detail::HostNative>();
      n->name = module.empty() ? d.name : std::string(module) + "." + d.name;
      n->fn = std::move(d.fn);
      n->blocking = d.blocking;
      n->host = &rt->host();
      Native* native = nullptr;
      if (!detail::bind_native(n.get(), &native, *rt, d.min_args, d.max_args)) {
        r = misuse("too many natives in this process (at most 1024 at once)");
        break;
      }
      Value v = Value::object(native);
      if (m != nullptr) map_set(rt->heap(), m, Value::object(rt->new_string(d.name)), v);
      else if (!rt->set_global(d.name, v)) r = misuse("too many globals");
      std::lock_guard lk(rt->host().mu);
      rt->host().natives.push_back(std::move(n));
    }
    if (m != nullptr && r.ok() && !rt->set_global(module, Value::object(m))) r = misuse("too many globals");
    if (m != nullptr && r.ok()) lib::add_module(*rt, module, m);  // checked free by define_module
  });
  return r;
}

Result VM::define(NativeDef native) {
  if (impl_ == nullptr) return moved_from();
  std::vector<NativeDef> defs;
  defs.push_back(std::move(native));
  return impl_->define(defs, "");
}

Result VM::define(std::vector<NativeDef> natives) { return impl_ ? impl_->define(natives, "") : moved_from(); }

Result VM::define_module(std::string_view name, std::vector<NativeDef> natives) {
  if (impl_ == nullptr) return moved_from();
  if (name.empty()) return misuse("a module needs a name");
  // A host module shadows nothing: not a standard module (offered by this
  // VM or not), not another host module.
  if (lib::is_standard_module(name))
    return misuse("module \"" + std::string(name) + "\" is a standard module's name");
  {
    std::lock_guard lk(impl_->modules_mu);  // the name is reserved first: define stops the world
    if (!impl_->modules.insert(std::string(name)).second)
      return misuse("module \"" + std::string(name) + "\" is already defined");
  }
  Result r = impl_->define(natives, name);
  if (!r.ok()) {
    std::lock_guard lk(impl_->modules_mu);
    impl_->modules.erase(std::string(name));
  }
  return r;
}

// A function value made now. On this VM's goroutine (a native making
// one) it is allocated there, holding the P; on a host thread, with the
// world stopped, as define does.
Result VM::function(NativeDef def) {
  if (impl_ == nullptr) return moved_from();
  if (std::string problem = check_def(def); !problem.empty()) return misuse(problem);
  Runtime& rt = *impl_->rt;
  if (def.blocking) return misuse("native " + def.name + ": a function value cannot be blocking (define it instead)");
  auto n = std::make_unique<detail::HostNative>();
  n->name = std::move(def.name);
  n->fn = std::move(def.fn);
  n->host = &rt.host();
  Result r;
  auto make = [&] {
    Native* native = detail::make_function(n.get(), rt, def.min_args, def.max_args);
    Value v = Value::object(native);
    detail::add_finalizer(native, &rt.host(), nullptr, nullptr, std::move(n));  // freed when v dies
    const auto& hs = rt.host_ptr();
    std::lock_guard lk(hs->mu);
    r.value = Access::make_handle(hs, v, hs->hold(v));
  };
  if (!impl_->allocate(make)) return refuse_on_goroutine("VM::function");
  return r;
}

// ---- host objects ----

Result VM::define_type(HostTypeDef def, HostType* type) {
  if (impl_ == nullptr) return moved_from();
  if (type == nullptr) return misuse("define_type needs somewhere to put the type");
  if (def.name.empty()) return misuse("a host type needs a name");
  for (const NativeDef& m : def.methods) {
    if (std::string problem = check_def(m); !problem.empty()) return misuse("type " + def.name + ": " + problem);
  }
  detail::HostState& hs = impl_->rt->host();
  auto info = std::make_shared<detail::HostTypeInfo>();
  info->cls.name = def.name;
  info->finalizer = std::move(def.finalizer);
  info->host = impl_->rt->host_ptr();
  std::vector<std::unique_ptr<detail::HostNative>> methods;
  for (NativeDef& m : def.methods) {
    auto n = std::make_unique<detail::HostNative>();
    n->name = def.name + "." + m.name;
    n->fn = std::move(m.fn);
    n->blocking = m.blocking;
    n->host = &hs;
    NativeFn fn = detail::take_slot(n.get());
    if (fn == nullptr) {
      for (auto& taken : methods) detail::unbind_native(taken.get());
      return misuse("too many natives in this process (at most 1024 at once)");
    }
    info->cls.methods.push_back({m.name, n->name, fn, int16_t(m.min_args), int16_t(m.max_args)});
    methods.push_back(std::move(n));
  }
  std::lock_guard lk(hs.mu);
  for (auto& n : methods) hs.natives.push_back(std::move(n));
  hs.types.push_back(info);
  *type = Access::make_type(std::move(info));
  return {};
}

namespace {

constexpr size_t kMaxSlots = 1u << 16;  // a host object's slots: far more than a type needs, far less than a heap

// The host object `h` refers to, with its slot i checked: "" or the problem.
// hs->mu held.
std::string check_slot(const detail::HostState* hs, const Handle& h, size_t i, HostObject** out) {
  const auto& st = Access::state_of(h);
  if (st == nullptr || st.get() != hs) return "set_slot: not a host object of this VM";
  Value v = Access::value_of(h);
  if (!is_type(v, ObjType::Host)) return "set_slot: not a host object of this VM";
  *out = as_host_object(v);
  if (i >= (*out)->nslots)
    return "set_slot: no slot " + std::to_string(i) + " (the object has " + std::to_string((*out)->nslots) + ")";
  return "";
}

}  // namespace

Result VM::new_object(const HostType& type, void* data, size_t slots) {
  if (impl_ == nullptr) return moved_from();
  const auto& info = Access::info_of(type);
  Runtime& rt = *impl_->rt;
  if (info == nullptr || info->host.lock() != rt.host_ptr()) return misuse("new_object: a type this VM did not define");
  if (slots > kMaxSlots) return misuse("new_object: at most " + std::to_string(kMaxSlots) + " slots");
  Result r;
  auto make = [&] {
    HostObject* o = new_host_object(rt.heap(), &info->cls, data, uint32_t(slots));
    if (info->finalizer) detail::add_finalizer(o, &rt.host(), info, data, nullptr);
    Value v = Value::object(o);
    const auto& hs = rt.host_ptr();
    std::lock_guard lk(hs->mu);
    r.value = Access::make_handle(hs, v, hs->hold(v));
  };
  if (!impl_->allocate(make)) return refuse_on_goroutine("VM::new_object");
  return r;
}

// A value that needs no allocation (a handle's, a scalar) is stored under
// the handles' lock from any thread: it is rooted, or no object, so a
// collection marks it whether it runs before or after (vm/api/host.h).
// One that must be made is made and stored by an allocating thread.
Result VM::set_slot(const Handle& object, size_t i, Arg value) {
  if (impl_ == nullptr) return moved_from();
  Runtime& rt = *impl_->rt;
  if (std::string problem = Access::check_arg(value, &rt.host()); !problem.empty()) return misuse(problem);
  const auto& hs = rt.host_ptr();
  std::string problem;
  if (!Access::needs_heap(value)) {
    std::lock_guard lk(hs->mu);
    HostObject* o = nullptr;
    problem = check_slot(hs.get(), object, i, &o);
    if (problem.empty()) host_slot_set(o, uint32_t(i), Access::to_value(rt, value));
  } else {
    auto store = [&] {
      HostObject* o = nullptr;
      {
        std::lock_guard lk(hs->mu);
        problem = check_slot(hs.get(), object, i, &o);
      }
      if (problem.empty()) host_slot_set(o, uint32_t(i), Access::to_value(rt, value));
    };
    if (!impl_->allocate(store)) return refuse_on_goroutine("VM::set_slot");
  }
  return problem.empty() ? Result() : misuse(problem);
}

// ---- control and the collector ----

void VM::interrupt() {
  if (impl_ != nullptr) impl_->rt->interrupt();
}

GcStats VM::gc_stats() const {
  if (impl_ == nullptr) return {};
  gc::Stats s = impl_->rt->heap().stats();
  GcStats g;
  g.collections = s.collections;
  g.heap_bytes = s.heap_bytes;
  g.live_bytes = s.live_bytes;
  g.total_allocated = s.total_allocated;
  g.last_pause_ns = s.last_pause_ns;
  g.max_pause_ns = s.max_pause_ns;
  g.total_pause_ns = s.total_pause_ns;
  g.stw_ns = s.stw_ns;
  g.mark_ns = s.mark_ns;
  const sched::Counters& c = impl_->rt->counters();
  g.preemptions_sync = c.preemptions_sync.load(std::memory_order_relaxed);
  g.preemptions_async = c.preemptions_async.load(std::memory_order_relaxed);
  return g;
}

void VM::set_gc_percent(int percent) {
  if (impl_ != nullptr) impl_->rt->heap().set_gc_percent(percent);
}

Result VM::collect() {
  if (impl_ == nullptr) return moved_from();
  if (on_goroutine_thread()) return refuse_on_goroutine("VM::collect");
  impl_->rt->heap().collect();
  return {};
}

void VM::on_gc(std::function<void(const GcCycle&)> callback) {
  if (impl_ == nullptr) return;
  auto cb = callback ? std::make_shared<std::function<void(const GcCycle&)>>(std::move(callback)) : nullptr;
  std::lock_guard lk(impl_->gc_mu);
  impl_->gc_callback = std::move(cb);
}

bool set_gc_markers(int n) { return gc::set_markers(n); }

int gc_markers() { return gc::markers(); }

bool set_gc_generational(bool on) { return gc::set_generational(on); }

bool gc_generational() { return gc::generational(); }

const char* version() { return "weft " WEFT_VERSION; }

}  // namespace weft
