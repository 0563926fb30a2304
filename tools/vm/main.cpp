// The `vm` binary: parses the command line and drives the embedding API
// (docs/language.md#the-vm-command). All logic lives in the library;
// this file maps options to a Config, chooses where the script comes from
// (a file, -e, standard input, or the REPL on a terminal: repl.h), and maps
// results to messages and exit statuses: 0 ok, 1 usage or compile error,
// 2 runtime error or fatal error such as a deadlock (or a flag this build
// cannot honour), 128+N after signal N (signals.h), 141 when standard
// output's reader has gone (vm/lib/stdio.h).
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "tools/vm/repl.h"
#include "tools/vm/signals.h"
#include "weft/weft.h"

namespace {

constexpr size_t kStdoutBuffer = 64 * 1024;  // stdout's block buffer off a terminal: 16 pipe pages per write

constexpr const char* kUsage =
    "usage: vm [options] script.wf [args...]\n"
    "       vm [options] -e CODE [args...]\n"
    "       vm [options] - [args...]\n"
    "       vm [options]\n"
    "\n"
    "Runs a Weft script. Arguments after the script are the script's args().\n"
    "With `-`, or with no script while standard input is not a terminal, the\n"
    "script is read from standard input. With no script on a terminal, vm\n"
    "starts an interactive prompt (history in ~/.weft_history; Ctrl-C\n"
    "abandons the line or interrupts the code running, Ctrl-D ends).\n"
    "\n"
    "Exit status: 0 success, 1 compile error or bad command line, 2 runtime\n"
    "error or deadlock, os.exit's code, 128+N on signal N, 141 when standard\n"
    "output's reader has gone.\n"
    "\n"
    "options:\n"
    "  -e CODE           run CODE instead of a file (named -e in messages)\n"
    "  -                 read the script from standard input\n"
    "  --                end of options: the next argument is the script\n"
    "  --check           compile only; exit 0, or 1 on a compile error\n"
    "  --disasm          print the bytecode with lines and stack maps\n"
    "  --gc-percent N    collect when the heap grows by N% over live data, and\n"
    "                    not below 16 MiB * N/100 (default 100, like GOGC;\n"
    "                    'off' disables the pacer)\n"
    "  --gc-stress       collect at every safe-point that allocates\n"
    "  --gc-stress-minor the same in minor collections (a full one every 256);\n"
    "                    implies --gc-stress and --gc-generational\n"
    "  --gc-generational minor collections of young objects between full ones\n"
    "                    (the default where this build's bdwgc can: the one of\n"
    "                    tools/bdwgc.sh; env WEFT_GC_GENERATIONAL=0 turns it off)\n"
    "  --no-gc-generational  every collection a full one\n"
    "  --gc-markers N    mark each collection on N threads, 1 to 16 (default:\n"
    "                    env WEFT_GC_MARKERS, else the number of CPUs)\n"
    "  --procs N         run Weft code on up to N OS threads at once\n"
    "                    (default: env WEFT_PROCS, else the number of CPUs)\n"
    "  --heap-limit N    at most N bytes (K, M, G: KiB, MiB, GiB) of live data; a\n"
    "                    goroutine allocating beyond it raises `out of memory`\n"
    "  --gc-verify       after each collection, check that every object reachable\n"
    "                    from the roots was marked (fails loudly otherwise)\n"
    "  --no-async-preempt  stop goroutines only at calls and allocations (like\n"
    "                    GODEBUG=asyncpreemptoff=1; loops without calls then\n"
    "                    hold their thread until they end)\n"
    "  --preempt-stress  preempt every running goroutine about every 50 us\n"
    "  --trace=gc        print one line per collection to stderr\n"
    "  --trace=sched     print the scheduler's state once a second to stderr\n"
    "                    (--trace=gc,sched: both)\n"
    "  --version         print the version and exit\n"
    "  --help            print this help and exit\n";

enum class Mode { Run, Check, Disasm };
enum class Source { File, Inline, Stdin, Repl };  // where the script comes from

struct Options {
  Mode mode = Mode::Run;
  weft::Config config;
  Source source = Source::File;
  std::string script;  // a path, or the code of -e
  int gc_markers = 0;  // --gc-markers; 0: weft's default (process-wide, so not in Config)
  int gc_generational = -1;  // 1 --gc-generational, 0 --no-gc-generational, -1 the default (process-wide)
};

[[noreturn]] void usage_error(const std::string& msg) {
  std::fprintf(stderr, "vm: %s (see vm --help)\n", msg.c_str());
  std::exit(1);
}

// A WEFT_NO_GUARD build (CMakeLists.txt: benchmarks only) has no
// synchronous poll, so it refuses the flags that need one rather than hang
// or ignore them: --gc-stress and --heap-limit are honoured only by the
// poll, and --no-async-preempt would leave nothing to stop a goroutine.
#ifdef WEFT_NO_GUARD
constexpr bool kNoGuard = true;
#else
constexpr bool kNoGuard = false;
#endif

void refuse_without_guard(std::string_view flag) {
  if (!kNoGuard) return;
  std::fprintf(stderr, "vm: %.*s needs the synchronous guard, which this build leaves out (WEFT_NO_GUARD)\n",
               int(flag.size()), flag.data());
  std::exit(2);
}

int parse_gc_percent(const std::string& s) {
  if (s == "off") return -1;
  char* end = nullptr;
  errno = 0;
  long v = std::strtol(s.c_str(), &end, 10);
  if (s.empty() || *end != '\0' || errno != 0 || v < 1 || v > 1000000)
    usage_error("invalid --gc-percent value '" + s + "', expected an integer >= 1 or off");
  return int(v);
}

// A byte count with an optional K, M or G (powers of 1024): 64M.
uint64_t parse_heap_limit(const std::string& s) {
  char* end = nullptr;
  errno = 0;
  unsigned long long v = std::strtoull(s.c_str(), &end, 10);
  int shift = 0;
  if (*end == 'K' || *end == 'k') shift = 10;
  else if (*end == 'M' || *end == 'm') shift = 20;
  else if (*end == 'G' || *end == 'g') shift = 30;
  if (shift != 0) end++;
  if (s.empty() || s[0] == '-' || *end != '\0' || errno != 0 || v == 0 || v > (1ull << 50) >> shift)
    usage_error("invalid --heap-limit value '" + s + "', expected a size such as 65536, 512K, 64M or 2G");
  return uint64_t(v) << shift;
}

int parse_gc_markers(const std::string& s) {
  char* end = nullptr;
  errno = 0;
  long v = std::strtol(s.c_str(), &end, 10);
  if (s.empty() || *end != '\0' || errno != 0 || v < 1 || v > 16)
    usage_error("invalid --gc-markers value '" + s + "', expected an integer from 1 to 16");
  return int(v);
}

int parse_procs(const std::string& s) {
  char* end = nullptr;
  errno = 0;
  long v = std::strtol(s.c_str(), &end, 10);
  if (s.empty() || *end != '\0' || errno != 0 || v < 1 || v > 1024)
    usage_error("invalid --procs value '" + s + "', expected an integer from 1 to 1024");
  return int(v);
}

// Takes an option's value: "--opt=V" or "--opt V".
std::string option_value(int argc, char** argv, int& i, std::string_view arg, std::string_view name) {
  if (arg.size() > name.size() && arg[name.size()] == '=') return std::string(arg.substr(name.size() + 1));
  if (i + 1 >= argc) usage_error("option '" + std::string(name) + "' needs a value");
  return argv[++i];
}

bool has_option(std::string_view arg, std::string_view name) {
  return arg == name || (arg.size() > name.size() && arg.substr(0, name.size()) == name && arg[name.size()] == '=');
}

Options parse(int argc, char** argv) {
  Options o;
  o.config.enable_all();  // the command runs the user's own scripts: no sandbox (docs/embedding.md#sandboxes)
  int i = 1;
  for (; i < argc; i++) {
    std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      std::exit(0);
    } else if (arg == "--version") {
      std::printf("%s\n", weft::version());
      std::exit(0);
    } else if (arg == "--check") {
      o.mode = Mode::Check;
    } else if (arg == "--disasm") {
      o.mode = Mode::Disasm;
    } else if (arg == "--gc-stress") {
      refuse_without_guard(arg);
      o.config.gc_stress = true;
    } else if (arg == "--gc-stress-minor") {
      refuse_without_guard(arg);
      o.config.gc_stress = o.config.gc_stress_minor = true;
      o.gc_generational = 1;
    } else if (arg == "--gc-generational") {
      o.gc_generational = 1;
    } else if (arg == "--no-gc-generational") {
      o.gc_generational = 0;
    } else if (has_option(arg, "--gc-percent")) {
      o.config.gc_percent = parse_gc_percent(option_value(argc, argv, i, arg, "--gc-percent"));
    } else if (has_option(arg, "--heap-limit")) {
      refuse_without_guard("--heap-limit");
      o.config.heap_limit = parse_heap_limit(option_value(argc, argv, i, arg, "--heap-limit"));
    } else if (arg == "--gc-verify") {
      o.config.gc_verify = true;
    } else if (arg == "--no-async-preempt") {
      refuse_without_guard(arg);
      o.config.async_preempt = false;
    } else if (arg == "--preempt-stress") {
      o.config.preempt_stress = true;
    } else if (has_option(arg, "--trace")) {
      std::string list = option_value(argc, argv, i, arg, "--trace");
      for (size_t at = 0; at <= list.size();) {
        size_t comma = std::min(list.find(',', at), list.size());
        std::string what = list.substr(at, comma - at);
        if (what == "gc") o.config.trace_gc = true;
        else if (what == "sched") o.config.trace_sched = true;
        else usage_error("unknown trace '" + what + "', expected gc or sched");
        at = comma + 1;
      }
    } else if (has_option(arg, "--gc-markers")) {
      o.gc_markers = parse_gc_markers(option_value(argc, argv, i, arg, "--gc-markers"));
    } else if (has_option(arg, "--procs")) {
      o.config.procs = parse_procs(option_value(argc, argv, i, arg, "--procs"));
    } else if (arg == "-e") {
      if (i + 1 >= argc) usage_error("option '-e' needs code");
      o.source = Source::Inline;
      o.script = argv[++i];
      i++;
      break;
    } else if (arg == "-") {
      o.source = Source::Stdin;
      i++;
      break;
    } else if (arg == "--") {
      i++;
      break;
    } else if (arg.size() > 1 && arg[0] == '-') {
      usage_error("unknown option '" + std::string(arg) + "'");
    } else {
      break;
    }
  }
  if (o.source == Source::File) {
    if (i < argc) o.script = argv[i++];
    else o.source = isatty(0) == 1 ? Source::Repl : Source::Stdin;
  }
  if (o.source == Source::Repl && o.mode != Mode::Run) usage_error("no script given");
  for (; i < argc; i++) o.config.args.push_back(argv[i]);
  return o;
}

