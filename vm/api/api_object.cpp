// Host objects' and function values' finalization: the registry between
// bdwgc's finalizer thread (vm/gc/finalize.h) and the VMs.
//
// Model. Each finalizable value (a host object whose type has a finalizer,
// a function value's native) has one entry, keyed by a cookie that bdwgc
// hands back once the value is unreachable. Whoever takes the entry out of
// the registry runs it, exactly once: the finalizer thread (the value
// died), or the VM's destructor (finalize_all: it was alive, or queued and
// not yet run, when its VM went away). A cookie that finds no entry is a
// value whose VM was destroyed first: nothing to do, and nothing of that
// VM is touched (its entries are gone, and the hook never reads the
// object). Cookies are never reused, so a late cookie cannot name a newer
// object at the same address.
//
// Destruction waits for the finalizers of its VM that the finalizer thread
// has taken and is running (`running`), so none runs after ~VM returns.
//
// Lock: g_mu (rank Leaf) guards the registry; no finalizer runs under it,
// and nothing is allocated under it.
#include <condition_variable>
#include <unordered_map>

#include "vm/api/host.h"
#include "vm/gc/finalize.h"

namespace weft::detail {

namespace {

struct Entry {
  HostState* owner = nullptr;
  std::shared_ptr<HostTypeInfo> type;  // a host object: type->finalizer(data)
  void* data = nullptr;
  std::unique_ptr<HostNative> fn;      // a function value: destroyed
  // A finalizer that throws has nowhere to report to: the exception stops
  // at it (docs/embedding.md#host-objects says not to).
  void run() noexcept {
    try {
      if (fn != nullptr) fn.reset();
      else if (type != nullptr && type->finalizer) type->finalizer(data);
    } catch (...) {
    }
  }
};

// Never destroyed: the finalizer thread may use it until the process ends.
struct Registry {
  Mutex mu{LockRank::Leaf};
  std::condition_variable_any done;               // a running finalizer finished
  std::unordered_map<uintptr_t, Entry> entries;   // by cookie
  std::unordered_map<const HostState*, int> running;  // taken by the finalizer thread, not finished
  uintptr_t next_cookie = 1;
};

Registry& registry() {
  static Registry* r = new Registry();
  return *r;
}

// The finalizer thread's hook (vm/gc/finalize.h).
void on_unreachable(uintptr_t cookie) {
  Registry& r = registry();
  Entry e;
  {
    std::lock_guard lk(r.mu);
    auto it = r.entries.find(cookie);
    if (it == r.entries.end()) return;  // its VM was destroyed first
    e = std::move(it->second);
    r.entries.erase(it);
    r.running[e.owner]++;
  }
  const HostState* owner = e.owner;
  e.run();
  e = Entry();  // what it held (the type, a native's captures) goes before the VM may
  std::lock_guard lk(r.mu);
  if (--r.running[owner] == 0) r.running.erase(owner);
  r.done.notify_all();
}

}  // namespace

void add_finalizer(const Obj* obj, HostState* owner, std::shared_ptr<HostTypeInfo> type, void* data,
                   std::unique_ptr<HostNative> fn) {
  static const bool hooked = (gc::set_finalizer_hook(on_unreachable), true);
  (void)hooked;
  Registry& r = registry();
  uintptr_t cookie;
  {
    std::lock_guard lk(r.mu);
    cookie = r.next_cookie++;
    r.entries.emplace(cookie, Entry{owner, std::move(type), data, std::move(fn)});
  }
  gc::register_finalizer(obj, cookie);
}

void finalize_all(HostState* owner) {
  Registry& r = registry();
  std::vector<Entry> mine;
  {
    std::unique_lock lk(r.mu);
    r.done.wait(lk, [&] { return r.running.find(owner) == r.running.end(); });
    for (auto it = r.entries.begin(); it != r.entries.end();) {
      if (it->second.owner != owner) {
        ++it;
        continue;
      }
      mine.push_back(std::move(it->second));
      it = r.entries.erase(it);
    }
  }
  for (Entry& e : mine) e.run();
}

}  // namespace weft::detail
