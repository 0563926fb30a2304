// The io module (docs/language.md#io): writing without a
// newline, standard error, flushing, and reading standard input by bytes.
// Where the bytes go and come from, and the buffering rules, are
// vm/lib/stdio.h's: these natives only format and convert.
#include <string>

#include "vm/lib/lib.h"
#include "vm/lib/stdio.h"

namespace weft::lib {

namespace {

// Each value as print writes it; `sep` between them, `end` after.
std::string format_all(const Value* args, int n, const char* sep, const char* end) {
  std::string s;
  for (int i = 0; i < n; i++) {
    if (i > 0) s += sep;
    format_value(s, args[i], false);
  }
  s += end;
  return s;
}

Value io_write(Thread* t, Value* args, int n) {
  out_write(t->rt->options().out, format_all(args, n, "", ""), t->rt->options().broken_pipe_exits);
  return Value::nil();
}

Value io_eprint(Thread* t, Value* args, int n) {
  out_write(t->rt->options().err, format_all(args, n, " ", "\n"), t->rt->options().broken_pipe_exits);
  return Value::nil();
}

Value io_ewrite(Thread* t, Value* args, int n) {
  out_write(t->rt->options().err, format_all(args, n, "", ""), t->rt->options().broken_pipe_exits);
  return Value::nil();
}

Value io_flush(Thread* t, Value*, int) {
  out_flush(t->rt->options().out, t->rt->options().broken_pipe_exits);
  return Value::nil();
}

Value io_read(Thread* t, Value* args, int) {
  int64_t n = int_of(args[0]);
  if (n < 0) {
    t->raise("io.read: argument 1 must not be negative, got %lld", static_cast<long long>(n));
    return Value::empty();
  }
  if (!stdin_enabled(t, "io.read")) return Value::empty();
  std::optional<std::string> s = read_bytes(t->rt->options().out, size_t(n), t->rt->options().broken_pipe_exits);
  if (!s) return Value::nil();
  return str(*t->rt, *s);
}

Value io_read_all(Thread* t, Value*, int) {
  if (!stdin_enabled(t, "io.read_all")) return Value::empty();
  return str(*t->rt, read_all(t->rt->options().out, t->rt->options().broken_pipe_exits));
}

constexpr Fn kFns[] = {
    {"write", io_write, "*"},   {"eprint", io_eprint, "*"}, {"ewrite", io_ewrite, "*"},
    {"flush", io_flush, ""},    {"read", io_read, "i"},     {"read_all", io_read_all, ""},
};

constexpr char kName[] = "io";

}  // namespace

extern const Module kIoModule = make_module<kName, kFns>();

}  // namespace weft::lib
