#!/usr/bin/env bash
# Two vm binaries on the comparison programs, taking turns: for a change
# that should not move the figures (a refactor), or one that should.
# Each program runs RUNS times under each binary, alternating A and B
# within every round (so a passing load hits both alike); prints the best
# wall-clock seconds of each and the ratio B/A. Outputs must be equal.
#
# usage: bench/compare/ab.sh VM_A VM_B      RUNS=5 (default)
set -u
here=$(cd "$(dirname "$0")" && pwd)
a=${1:?usage: ab.sh VM_A VM_B}
b=${2:?usage: ab.sh VM_A VM_B}
runs=${RUNS:-5}
programs=(fib loop binary_trees gcbench format_floats)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

best() {  # best FILE: the smallest number in FILE
  sort -g "$1" | head -n 1
}

status=0
printf '%-14s %10s %10s %8s\n' program A_s B_s B/A
for p in "${programs[@]}"; do
  : >"$tmp/a" && : >"$tmp/b"
  for ((r = 0; r < runs; r++)); do
    for side in a b; do
      vm=$a
      [[ $side == b ]] && vm=$b
      start=$(date +%s.%N)
      "$vm" "$here/$p.wf" >"$tmp/out.$side" 2>&1 || { echo "$p: $vm failed" >&2; status=1; }
      end=$(date +%s.%N)
      awk -v s="$start" -v e="$end" 'BEGIN { print e - s }' >>"$tmp/$side"
    done
    cmp -s "$tmp/out.a" "$tmp/out.b" || { echo "$p: outputs differ" >&2; status=1; }
  done
  ta=$(best "$tmp/a")
  tb=$(best "$tmp/b")
  printf '%-14s %10.3f %10.3f %8.3f\n' "$p" "$ta" "$tb" "$(awk -v a="$ta" -v b="$tb" 'BEGIN { print b / a }')"
done
exit $status