// Writes text to stderr, ending it with a newline if it lacks one.
void put_lines(const std::string& text) {
  if (text.empty()) return;
  std::fwrite(text.data(), 1, text.size(), stderr);
  if (text.back() != '\n') std::fputc('\n', stderr);
}

// Reads all of standard input (vm -): the script.
bool read_stdin(std::string* code) {
  char buf[65536];
  for (;;) {
    ssize_t n = read(0, buf, sizeof buf);
    if (n > 0) code->append(buf, size_t(n));
    else if (n == 0) return true;
    else if (errno != EINTR) return false;
  }
}

bool g_stdout_broken = false;  // a flush of ours found stdout's reader gone (main thread)

// Flushes standard output; notes a reader that has gone.
void flush_stdout() {
  errno = 0;
  if (std::fflush(stdout) != 0 && errno == EPIPE) g_stdout_broken = true;
}

// The exit status once standard output is flushed: 141 if its reader has
// gone (vm/lib/stdio.h), whatever else happened.
int finish(int status) {
  flush_stdout();
  return g_stdout_broken ? 128 + SIGPIPE : status;
}

int run(const Options& o, weft::VM& vm, const std::string& name, const std::string& code) {
  weft::Result r;
  switch (o.mode) {
    case Mode::Run: r = vm.run_source(name, code); break;
    case Mode::Check: r = vm.check_source(name, code); break;
    case Mode::Disasm: {
      std::string listing;
      r = vm.disassemble_source(name, code, &listing);
      std::fwrite(listing.data(), 1, listing.size(), stdout);
      break;
    }
  }
  return weft::tool::report(r);
}

}  // namespace

