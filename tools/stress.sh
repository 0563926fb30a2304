#!/usr/bin/env bash
# Long stress runs, outside CI (docs/hacking.md, "Building"): what the arm64
# stage (tools/ci-arm64.sh) runs once, run many times, and the stress
# modes CI runs natively, under qemu-user. For hunting rare failures, and
# before trusting a change to vm/arch/arm64.
#
#   tools/stress.sh [rounds] [build-arm64]     (default 20 rounds)
#
# Each round: the register torture at full length under cortex-a57, max and
# a64fx (SVE with 512-bit vectors: the biggest signal frames), the torture
# single-stepped, and the script suite under --preempt-stress and under
# --preempt-stress --gc-stress on two Ps. Stops at the first failure, with
# the round, the CPU and the command.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-20}
build=${2:-build-arm64}
emu=(qemu-aarch64-static -L /)
start=$(date +%s)
run() {
  local what=$1
  shift
  if ! "$@" >"/tmp/weft-stress.$$.log" 2>&1; then
    echo "FAILED in round $round: $what"
    echo "  $*"
    tail -30 "/tmp/weft-stress.$$.log"
    exit 1
  fi
}
for round in $(seq 1 "$rounds"); do
  for cpu in cortex-a57 max a64fx; do
    run "torture on $cpu" env QEMU_CPU=$cpu "${emu[@]}" "$build/tests/preempt_tests" --gtest_filter='PreemptTorture.*:PreemptRestart.*:PreemptScan.*'
  done
  run "torture single-stepped" env QEMU_CPU=max QEMU_SINGLESTEP=1 WEFT_TORTURE_ITERS=400000 \
    "${emu[@]}" "$build/tests/preempt_tests" --gtest_filter='PreemptTorture.*'
  run "suite under --preempt-stress" env QEMU_CPU=max "${emu[@]}" "$build/tests/script_runner" \
    --vm-flag=--preempt-stress --timeout-scale=6 "$build/tests/vm-emulated" tests/scripts
  run "suite under --preempt-stress --gc-stress, 2 Ps" env QEMU_CPU=cortex-a57 "${emu[@]}" "$build/tests/script_runner" \
    --vm-flag=--preempt-stress --vm-flag=--gc-stress --vm-flag=--procs --vm-flag=2 --timeout-scale=12 \
    "$build/tests/vm-emulated" tests/scripts
  echo "round $round of $rounds passed ($(( $(date +%s) - start )) s)"
done
rm -f "/tmp/weft-stress.$$.log"
