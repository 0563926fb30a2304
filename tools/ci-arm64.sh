#!/usr/bin/env bash
# The arm64 stage of CI (README, "Building"; .ci/run calls it): on a Debian
# 12 amd64 machine, as root, installs the cross toolchain and qemu-user,
# cross-builds Weft for linux/arm64 and runs under qemu-user:
#   - the unit tests (QEMU_CPU=cortex-a57: ARMv8.0, no SVE),
#   - the script suite (QEMU_CPU=max: its signal frames carry SVE records),
#   - the asynchronous preemption tests, the arm64 register torture among
#     them, under cortex-a57 and max, and the torture again with
#     QEMU_SINGLESTEP=1 so that signals land between any two instructions,
#   - gdb-multiarch unwinding through the trampoline, over qemu's gdbstub.
# Prints the stage's duration. Long stress runs: tools/stress.sh.
#
#   tools/ci-arm64.sh [build-dir]     (default build-arm64)
#   WEFT_ARM64_NO_INSTALL=1 skips apt-get (packages already there).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-arm64}
start=$(date +%s)
stage() { echo "== arm64: $* ($(( $(date +%s) - start )) s)"; }

if [[ -z ${WEFT_ARM64_NO_INSTALL:-} ]]; then
  stage "installing the cross toolchain and qemu-user"
  dpkg --add-architecture arm64
  apt-get -o DPkg::Lock::Timeout=900 update
  apt-get -o DPkg::Lock::Timeout=900 install -y --no-install-recommends \
    g++-aarch64-linux-gnu binutils-aarch64-linux-gnu libgc-dev:arm64 libgtest-dev:arm64 libedit-dev:arm64 \
    qemu-user-static gdb-multiarch cmake make pkg-config re2c
fi

stage "cross-building"
cmake -S . -B "$build" -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-aarch64-linux-gnu.cmake -DWEFT_BENCH=OFF >/dev/null
cmake --build "$build" -j2 --target vm unit_tests preempt_tests script_runner

# ctest runs every test binary through CMAKE_CROSSCOMPILING_EMULATOR
# (qemu-aarch64-static -L /), and the runners start the vm through
# $build/tests/vm-emulated; QEMU_CPU reaches qemu through the environment.
stage "unit tests (cortex-a57)"
QEMU_CPU=cortex-a57 ctest --test-dir "$build" -L unit -j2 --output-on-failure --timeout 300

# The runner itself runs emulated and starts each script's vm through the
# wrapper; qemu's start-up and translation cost seconds per script on a
# loaded 2-core machine, hence the scaled timeouts.
# A few scripts time goroutines' sleeps in milliseconds (sleep_order,
# go_basic); when the host is loaded, emulation can stretch those. A script
# that fails is run again alone, and only a second failure fails the stage
# (docs/hacking.md: rerun a timing-sensitive failure alone before believing it).
stage "script suite (max)"
runner=(env QEMU_CPU=max qemu-aarch64-static -L / "$build/tests/script_runner")
if ! "${runner[@]}" --emulated --timeout-scale=6 "$build/tests/vm-emulated" tests/scripts | tee "$build/arm64-scripts.log"; then
  mapfile -t failed < <(sed -n 's/^FAIL \([^:]*\.wf\):.*/\1/p' "$build/arm64-scripts.log" | sort -u)
  [[ ${#failed[@]} -gt 0 ]] || exit 1
  for f in "${failed[@]}"; do
    echo "== arm64: again, alone: $f"
    "${runner[@]}" --emulated --jobs=1 --timeout-scale=12 "$build/tests/vm-emulated" tests/scripts "$f"
  done
fi

# The in-process preemption tests (the register torture, the refusals, the
# restartable allocation, conservative scanning of preempted goroutines,
# the safe-section lint), on an ARMv8.0 core and on qemu's `max` (SVE and
# more, with SVE records in the signal frames). A shorter torture than the
# native one: qemu runs it ~10x slower; tools/stress.sh runs it in full.
for cpu in cortex-a57 max; do
  stage "preemption tests and the register torture ($cpu)"
  QEMU_CPU=$cpu WEFT_TORTURE_ITERS=500000 ctest --test-dir "$build" -R '^(Preempt|NativeStack|GcVerify)' -j2 \
    --output-on-failure --timeout 600
done

# Single-stepped, qemu ends a translation block after every instruction,
# so a signal can be taken between any two: fewer iterations, same checks.
stage "register torture, single-stepped (max)"
QEMU_CPU=max QEMU_SINGLESTEP=1 WEFT_TORTURE_ITERS=100000 timeout 900 \
  qemu-aarch64-static -L / "$build/tests/preempt_tests" --gtest_filter='PreemptTorture.*'

stage "gdb-multiarch unwinds through the trampoline"
tests/preempt/gdb_unwind.sh "$build/vm" qemu

stage "done in $(( $(date +%s) - start )) s"
