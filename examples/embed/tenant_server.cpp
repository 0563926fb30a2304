// Teaches: many VMs at once. A server keeps one VM per tenant (its own
// globals, goroutines, heap limit and output) and serves requests on 8
// host threads; any thread may call any tenant's VM, and all of them run
// goroutines at the same time. One tenant's failing request, and another's
// request stopped by its deadline, touch no other tenant. (A deadline ends
// its VM's whole run, so tenant 2's other requests wait until it passed.)
// (docs/embedding.md#many-vms)
//
//   tenant_server tenant_server.wf
#include <atomic>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "weft/weft.h"

namespace {

constexpr int kTenants = 6, kThreads = 8, kRequests = 600;
const char* const kItems[] = {"apple", "bread", "cheese", "dates"};

// The request's lines: [item, quantity] pairs, made up from its number.
weft::Arg request_lines(int n) {
  std::vector<weft::Arg> lines;
  for (int k = 0; k <= n % 3; k++) lines.push_back(weft::Arg::array({kItems[(n + k) % 4], 1 + (n + k) % 5}));
  return weft::Arg::array(std::move(lines));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: tenant_server tenant_server.wf\n");
    return 1;
  }
  // One VM per tenant, each with the host's `price` native (tenant t pays
  // t + 1 per unit) and its own limits.
  std::vector<std::unique_ptr<weft::VM>> tenants;
  for (int t = 0; t < kTenants; t++) {
    weft::Config config;
    config.procs = 2;                  // each tenant's goroutines: at most 2 threads at once
    config.heap_limit = 64u << 20;     // this tenant's live data, whatever the others hold
    auto vm = std::make_unique<weft::VM>(config);
    vm->define({"price", [t](weft::NativeCall&) -> weft::Arg { return t + 1; }, 1, 1});
    weft::Result r = vm->load_file(argv[1]);
    if (!r.ok()) {
      std::fprintf(stderr, "%s\n", r.message.c_str());
      return 1;
    }
    tenants.push_back(std::move(vm));
  }
  // 8 threads take requests from one counter; request n goes to tenant n % kTenants.
  std::atomic<int> next{0};
  std::atomic<bool> deadline_passed{false};
  std::vector<int64_t> revenue(kTenants, 0);
  std::mutex mu;
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; i++) {
    threads.emplace_back([&] {
      for (int n; (n = next.fetch_add(1)) < kRequests;) {
        int t = n % kTenants;
        while (t == 2 && !deadline_passed.load()) std::this_thread::yield();
        weft::Result r = tenants[size_t(t)]->call("handle", {request_lines(n)});
        std::lock_guard lk(mu);
        if (r.ok()) revenue[size_t(t)] += *r.value.to_int();
        else std::fprintf(stderr, "tenant %d: %s\n", t, r.message.c_str());
      }
    });
  }
  // Meanwhile: a bad request for tenant 1 fails alone, and tenant 2's stuck
  // request is stopped by its deadline (the whole run of tenant 2's VM, no
  // other).
  weft::Result bad = tenants[1]->call("handle", {"apple"});
  std::printf("tenant 1, bad request: %s: %s\n", weft::to_string(bad.kind), bad.message.c_str());
  weft::Result slow = tenants[2]->call_for(50'000'000, "stuck");
  deadline_passed = true;
  std::printf("tenant 2, stuck request: %s: %s\n", weft::to_string(slow.kind), slow.message.c_str());
  for (auto& th : threads) th.join();
  for (int t = 0; t < kTenants; t++) {
    weft::Result s = tenants[size_t(t)]->call("summary");
    std::printf("tenant %d: revenue %lld, %s\n", t, static_cast<long long>(revenue[size_t(t)]),
                s.ok() ? s.value.to_string()->c_str() : s.message.c_str());
  }
}
