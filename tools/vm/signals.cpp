// The `vm` binary's signal thread: see signals.h.
#include "tools/vm/signals.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <mutex>
#include <thread>

namespace weft::tool {

namespace {

std::mutex g_mu;                       // guards the hooks
std::function<void()> g_interrupt;     // under g_mu
std::function<void()> g_exit;          // under g_mu

sigset_t handled_set() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  return set;
}

void ignore_signal(int) {}

// Ends the process by `sig` after flushing: its default action, unblocked
// in this thread only, then raised at this thread.
[[noreturn]] void die_by(int sig) {
  std::fflush(stdout);  // a broken pipe here changes nothing: we die of sig anyway
  std::fflush(stderr);
  {
    std::lock_guard lk(g_mu);
    if (g_exit) g_exit();
  }
  struct sigaction dfl = {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  sigaction(sig, &dfl, nullptr);
  sigset_t one;
  sigemptyset(&one);
  sigaddset(&one, sig);
  pthread_sigmask(SIG_UNBLOCK, &one, nullptr);
  raise(sig);
  _exit(128 + sig);  // not reached: the default action of all three ends the process
}

void signal_thread() {
  sigset_t set = handled_set();
  for (;;) {
    int sig = 0;
    if (sigwait(&set, &sig) != 0) continue;
    if (sig == SIGINT) {
      std::function<void()> hook;
      {
        std::lock_guard lk(g_mu);
        hook = g_interrupt;
      }
      if (hook) {
        hook();
        continue;
      }
    }
    die_by(sig);
  }
}

}  // namespace

void install_signals() {
  struct sigaction sa = {};
  sa.sa_handler = ignore_signal;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGPIPE, &sa, nullptr);
  sigset_t set = handled_set();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::thread(signal_thread).detach();
}

void set_interrupt_hook(std::function<void()> hook) {
  std::lock_guard lk(g_mu);
  g_interrupt = std::move(hook);
}

void set_exit_hook(std::function<void()> hook) {
  std::lock_guard lk(g_mu);
  g_exit = std::move(hook);
}

}  // namespace weft::tool
