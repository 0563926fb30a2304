#!/usr/bin/env bash
# Two vm binaries on the comparison programs, taking turns: for a change
# that should not move the figures (a refactor), or one that should.
# Each program runs RUNS times under each binary, alternating A and B
# within every round (so a passing load hits both alike); prints the best
# wall-clock seconds of each and the ratio B/A. Outputs must be equal.
#
# usage: bench/compare/ab.sh VM_A VM_B      RUNS=5 (default), PROGRAMS="echo" (some only)
set -u
here=$(cd "$(dirname "$0")" && pwd)
a=${1:?usage: ab.sh VM_A VM_B}
b=${2:?usage: ab.sh VM_A VM_B}
runs=${RUNS:-5}
read -r -a programs <<<"${PROGRAMS:-fib loop binary_trees gcbench format_floats echo}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# echo reads 1,000,000 lines (as run.sh gives it) and writes into a pipe.
awk 'BEGIN { for (i = 0; i < 1000000; i++) printf "%d the quick brown fox %d\n", i, i * 7919 % 1000003 }' >"$tmp/echo.in"

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
      in=/dev/null
      [[ $p == echo ]] && in=$tmp/echo.in
      (set -o pipefail; "$vm" "$here/$p.wf" <"$in" 2>&1 | cat >"$tmp/out.$side") || { echo "$p: $vm failed" >&2; status=1; }
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
