// Field offsets the assembly of vm/arch/amd64 reads, as preprocessor
// constants (assembler and C++ both include this). async.cpp checks each
// against the C++ layout with static_assert, so a layout change breaks the
// build instead of the allocator.
#pragma once

#define WEFT_M_P 16            /* sched::M::p */
#define WEFT_P_MCACHE 2136     /* sched::P::mcache */
#define WEFT_CACHE_UNREPORTED 528  /* gc::Cache::unreported */
#define WEFT_CACHE_OWNER 536   /* gc::Cache::owner */
#define WEFT_SPILL_WORDS 16    /* arch::Spill without pc: rflags and 15 registers */