namespace weft::tool {

// Writes a failed result as README.md#the-language-in-brief says (errors)
// and README.md#command-line (exit status); returns the exit status.
int report(const weft::Result& r) {
  flush_stdout();
  switch (r.kind) {
    case weft::Result::Ok: return 0;
    case weft::Result::Io:
    case weft::Result::Misuse: std::fprintf(stderr, "vm: %s\n", r.message.c_str()); return 1;
    case weft::Result::Compile: put_lines(r.message); return 1;
    case weft::Result::Runtime:
      put_lines("runtime error: " + r.message);
      put_lines(r.traceback);
      return 2;
    case weft::Result::Deadlock:
      put_lines("fatal error: " + r.message);
      put_lines(r.traceback);  // the blocked goroutines
      return 2;
    case weft::Result::Exit: return r.exit_code;  // (os.exit ends this process first: enable_all)
  }
  return 1;
}

}  // namespace weft::tool

int main(int argc, char** argv) {
  weft::tool::install_signals();  // first: every thread inherits its mask
  Options o = parse(argc, argv);
  if (o.gc_markers != 0) (void)weft::set_gc_markers(o.gc_markers);  // before the VM: always taken
  if (o.gc_generational == 0) (void)weft::set_gc_generational(false);
  if (o.gc_generational == 1 && !weft::set_gc_generational(true))
    std::fprintf(stderr, "vm: generational collections need the bdwgc of tools/bdwgc.sh; collecting in full\n");
  static char stdout_buffer[kStdoutBuffer];  // glibc ignores the size unless given the buffer
  if (isatty(1) != 1) setvbuf(stdout, stdout_buffer, _IOFBF, sizeof stdout_buffer);
  std::string code;
  std::string name = o.script;
  if (o.source == Source::Inline) {
    name = "-e";
    code = o.script;
  } else if (o.source == Source::Stdin) {
    name = "<stdin>";
    if (!read_stdin(&code)) {
      std::fprintf(stderr, "vm: cannot read the script from standard input: %s\n", std::strerror(errno));
      return 1;
    }
  } else if (o.source == Source::File) {
    if (weft::Result r = weft::VM::read_file(o.script, &code); !r.ok()) return weft::tool::report(r);
  }
  int status;
  {
    // A script's top-level lets are read by nobody after it: registers.
    o.config.private_top_level = o.source != Source::Repl;
    weft::VM vm(o.config);
    status = o.source == Source::Repl ? weft::tool::run_repl(vm, argv[0]) : run(o, vm, name, code);
  }
  return finish(status);
}
