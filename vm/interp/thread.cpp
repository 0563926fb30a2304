// Thread: raising script errors, capturing tracebacks, and the VM stack's
// guard and growth (see vm/interp/thread.h for the model).
//
// An error is a value on the thread (Thread::error: a String for the VM's
// own, any value for error(v), which pcall returns unchanged) plus the
// traceback captured when it was raised; the interpreter then unwinds to the
// nearest pcall or re-entry frame. No C++ exception ever crosses the
// interpreter. The traceback is captured eagerly because the frames are
// gone once unwound; a pcall that catches the error drops it.
#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "vm/core/fatal.h"
#include "vm/interp/runtime.h"

namespace weft {

namespace {

// Tracebacks of deep recursion keep the innermost and outermost frames.
constexpr size_t kTracebackKeep = 50;

void append_frame(std::string& out, const Frame& f) {
  const Proto* p = f.closure->proto;
  size_t pc = size_t(f.pc - p->code.data());
  unsigned line = pc < p->lines.size() ? p->lines[pc] : unsigned(p->line);
  out += "  at ";
  out += p->name;
  out += " (";
  out += p->file ? *p->file : std::string("?");
  out += ':';
  out += std::to_string(line);
  out += ")\n";
}

std::string frame_file_line(const Frame& f) {
  const Proto* p = f.closure->proto;
  size_t pc = size_t(f.pc - p->code.data());
  unsigned line = pc < p->lines.size() ? p->lines[pc] : unsigned(p->line);
  return (p->file ? *p->file : std::string("?")) + ':' + std::to_string(line);
}

const Frame* innermost_weft_frame(const std::vector<Frame>& frames) {
  for (size_t i = frames.size(); i-- > 0;) {
    if (frames[i].closure != nullptr) return &frames[i];
  }
  return nullptr;
}

}  // namespace

std::string Thread::where() const {
  const Frame* f = innermost_weft_frame(frames);
  return f == nullptr ? std::string() : "at " + f->closure->proto->name + " (" + frame_file_line(*f) + ")";
}

std::string Thread::file_line() const {
  const Frame* f = innermost_weft_frame(frames);
  return f == nullptr ? std::string() : frame_file_line(*f);
}

void Thread::raise(const char* fmt, ...) {
  char buf[256];
  va_list ap;
  va_start(ap, fmt);
  int n = std::vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (n < 0) n = 0;
  if (size_t(n) < sizeof buf) {
    raise_value(Value::object(rt->new_string(std::string_view(buf, size_t(n)))));
    return;
  }
  std::string big(size_t(n) + 1, '\0');
  va_start(ap, fmt);
  std::vsnprintf(big.data(), big.size(), fmt, ap);
  va_end(ap);
  big.resize(size_t(n));
  raise_value(Value::object(rt->new_string(big)));
}

// The longest text of a non-string error value kept as its message.
constexpr uint64_t kMaxErrorText = 1 << 20;

void Thread::raise_value(Value v) {
  error = v;
  traceback = stack_trace();
}

std::string Thread::stack_trace() const {
  std::string out;
  size_t n = frames.size();
  for (size_t i = n; i-- > 0;) {
    if (frames[i].closure == nullptr) continue;
    size_t depth = n - 1 - i;
    if (n > 2 * kTracebackKeep + 1 && depth == kTracebackKeep) {
      out += "  ... " + std::to_string(n - 2 * kTracebackKeep) + " more frames ...\n";
      i = kTracebackKeep;
      continue;
    }
    append_frame(out, frames[i]);
  }
  return out;
}

std::string Thread::error_text() const {
  std::string s;
  // Bounded: the text of a shared DAG can dwarf the heap (format_value).
  if (!format_value(s, error, false, std::min<uint64_t>(kMaxErrorText, string_budget(*rt)))) s += " ...";
  return s;
}

void Thread::drop_error() {
  error = Value::nil();
  traceback.clear();
  if (raised_oom) {
    raised_oom = false;
    rt->heap().withdraw_out_of_memory();
  }
}

void Thread::set_guard() {
  guard_limit = stack_limit();
  sched::set_guard(this, g);
}

bool Thread::ensure_stack(size_t top) {
  if (top + kStackSlack <= stack_size) return true;
  size_t max = rt->options().max_stack;
  if (top + kStackSlack > max) {
    raise("stack overflow");
    return false;
  }
  size_t size = stack_size == 0 ? kInitialStack : stack_size;
  while (size < top + kStackSlack) size *= 2;
  if (size > max) size = max;
  Value* s = static_cast<Value*>(std::realloc(stack, size * sizeof(Value)));
  if (s == nullptr) {
    std::fprintf(stderr, "runtime: growing a VM stack from %zu to %zu values (%zu bytes)\n",
                 stack_size, size, size * sizeof(Value));
    fatal("interp: out of memory growing a VM stack");
  }
  for (size_t i = stack_size; i < size; i++) s[i] = Value::nil();
  stack = s;
  stack_size = size;
  Value* poisoned = stackguard.load(std::memory_order_relaxed);
  set_guard();
  // A pending stop survives growth.
  if (poisoned == kStackPoison) stackguard.store(kStackPoison, std::memory_order_relaxed);
  return true;
}

void Thread::grow_stack(size_t need) {
  size_t top = 0;
  if (!frames.empty()) {
    const Frame& f = frames.back();
    top = f.base + size_t(f.closure ? f.closure->proto->nregs : 0);
  }
  ensure_stack(top + need);
}

}  // namespace weft
