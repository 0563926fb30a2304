#!/usr/bin/env bash
# Long stress runs, outside CI (docs/hacking.md, "Building"): what CI runs
# once, or one shard of, run whole and many times. For hunting rare
# failures, and before trusting a change to the scheduler, the collector or
# vm/arch.
#
#   tools/stress.sh native [rounds] [build]         (default 5 rounds, build/)
#   tools/stress.sh arm64 [rounds] [build-arm64]    (default 20 rounds)
#
# native, each round: the whole script suite under every stress mode,
# generational and full collections both (ctest's stress tests each run a
# third of it: tests/CMakeLists.txt), the
# preemption checks of preempt_runner, and the embedding tests under
# preemption and collector stress.
# arm64, each round: the register torture at full length under cortex-a57,
# max and a64fx (SVE with 512-bit vectors: the biggest signal frames), the
# torture single-stepped, and the script suite under --preempt-stress and
# under --preempt-stress --gc-stress on two Ps, under qemu-user.
# Stops at the first failure, with the round and the command.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-native}
start=$(date +%s)
log=/tmp/weft-stress.$$.log
run() {
  local what=$1
  shift
  if ! "$@" >"$log" 2>&1; then
    echo "FAILED in round $round: $what"
    echo "  $*"
    tail -30 "$log"
    exit 1
  fi
}

native_round() {
  local b=$1 runner=("$1/tests/script_runner")
  run "suite under --gc-stress" "${runner[@]}" --vm-flag=--gc-stress --timeout-scale=6 "$b/vm" tests/scripts
  run "suite under --gc-percent 1" "${runner[@]}" --vm-flag=--gc-percent --vm-flag=1 --timeout-scale=3 "$b/vm" tests/scripts
  run "suite under --preempt-stress" "${runner[@]}" --vm-flag=--preempt-stress --timeout-scale=3 "$b/vm" tests/scripts
  run "suite under --preempt-stress --gc-stress, 2 Ps" "${runner[@]}" --vm-flag=--preempt-stress --vm-flag=--gc-stress \
    --vm-flag=--procs --vm-flag=2 --timeout-scale=6 "$b/vm" tests/scripts
  run "suite under --gc-verify, 2 Ps" "${runner[@]}" --vm-flag=--gc-verify --vm-flag=--procs --vm-flag=2 \
    --timeout-scale=6 "$b/vm" tests/scripts
  # Minor collections at every allocating safe-point, each verified (the
  # write barrier's check), and full mode, when the vm can do generational
  # collections (the bdwgc of tools/bdwgc.sh: then they are its default).
  if [[ $("$b/vm" --gc-generational -e 'print(1)' 2>&1) == 1 ]]; then
    run "suite under --gc-stress-minor --gc-verify, 2 Ps" "${runner[@]}" --vm-flag=--gc-stress-minor \
      --vm-flag=--gc-verify --vm-flag=--procs --vm-flag=2 --timeout-scale=6 "$b/vm" tests/scripts
    run "suite under --no-gc-generational --gc-stress" "${runner[@]}" --vm-flag=--no-gc-generational \
      --vm-flag=--gc-stress --timeout-scale=6 "$b/vm" tests/scripts
  fi
  run "preempt_runner" "$b/tests/preempt_runner" "$b/vm" tests/scripts
  run "embedding under stress" "$b/tests/embed/embed_tests" --gtest_filter='*Stress*:HostCall.*'
}

arm64_round() {
  local b=$1 emu=(qemu-aarch64-static -L /)
  for cpu in cortex-a57 max a64fx; do
    run "torture on $cpu" env QEMU_CPU=$cpu "${emu[@]}" "$b/tests/preempt_tests" --gtest_filter='PreemptTorture.*:PreemptRestart.*:PreemptScan.*'
  done
  run "torture single-stepped" env QEMU_CPU=max QEMU_SINGLESTEP=1 WEFT_TORTURE_ITERS=400000 \
    "${emu[@]}" "$b/tests/preempt_tests" --gtest_filter='PreemptTorture.*'
  run "suite under --preempt-stress" env QEMU_CPU=max "${emu[@]}" "$b/tests/script_runner" \
    --vm-flag=--preempt-stress --timeout-scale=6 "$b/tests/vm-emulated" tests/scripts
  run "suite under --preempt-stress --gc-stress, 2 Ps" env QEMU_CPU=cortex-a57 "${emu[@]}" "$b/tests/script_runner" \
    --vm-flag=--preempt-stress --vm-flag=--gc-stress --vm-flag=--procs --vm-flag=2 --timeout-scale=12 \
    "$b/tests/vm-emulated" tests/scripts
}

case $mode in
  native) rounds=${2:-5} build=${3:-build} ;;
  arm64) rounds=${2:-20} build=${3:-build-arm64} ;;
  *) echo "usage: tools/stress.sh native|arm64 [rounds] [build]" >&2; exit 2 ;;
esac
for round in $(seq 1 "$rounds"); do
  "${mode}_round" "$build"
  echo "round $round of $rounds passed ($(( $(date +%s) - start )) s)"
done
rm -f "$log"
