// Lock-rank checking (vm/core/lockrank.h).
#include "vm/core/lockrank.h"

#include <cstdio>

#include "vm/core/fatal.h"

namespace weft {

namespace {

const char* const kNames[] = {
#define WEFT_RANK_NAME(name, text) text,
    WEFT_LOCK_RANKS(WEFT_RANK_NAME)
#undef WEFT_RANK_NAME
};

}  // namespace

const char* lockrank_name(LockRank rank) { return kNames[size_t(rank)]; }

#ifdef WEFT_LOCKRANK

namespace {

constexpr int kMaxHeld = 32;  // select holds up to 32 channel locks

struct Held {
  LockRank rank;
  const void* lock;
};

thread_local Held t_held[kMaxHeld];
thread_local int t_nheld = 0;

[[noreturn]] void bad_order(const Held& held, LockRank rank, const void* lock) {
  std::fprintf(stderr, "runtime: lock ordering problem: taking %s (%p) while holding %s (%p)\n",
               lockrank_name(rank), lock, lockrank_name(held.rank), held.lock);
  fatal("lock rank violation (vm/core/lockrank.h)");
}

}  // namespace

void lockrank_acquire(LockRank rank, const void* lock, bool check) {
  if (check) {
    for (int i = 0; i < t_nheld; i++) {
      const Held& h = t_held[i];
      bool ok = h.rank < rank || (rank == LockRank::Chan && h.rank == rank && h.lock < lock);
      if (!ok) bad_order(h, rank, lock);
    }
  }
  if (t_nheld == kMaxHeld) fatal("lock rank: too many locks held");
  t_held[t_nheld++] = Held{rank, lock};
}

void lockrank_release(LockRank rank, const void* lock) {
  for (int i = t_nheld; i-- > 0;) {  // usually the last one taken
    if (t_held[i].lock == lock) {
      for (int j = i; j + 1 < t_nheld; j++) t_held[j] = t_held[j + 1];
      t_nheld--;
      return;
    }
  }
  std::fprintf(stderr, "runtime: releasing %s (%p), which this thread does not hold\n", lockrank_name(rank), lock);
  fatal("lock rank: release of a lock not held");
}

#endif

}  // namespace weft
