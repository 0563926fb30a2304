#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run; README's second command runs
# it after installing the packages). Four stages, each a build and its
# tests, with a time budget on CI's 2-core machine (README, "Reliability";
# the figures are measured there):
#
#   normal   g++, the full ctest suite; the stress modes each run a shard
#            of the script suite (tests/CMakeLists.txt)
#   asan     clang, ASan+UBSan (+LSan at exit) with libFuzzer coverage: the
#            suite but the stress and fault tests, then each fuzzer for
#            WEFT_FUZZ_SECONDS. One build serves both: a separate fuzz
#            build cost a whole compile of the tree.
#   tsan     clang, ThreadSanitizer: the unit, scheduler and script tests
#   arm64    the cross build under qemu-user (tools/ci-arm64.sh)
#
# Every stage runs; the exit status is the first failing stage's. A summary
# of the stages' times closes the output. Long soak and stress runs are
# tools/stress.sh.
#
#   tools/ci.sh [stage...]      (default: all four, in order)
set -uo pipefail
cd "$(dirname "$0")/.."
export TSAN_OPTIONS="suppressions=$PWD/tests/tsan.supp${TSAN_OPTIONS:+ $TSAN_OPTIONS}"
stages=("$@")
[[ ${#stages[@]} -gt 0 ]] || stages=(normal asan tsan arm64)

normal() {
  cmake -S . -B build &&
    cmake --build build -j2 &&
    ctest --test-dir build --output-on-failure -j2
}

asan() {
  CC=clang CXX=clang++ cmake -S . -B build-fuzz -DWEFT_FUZZ=ON -DWEFT_BENCH=OFF -DWEFT_FUZZ_SECONDS=20 &&
    cmake --build build-fuzz -j2 &&
    ctest --test-dir build-fuzz --output-on-failure -j2 -LE 'stress|faults|fuzz' &&
    ctest --test-dir build-fuzz --output-on-failure -L fuzz
}

tsan() {
  CC=clang CXX=clang++ cmake -S . -B build-tsan -DWEFT_TSAN=ON -DWEFT_BENCH=OFF &&
    cmake --build build-tsan -j2 --target vm unit_tests preempt_tests script_runner &&
    ctest --test-dir build-tsan --output-on-failure -j2 -L 'unit|preempt|scripts' -LE no-tsan
}

arm64() {
  tools/ci-arm64.sh
}

status=0
summary=()
for stage in "${stages[@]}"; do
  begin=$(date +%s)
  echo "==== stage $stage"
  "$stage"
  rc=$?
  took=$(( $(date +%s) - begin ))
  summary+=("$(printf '%-7s %4d s  %s' "$stage" "$took" "$([[ $rc -eq 0 ]] && echo ok || echo "FAILED ($rc)")")")
  [[ $rc -eq 0 || $status -ne 0 ]] || status=$rc
done
echo "==== stages"
printf '%s\n' "${summary[@]}"
exit "$status"
