// A table of named globals: the one place global slots are defined, looked
// up and stored (the compiler through CompileEnv, the interpreter's
// GETGLOBAL/SETGLOBAL, the embedding API, builtins).
//
// Model. Slots are dense indices, defined once and never reused or moved:
// the values live in one address range reserved up front for kMaxGlobals
// values (MAP_NORESERVE: only touched pages cost memory), so the
// interpreter may cache the base pointer while other code defines more.
// A slot index is an instruction operand of up to 24 bits (GETGLOBALX's
// EXTRA word, vm/interp/opcodes.h), and define() refuses to go beyond it,
// so no index can wrap onto another global or a builtin.
//
// Namespaces. A Runtime has one table; each file module's globals live
// in a namespace of their own (ns > 0), the main script's, the builtins'
// and the embedding host's in namespace 0. A name is a slot per namespace,
// so two modules' `count` are two slots, and GETGLOBAL stays one load from
// one base pointer. Slots set from outside the compiler (builtins, host
// values: set_global, mark_shared) are `shared`: module code compiled in
// another namespace still sees them (vm/lib/imports.cpp decides).
//
// Rejected: a std::vector (it moves when it grows, under goroutines that
// read it; it did, past 65,536 globals), chunked storage (every global
// access would pay a second indirection), and a table per module (the
// interpreter would load G from the running closure at every call and
// return, and the collector would walk a list of tables).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "vm/core/lockrank.h"
#include "vm/core/value.h"

namespace weft {

constexpr size_t kMaxGlobals = size_t(1) << 24;  // the EXTRA word's 24-bit operand

class GlobalTable {
 public:
  GlobalTable();   // reserves the address range; fatal() if it cannot
  ~GlobalTable();
  GlobalTable(const GlobalTable&) = delete;
  GlobalTable& operator=(const GlobalTable&) = delete;

  // The slot of `name` in namespace ns, or -1. Any thread (takes mu_).
  int find(std::string_view name, uint32_t ns = 0) const;
  // The slot of `name` in namespace ns, defining it as nil if needed; -1
  // once the table holds kMaxGlobals. Any thread (takes mu_); a slot is nil
  // and readable before its index is published.
  int define(std::string_view name, uint32_t ns = 0);
  // A namespace-0 slot every namespace may see (a builtin, a host value).
  void mark_shared(int slot);
  // The shared slot named `name`, or -1.
  int find_shared(std::string_view name) const;
  // Slot storage: stable for the table's life. Reads and writes of
  // defined slots need no lock (racing goroutines see some written value).
  Value* slots() const { return slots_; }
  Value& operator[](size_t slot) { return slots_[slot]; }
  size_t size() const { return size_.load(std::memory_order_acquire); }
  // Every name, by slot, without its namespace (a copy; takes mu_).
  std::vector<std::string> names() const;

 private:
  Value* slots_ = nullptr;                    // kMaxGlobals reserved; GC roots up to size()
  std::atomic<size_t> size_{0};               // defined slots; written under mu_
  mutable Mutex mu_{LockRank::Globals};       // guards index_ and names_
  std::unordered_map<std::string, int> index_;
  std::vector<std::string> names_;            // names_[slot]
  std::vector<bool> shared_;                  // shared_[slot]: see mark_shared
};

}  // namespace weft
