// The global table (see vm/interp/globals.h).
#include "vm/interp/globals.h"

#include <sys/mman.h>

#include <mutex>

#include "vm/core/fatal.h"

namespace weft {

GlobalTable::GlobalTable() {
  void* p = mmap(nullptr, kMaxGlobals * sizeof(Value), PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) fatal("interp: cannot reserve address space for the global table");
  slots_ = static_cast<Value*>(p);
}

GlobalTable::~GlobalTable() { munmap(slots_, kMaxGlobals * sizeof(Value)); }

namespace {

// index_'s key: the name itself in namespace 0, else a NUL (which no
// script name holds), the namespace's digits, a NUL, the name.
std::string key(std::string_view name, uint32_t ns) {
  if (ns == 0) return std::string(name);
  std::string k(1, '\0');
  k += std::to_string(ns);
  k += '\0';
  k += name;
  return k;
}

}  // namespace

int GlobalTable::find(std::string_view name, uint32_t ns) const {
  std::lock_guard lk(mu_);
  auto it = index_.find(key(name, ns));
  return it == index_.end() ? -1 : it->second;
}

void GlobalTable::mark_shared(int slot) {
  std::lock_guard lk(mu_);
  shared_[size_t(slot)] = true;
}

int GlobalTable::find_shared(std::string_view name) const {
  std::lock_guard lk(mu_);
  auto it = index_.find(std::string(name));
  return it != index_.end() && shared_[size_t(it->second)] ? it->second : -1;
}

std::vector<std::string> GlobalTable::names() const {
  std::lock_guard lk(mu_);
  return names_;
}

int GlobalTable::define(std::string_view name, uint32_t ns) {
  std::lock_guard lk(mu_);
  std::string k = key(name, ns);
  auto it = index_.find(k);
  if (it != index_.end()) return it->second;
  size_t slot = size_.load(std::memory_order_relaxed);
  if (slot >= kMaxGlobals) return -1;
  slots_[slot] = Value::nil();
  names_.emplace_back(name);
  shared_.push_back(false);
  index_.emplace(std::move(k), int(slot));
  size_.store(slot + 1, std::memory_order_release);
  return int(slot);
}

}  // namespace weft
