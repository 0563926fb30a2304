// The io module (docs/language.md, "Standard modules"): writing without a
// newline, standard error, flushing, and reading standard input by bytes.
// Where the bytes go and come from, and the buffering rules, are
// vm/lib/stdio.h's: these natives only format and convert.
#include <string>

#include "vm/interp/runtime.h"
#include "vm/lib/io.h"
#include "vm/lib/stdio.h"

namespace weft::lib {

namespace {

Value string_value(Runtime& rt, std::string_view s) { return Value::object(rt.new_string(s)); }

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
  out_write(t->rt->options().out, format_all(args, n, "", ""));
  return Value::nil();
}

Value io_eprint(Thread* t, Value* args, int n) {
  out_write(t->rt->options().err, format_all(args, n, " ", "\n"));
  return Value::nil();
}

Value io_ewrite(Thread* t, Value* args, int n) {
  out_write(t->rt->options().err, format_all(args, n, "", ""));
  return Value::nil();
}

Value io_flush(Thread* t, Value*, int) {
  out_flush(t->rt->options().out);
  return Value::nil();
}

Value io_read(Thread* t, Value* args, int) {
  if (!is_int(args[0])) {
    t->raise("io.read: argument 1 must be an int, got %s", type_name(args[0]));
    return Value::empty();
  }
  int64_t n = int_of(args[0]);
  if (n < 0) {
    t->raise("io.read: argument 1 must not be negative, got %lld", static_cast<long long>(n));
    return Value::empty();
  }
  std::optional<std::string> s = read_bytes(t->rt->options().out, size_t(n));
  if (!s) return Value::nil();
  return string_value(*t->rt, *s);
}

Value io_read_all(Thread* t, Value*, int) {
  return string_value(*t->rt, read_all(t->rt->options().out));
}

}  // namespace

const IoNative kIoNatives[] = {
    {"write", io_write, "*"},   {"eprint", io_eprint, "*"}, {"ewrite", io_ewrite, "*"},
    {"flush", io_flush, ""},    {"read", io_read, "i"},     {"read_all", io_read_all, ""},
};
const size_t kIoNativeCount = std::size(kIoNatives);

}  // namespace weft::lib
