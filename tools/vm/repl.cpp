// The `vm` REPL: see repl.h.
#include "tools/vm/repl.h"

#include <fcntl.h>
#include <histedit.h>
#include <poll.h>
#include <termios.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <clocale>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <cwchar>
#include <string>

#include "tools/vm/signals.h"

namespace weft::tool {

namespace {

constexpr const char* kChunkName = "<repl>";
constexpr const char* kValueGlobal = "_repl_value";  // the last expression's value, wrapped in an array
constexpr int kHistorySize = 1000;

// The signal thread's way in (signals.h): Ctrl-C interrupts the code
// running, or wakes read_char through g_wake to abandon the entry.
std::atomic<bool> g_running{false};      // an entry is running (set by the REPL thread)
// read_char saw Ctrl-C (REPL thread only): as a signal (the terminal
// echoed ^C) or as a byte (we echo it).
enum class Interrupt { None, Signal, Byte };
Interrupt g_interrupted = Interrupt::None;
std::atomic<bool> g_stopped{false};      // the signal thread interrupted the running entry
int g_wake[2] = {-1, -1};                // a pipe; the signal thread writes one byte
bool g_continuing = false;               // the entry has lines already: the second prompt
termios g_saved_tty;                     // the terminal's mode before libedit's
bool g_have_tty = false;

const char* prompt(EditLine*) { return g_continuing ? "... " : "> "; }

// libedit's character source (EL_GETCFN): stdin, or the wake pipe. A
// Ctrl-C byte (libedit may leave ISIG off) counts as the signal would.
// Returns 1 with a character, 0 at end of input, -1 to end el_gets.
int read_char(EditLine*, wchar_t* wc) {
  mbstate_t st = {};
  for (;;) {
    pollfd fds[2] = {{0, POLLIN, 0}, {g_wake[0], POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (fds[1].revents & POLLIN) {
      char drain[64];
      while (read(g_wake[0], drain, sizeof drain) > 0) {
      }
      g_interrupted = Interrupt::Signal;
      return -1;
    }
    char c;
    ssize_t n = read(0, &c, 1);
    if (n == 0) return 0;
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return -1;
    }
    if (c == '\x03') {
      g_interrupted = Interrupt::Byte;
      return -1;
    }
    size_t r = std::mbrtowc(wc, &c, 1, &st);
    if (r == size_t(-2)) continue;  // a character of several bytes: read on
    if (r == size_t(-1)) {          // not valid in this locale: pass the byte on
      st = {};
      *wc = wchar_t(static_cast<unsigned char>(c));
    }
    return 1;
  }
}

std::string history_path() {
  const char* home = std::getenv("HOME");
  return home != nullptr && *home != '\0' ? std::string(home) + "/.weft_history" : "";
}

// Prints an expression's value: `[v]` as print writes it, without the
// brackets, so that strings show quoted. nil is not echoed.
void echo_value(VM& vm) {
  Result r = vm.get(kValueGlobal);
  std::optional<Handle> v = r.value.at(0);
  if (!v || v->is_nil()) return;
  std::string s = r.value.repr();
  if (s.size() >= 2) s = s.substr(1, s.size() - 2);
  std::printf("%s\n", s.c_str());
}

void evaluate(VM& vm, const std::string& text) {
  // An expression compiles inside brackets; a statement does not.
  std::string probe = std::string("let ") + kValueGlobal + " = [(" + text + ")]";
  bool expr = vm.check_source(kChunkName, probe).ok();
  g_stopped = false;
  g_running = true;
  Result r = vm.load_source(kChunkName, expr ? probe : text);
  g_running = false;
  std::fflush(stdout);
  if (g_stopped) std::fputs("\n", stderr);  // after the ^C the terminal echoed
  if (!r.ok()) {
    report(r);
    return;
  }
  if (expr) echo_value(vm);
  std::fflush(stdout);
}

void on_interrupt(VM* vm) {
  if (g_running) {
    g_stopped = true;
    vm->interrupt();
  } else {
    ssize_t ignored = write(g_wake[1], "x", 1);
    (void)ignored;
  }
}

void restore_tty() {
  if (g_have_tty) tcsetattr(0, TCSANOW, &g_saved_tty);
}

struct Editor {
  EditLine* el = nullptr;
  History* hist = nullptr;
  std::string path;

  explicit Editor(const char* argv0) : path(history_path()) {
    HistEvent ev;
    hist = history_init();
    history(hist, &ev, H_SETSIZE, kHistorySize);
    history(hist, &ev, H_SETUNIQUE, 1);
    if (!path.empty()) history(hist, &ev, H_LOAD, path.c_str());
    el = el_init(argv0, stdin, stdout, stderr);
    el_set(el, EL_EDITOR, "emacs");
    el_set(el, EL_PROMPT, prompt);
    el_set(el, EL_HIST, history, hist);
    el_set(el, EL_GETCFN, read_char);
    el_source(el, nullptr);  // the user's ~/.editrc, if any
  }
  ~Editor() {
    el_end(el);
    history_end(hist);
  }
  void remember(const std::string& line) {
    HistEvent ev;
    history(hist, &ev, H_ENTER, line.c_str());
    if (!path.empty()) history(hist, &ev, H_SAVE, path.c_str());
  }
};

}  // namespace

bool needs_more(const std::string& text) {
  int depth = 0;
  char last = 0;  // the last character outside strings and comments that is not a space
  for (size_t i = 0; i < text.size(); i++) {
    char c = text[i];
    if (c == '/' && i + 1 < text.size() && text[i + 1] == '/') {
      i = text.find('\n', i);
      if (i == std::string::npos) break;
      continue;
    }
    if (c == '/' && i + 1 < text.size() && text[i + 1] == '*') {
      size_t end = text.find("*/", i + 2);
      if (end == std::string::npos) return true;
      i = end + 1;
      continue;
    }
    if (c == '`') {
      size_t end = text.find('`', i + 1);
      if (end == std::string::npos) return true;
      i = end;
      last = c;
      continue;
    }
    if (c == '"') {  // an unterminated one is the compiler's to report
      for (i++; i < text.size() && text[i] != '"' && text[i] != '\n'; i++)
        if (text[i] == '\\') i++;
      last = c;
      continue;
    }
    if (c == '(' || c == '[' || c == '{') depth++;
    if (c == ')' || c == ']' || c == '}') depth--;
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r') last = c;
  }
  return depth > 0 || (last != 0 && std::strchr("+-*/%=<>&|^,.!~", last) != nullptr);
}

int run_repl(VM& vm, const char* argv0) {
  std::setlocale(LC_CTYPE, "");
  if (pipe2(g_wake, O_CLOEXEC | O_NONBLOCK) != 0) {
    std::perror("vm: pipe");
    return 1;
  }
  g_have_tty = tcgetattr(0, &g_saved_tty) == 0;
  set_exit_hook(restore_tty);
  set_interrupt_hook([&vm] { on_interrupt(&vm); });
  Editor ed(argv0);
  std::string entry;
  for (;;) {
    g_continuing = !entry.empty();
    g_interrupted = Interrupt::None;
    int count = 0;
    // The terminal goes to edit mode before the prompt shows: a key typed
    // once the prompt is visible (Ctrl-D above all, which cooked mode would
    // turn into an end-of-line marker) reaches libedit as typed.
    el_set(ed.el, EL_PREP_TERM, 1);
    const char* line = el_gets(ed.el, &count);
    el_set(ed.el, EL_PREP_TERM, 0);  // the entry's own reads see a cooked terminal
    if (g_interrupted != Interrupt::None) {  // Ctrl-C: abandon the entry
      std::fputs(g_interrupted == Interrupt::Byte ? "^C\n" : "\n", stdout);
      std::fflush(stdout);
      entry.clear();
      continue;
    }
    if (line == nullptr || count <= 0) break;  // Ctrl-D, or the terminal went away
    std::string l(line, size_t(count));
    if (!l.empty() && l.back() == '\n') l.pop_back();
    if (l.find_first_not_of(" \t\r") != std::string::npos) ed.remember(l);
    entry += l;
    entry += '\n';
    if (needs_more(entry)) continue;
    if (entry.find_first_not_of(" \t\r\n") != std::string::npos) evaluate(vm, entry);
    entry.clear();
  }
  std::fputs("\n", stdout);
  set_interrupt_hook(nullptr);
  set_exit_hook(nullptr);
  return 0;
}

}  // namespace weft::tool
