// The VM's side of goroutines: the hooks through which the scheduler
// (vm/sched, which knows nothing of the interpreter) makes, runs, retires
// and reports goroutines. A goroutine's VM state is a Thread.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "vm/core/fatal.h"
#include "vm/interp/interp.h"
#include "vm/interp/runtime.h"

namespace weft {

namespace {

constexpr size_t kTracebackFrames = 20;  // the overflow report's innermost frames: output stays bounded

void prepare(void* vm, sched::G* g, Value fn, const Value* args, int nargs) {
  if (g->vm == nullptr) {
    Thread* t = new Thread();
    t->g = g;
    g->vm = t;
  }
  Thread* t = thread_of(g);
  t->rt = static_cast<Runtime*>(vm);
  Closure* c = as_closure(fn);
  Proto* p = c->proto;
  if (t->stack == nullptr) {
    t->stack = static_cast<Value*>(std::malloc(kGoroutineStack * sizeof(Value)));
    if (t->stack == nullptr) fatal("sched: out of memory for a goroutine stack");
    t->stack_size = kGoroutineStack;
  }
  size_t need = 1 + size_t(p->nregs);
  if (!t->ensure_stack(need)) fatal("sched: goroutine frame larger than the VM stack limit");
  for (size_t i = 0; i < need; i++) t->stack[i] = Value::nil();
  t->stack[0] = fn;
  for (int j = 0; j < nargs; j++) t->stack[1 + size_t(j)] = args[j];
  t->frames.push_back(Frame{c, p->code.data(), p->k.data(), 1, kFrameReentry});
  t->set_guard();
  // The creator is the running G (a `go` statement, its pc saved), or a
  // host thread (no G): then there is no statement to name.
  sched::G* parent = sched::getg();
  t->started_at = parent != nullptr && parent->vm != nullptr ? thread_of(parent)->file_line() : std::string();
}

Value run_goroutine(sched::G* g) { return execute_goroutine(thread_of(g)); }

void exited(void* vm, sched::G* g, Value r) {
  if (g->host != nullptr) {  // the host takes the result or error
    static_cast<Runtime*>(vm)->host_goexit(g, r);
    return;
  }
  if (!r.is_empty()) return;
  Thread* t = thread_of(g);
  std::string msg = t->error_text();
  if (!g->is_main && !t->started_at.empty())  // as Go's "created by" line
    t->traceback += "  goroutine " + std::to_string(g->goid) + ", started at " + t->started_at + "\n";
  sched::report_done(g->owner, sched::Sched::Exit::Error, std::move(msg), std::move(t->traceback));
}

void reset(sched::G* g) {
  Thread* t = thread_of(g);
  t->frames.clear();
  t->frames.shrink_to_fit();
  t->pins.clear();
  t->drop_error();
  t->started_at.clear();
  if (t->stack_size > 4 * kGoroutineStack) {  // keep small stacks only
    std::free(t->stack);
    t->stack = nullptr;
    t->stack_size = 0;
  }
}

void destroy(sched::G* g) {
  Thread* t = thread_of(g);
  std::free(t->stack);
  delete t;
  g->vm = nullptr;
}

void put(const char* s, size_t n) {
  while (n > 0) {
    ssize_t w = write(2, s, n);
    if (w <= 0) return;
    s += w;
    n -= size_t(w);
  }
}

void report_overflow(sched::G* g) {
  static const char kHead[] = "runtime error: stack overflow\n";
  put(kHead, sizeof kHead - 1);
  Thread* t = thread_of(g);
  size_t n = t->frames.size(), shown = 0;
  for (size_t i = n; i-- > 0 && shown < kTracebackFrames;) {
    const Frame& f = t->frames[i];
    if (f.closure == nullptr) continue;
    const Proto* p = f.closure->proto;
    size_t pc = size_t(f.pc - p->code.data());
    unsigned line = pc < p->lines.size() ? p->lines[pc] : unsigned(p->line);
    char buf[512];
    int len = std::snprintf(buf, sizeof buf, "  at %s (%s:%u)\n", p->name.c_str(),
                            p->file ? p->file->c_str() : "?", line);
    if (len > 0) put(buf, std::min(size_t(len), sizeof buf - 1));
    shown++;
  }
  if (n > shown) {
    char buf[64];
    int len = std::snprintf(buf, sizeof buf, "  ... %zu more frames ...\n", n - shown);
    if (len > 0) put(buf, size_t(len));
  }
}

}  // namespace

sched::Hooks Runtime::sched_hooks() {
  sched::Hooks h;
  h.vm = this;
  h.counters = &counters_;
  h.prepare = prepare;
  h.run = run_goroutine;
  h.exited = exited;
  h.reset = reset;
  h.destroy = destroy;
  h.overflow = report_overflow;
  return h;
}

}  // namespace weft
