#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run; README's second command runs
# it after installing the packages). Five stages, each a build and its
# tests, with a time budget on CI's 2-core machine (README, "Reliability"):
#
#   normal   g++, the full ctest suite; the stress modes each run a shard
#            of the script suite (tests/CMakeLists.txt)
#   asan     g++, ASan+UBSan (+LSan at exit): the suite but what the
#            normal stage covers as well without memory checks: the stress
#            modes, the fault and signal runs (faults, preempt-runner) and
#            the disassembly lint (together 6 of its 9 minutes here)
#   tsan     clang, ThreadSanitizer: the unit, scheduler and script tests
#            and the many-VMs embedding tests (label multivm, issue 16; 30 s
#            here, without the 1,000 create/destroy cycles: tests/embed);
#            only their targets are built
#   fuzz     clang, libFuzzer: the regression inputs, then each fuzzer for
#            20 seconds; only the fuzz targets are built
#   arm64    the cross build under qemu-user (tools/ci-arm64.sh)
#
# Every stage runs; the exit status is the first failing stage's. A summary
# of the stages' times closes the output. Long soak and stress runs are
# tools/stress.sh.
#
#   tools/ci.sh [stage...]      (default: all five, in order)
set -uo pipefail
cd "$(dirname "$0")/.."
export TSAN_OPTIONS="suppressions=$PWD/tests/tsan.supp${TSAN_OPTIONS:+ $TSAN_OPTIONS}"
stages=("$@")
[[ ${#stages[@]} -gt 0 ]] || stages=(normal asan tsan fuzz arm64)

normal() {
  cmake -S . -B build &&
    cmake --build build -j2 &&
    ctest --test-dir build --output-on-failure -j2
}

asan() {
  cmake -S . -B build-asan -DWEFT_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug -DWEFT_BENCH=OFF &&
    cmake --build build-asan -j2 &&
    ctest --test-dir build-asan --output-on-failure -j2 -LE 'stress|faults' -E '^(preempt-runner|PreemptSafeSection.Lint)$'
}

tsan() {
  CC=clang CXX=clang++ cmake -S . -B build-tsan -DWEFT_TSAN=ON -DWEFT_BENCH=OFF &&
    cmake --build build-tsan -j2 --target vm unit_tests preempt_tests script_runner embed_tests &&
    ctest --test-dir build-tsan --output-on-failure -j2 -L 'unit|preempt|scripts|multivm' -LE no-tsan
}

fuzz() {
  CC=clang CXX=clang++ cmake -S . -B build-fuzz -DWEFT_FUZZ=ON -DWEFT_BENCH=OFF -DWEFT_FUZZ_SECONDS=20 &&
    cmake --build build-fuzz -j2 --target fuzz_compile fuzz_run &&
    ctest --test-dir build-fuzz --output-on-failure -L fuzz
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
