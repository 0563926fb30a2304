// Finalization: telling the embedding API that an object became
// unreachable, after the collection that found it, on a thread of its own.
//
// Model. An object registered here (bdwgc's no-order finalization,
// GC_register_finalizer_no_order: a cycle of finalizable objects is
// finalized too) is, when a collection finds it unreachable, kept for that
// cycle with everything it references, and queued by bdwgc. After the
// cycle, with the world started again, the collector thread wakes the
// finalizer thread (wake_finalizers), a process-wide thread started with
// the first registration. It takes bdwgc's queue and calls the hook with
// each object's cookie, holding no lock of the VM and never while it is
// part of a stop-the-world. The object is then freed by a later collection.
//
// Cookies, not objects: the hook never sees the object's address. Between
// bdwgc handing an object over and the hook running, another collection
// may free and reuse that memory (this thread's stack is no root: only the
// VM's are); a cookie names one registration forever.
//
// bdwgc's queue entries are collectable memory that only the invoking
// thread references while it runs a finalizer, so a collection meanwhile
// could free one under bdwgc's feet: the thread holds `invoking` across
// GC_invoke_finalizers, whose callbacks only queue cookies, and the
// collector takes it around each collection (finalizer_gate).
//
// Rejected: running finalizers on the collector thread (a slow host
// finalizer would delay every collection, and one that waits for a
// collection would deadlock), and in allocating threads (bdwgc's default:
// a host finalizer inside a goroutine's allocation).
#pragma once

#include <cstdint>
#include <mutex>

namespace weft::gc {

// The one client: the embedding API (vm/api/api_object.cpp). Called on the
// finalizer thread, once per registration, with no lock held. Set once,
// before the first registration; any thread.
using FinalizerHook = void (*)(uintptr_t cookie);
void set_finalizer_hook(FinalizerHook hook);

// Registers obj (an object start of the heap) for finalization with
// `cookie`. A thread that may allocate: an M holding a P, or a host thread
// with the world stopped.
void register_finalizer(const void* obj, uintptr_t cookie);

// Collector thread, after a cycle, world started: wakes the finalizer
// thread if bdwgc queued anything.
void wake_finalizers();

// Held by the collector around a collection (see the file comment). Taken
// with no other finalization lock held; a leaf but for bdwgc's own lock.
std::mutex& finalizer_gate();

}  // namespace weft::gc
