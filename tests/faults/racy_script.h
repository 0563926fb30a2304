// Random racy programs for the stress test (faults_test.cpp).
//
// docs/design.md#races: a race on shared arrays, maps or variables gives an
// unspecified result, never a crash or corrupted memory. A racy program here is
// a few goroutines that each run a random mix of operations on shared
// globals (an array, a map, a closure, a counter, a channel) with no
// synchronization. Races may make an operation fail legitimately (an index
// in range a moment ago, a pop of an array another goroutine emptied), so
// each one runs under pcall; the program must still finish and print "ok".
// The program is a pure function of the seed, so a failure reproduces from
// the seed alone.
#pragma once

#include <cstdint>
#include <string>

namespace weft::testing {

std::string racy_script(uint32_t seed);

}  // namespace weft::testing
