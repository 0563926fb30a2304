// The write barrier of generational collections (issue 19; vm/gc/README.md).
//
// Model. With generational collections on, bdwgc keeps mark bits between
// collections: a marked object is old, and a minor collection rescans an
// old object only when its page is dirty (bdwgc's manual dirty bits,
// GC_end_stubborn_change). So every store of a value that may refer to an
// object into a pointer-bearing heap object (an array's items or store, a
// map's data or entries, a cell, a closure's upvalues, a native's data, a
// channel's buffer) is followed by gc::write_barrier(where), `where` being
// the written slot or the object holding it, before the code reaches a
// safe-point. Pointer-free (atomic) objects need none; neither do roots
// (VM registers, globals, host handles: pushed whole at every collection).
//
// When a barrier may be left out: stores into an object made since the
// last safe-point (a native's fresh result: no collection can run between
// its allocation and its stores). An interpreter instruction preempted
// between an allocation and its stores is covered by bdwgc itself: every
// object a root points to is marked and dirtied for the next collection
// (GC_mark_and_push_stack), so it is rescanned then.
//
// `where` may be any address inside the object: bdwgc dirties the page
// holding it, which for a small object is the object's block and for a
// large one makes bdwgc rescan the whole object (GC_block_was_dirty).
//
// Cost: with generational collections off (--no-gc-generational, or a
// system libgc), one load and a branch. On (the default with the bdwgc of
// tools/bdwgc.sh): a call that sets one bit in bdwgc's dirty table with an
// atomic OR, no lock.
#pragma once

#include "vm/core/value.h"

namespace weft::gc {

namespace detail {
// True once bdwgc is set up with manual dirty bits (vm/gc/heap.cpp); never
// changes after, and is set before any thread can store into the heap.
extern bool g_barrier_on;
void dirty(const void* where);  // GC_end_stubborn_change, or the test hook's drop
}  // namespace detail

// After storing a heap pointer (or a value that may be one) into the
// pointer-bearing object holding `where`. Any thread.
inline void write_barrier(const void* where) {
  if (detail::g_barrier_on) detail::dirty(where);
}

// After storing v into the slot at `where`: nothing when v is no object.
inline void write_barrier(const void* where, Value v) {
  if (v.is_obj()) write_barrier(where);
}

}  // namespace weft::gc
