// The embedding API (include/weft/weft.h) on top of weft::Runtime.
//
// A thin layer: it translates Config into RuntimeOptions and heap settings,
// reads files, and turns the runtime's Status into the public Result. Host
// misuse (a file that cannot be read) is a Result too, of kind Io.
#include "weft/weft.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "vm/runtime.h"

namespace weft {

struct VM::Impl {
  explicit Impl(const Config& c) : rt(options(c)) {
    rt.heap().set_gc_stress(c.gc_stress);
    if (c.trace_gc) rt.heap().set_trace(stderr);
  }
  static RuntimeOptions options(const Config& c) {
    RuntimeOptions o;
    o.gc_percent = c.gc_percent;
    o.gc_stress = c.gc_stress;
    o.args = c.args;
    o.procs = c.procs;
    o.trace_sched = c.trace_sched;
    o.async_preempt = c.async_preempt;
    o.preempt_stress = c.preempt_stress;
    o.time_slice_ns = c.time_slice_ns;
    o.gc_verify = c.gc_verify;
    o.heap_limit = c.heap_limit;
    return o;
  }
  Runtime rt;
};

namespace {

Result to_result(Status s) {
  Result r;
  switch (s.kind) {
    case Status::Ok: r.kind = Result::Ok; break;
    case Status::CompileError: r.kind = Result::Compile; break;
    case Status::RuntimeError: r.kind = Result::Runtime; break;
    case Status::Fatal: r.kind = Result::Fatal; break;
  }
  r.message = std::move(s.message);
  r.traceback = std::move(s.traceback);
  return r;
}

}  // namespace

VM::VM(Config config) : impl_(std::make_unique<Impl>(config)) {}
VM::~VM() = default;

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

Result VM::run_source(std::string_view name, std::string_view code) {
  return to_result(impl_->rt.run(name, code));
}

Result VM::run_file(const std::string& path) {
  std::string code;
  Result r = read_file(path, &code);
  return r.ok() ? run_source(path, code) : r;
}

Result VM::check_source(std::string_view name, std::string_view code) {
  Proto* main = nullptr;
  return to_result(impl_->rt.compile(name, code, &main));
}

Result VM::check_file(const std::string& path) {
  std::string code;
  Result r = read_file(path, &code);
  return r.ok() ? check_source(path, code) : r;
}

Result VM::disassemble_source(std::string_view name, std::string_view code, std::string* listing) {
  Proto* main = nullptr;
  Result r = to_result(impl_->rt.compile(name, code, &main));
  if (r.ok() && main != nullptr) *listing = disassemble(*main);
  return r;
}

Result VM::disassemble_file(const std::string& path, std::string* listing) {
  std::string code;
  Result r = read_file(path, &code);
  return r.ok() ? disassemble_source(path, code, listing) : r;
}

GcStats VM::gc_stats() const {
  const gc::Stats& s = impl_->rt.heap().stats();
  GcStats g;
  g.collections = s.collections;
  g.heap_bytes = s.heap_bytes;
  g.live_bytes = s.live_bytes;
  g.total_allocated = s.total_allocated;
  g.last_pause_ns = s.last_pause_ns;
  g.max_pause_ns = s.max_pause_ns;
  g.total_pause_ns = s.total_pause_ns;
  return g;
}

const char* version() { return "weft " WEFT_VERSION; }

}  // namespace weft
