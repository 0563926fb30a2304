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

int GlobalTable::find(std::string_view name) const {
  std::lock_guard lk(mu_);
  auto it = index_.find(std::string(name));
  return it == index_.end() ? -1 : it->second;
}

std::vector<std::string> GlobalTable::names() const {
  std::lock_guard lk(mu_);
  return names_;
}

int GlobalTable::define(std::string_view name) {
  std::lock_guard lk(mu_);
  auto it = index_.find(std::string(name));
  if (it != index_.end()) return it->second;
  size_t slot = size_.load(std::memory_order_relaxed);
  if (slot >= kMaxGlobals) return -1;
  slots_[slot] = Value::nil();
  names_.emplace_back(name);
  index_.emplace(std::string(name), int(slot));
  size_.store(slot + 1, std::memory_order_release);
  return int(slot);
}

}  // namespace weft
