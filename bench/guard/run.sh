#!/bin/bash
# The synchronous guard's cost per call and per allocation (README.md#results): the
# programs of this directory under two Release builds, the normal one and
# one configured with -DWEFT_NO_GUARD=ON (no allocation-site poll; a call
# checks only the stack's size: vm/interp/interp.cpp, kSyncPoll). Runs alternate
# between the builds (A B, then B A, and so on) so that both see the same
# machine. Two tables, wall time and CPU time (user + sys: less disturbed
# by other jobs waiting for the CPUs): per program, min and median seconds
# of each build, the ratio guard / no-guard, and the guard's cost per
# operation, (guard - no-guard) / N in ns (each program's last line is
# `calls N` or `allocations N`). Figures compare only within one run: the
# machine may be shared and noisy.
#
# Usage: bench/guard/run.sh [procs]     (vm --procs; default 1: the programs
#                                        are one goroutine)
# Knobs: RUNS (runs per build and program, default 7); BUILDS (default
# ${TMPDIR:-/tmp}/weft-guard), under which guard/ and noguard/ are
# configured and built once and then reused; or GUARD_BUILD and
# NOGUARD_BUILD naming two build directories directly.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
procs=${1:-1}
runs=${RUNS:-7}
builds=${BUILDS:-${TMPDIR:-/tmp}/weft-guard}
guard_dir=${GUARD_BUILD:-$builds/guard}
noguard_dir=${NOGUARD_BUILD:-$builds/noguard}
# name -> vm flags, script and its arguments (split on spaces). alloc-nogc
# allocates with the pacer off: no collections, hence no stops, so only
# the allocation-site checks differ (alloc also measures how fast each
# build stops for its ~300 collections).
programs=(fib method alloc alloc-nogc)
declare -A command=([fib]="fib.wf" [method]="method.wf" [alloc]="alloc.wf"
                    [alloc-nogc]="--gc-percent off alloc.wf 10000000")
export LC_ALL=C  # decimal points in time's and awk's figures

# build DIR ON|OFF: configures DIR once (Release, WEFT_NO_GUARD as given)
# and brings its vm up to date; refuses a reused DIR of another kind.
build() {
  local dir=$1 no_guard=$2 log=$1/guard-run-build.log
  if [[ ! -f $dir/CMakeCache.txt ]]; then
    mkdir -p "$dir"
    cmake -S "$src" -B "$dir" -DCMAKE_BUILD_TYPE=Release -DWEFT_NO_GUARD="$no_guard" \
      -DWEFT_BENCH=OFF -DWEFT_TESTS=OFF >"$log" 2>&1 || { cat "$log" >&2; exit 1; }
  fi
  cmake --build "$dir" --target vm -j2 >"$log" 2>&1 || { cat "$log" >&2; exit 1; }
  local have=OFF
  grep -qx 'WEFT_NO_GUARD:BOOL=ON' "$dir/CMakeCache.txt" && have=ON
  if [[ $have != "$no_guard" ]] || ! grep -qx 'CMAKE_BUILD_TYPE:STRING=Release' "$dir/CMakeCache.txt"; then
    echo "run.sh: $dir is not a Release build with WEFT_NO_GUARD=$no_guard" >&2
    exit 1
  fi
}

# min_median FILE: "min median" of the numbers in FILE, one a line
min_median() {
  sort -g "$1" | awk '{a[NR] = $1} END {m = NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
                                        printf "%.3f %.3f\n", a[1], m}'
}

echo "building $guard_dir and $noguard_dir" >&2
build "$guard_dir" OFF
build "$noguard_dir" ON
vms=("$guard_dir/vm" "$noguard_dir/vm")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# one B PROG: runs build B (0 guard, 1 no guard) on PROG once, appends its
# wall seconds to $tmp/PROG.B.wall and its CPU seconds (user + sys, every
# thread) to $tmp/PROG.B.cpu, and keeps its output in $tmp/PROG.B.out.
one() {
  local b=$1 prog=$2 TIMEFORMAT='%3R %3U %3S' t real user sys
  # shellcheck disable=SC2086  # command[] is split on purpose
  if ! t=$(cd "$here" && { time "${vms[$b]}" --procs "$procs" ${command[$prog]} >"$tmp/$prog.$b.out" 2>"$tmp/err"; } 2>&1); then
    echo "run.sh: ${vms[$b]} ${command[$prog]} failed: $(cat "$tmp/err")" >&2
    exit 1
  fi
  read -r real user sys <<<"$t"
  echo "$real" >>"$tmp/$prog.$b.wall"
  awk -v u="$user" -v s="$sys" 'BEGIN {printf "%.3f\n", u + s}' >>"$tmp/$prog.$b.cpu"
}

# table CLOCK: one row per program from the CLOCK (wall or cpu) samples.
table() {
  local clock=$1 prog gmin gmed nmin nmed
  printf "%-10s %-22s %-17s %-17s %-15s %s\n" program operations "guard min/med" "no-guard min/med" \
    "ratio min/med" "cost ns/op min/med"
  for prog in "${programs[@]}"; do
    read -r gmin gmed < <(min_median "$tmp/$prog.0.$clock")
    read -r nmin nmed < <(min_median "$tmp/$prog.1.$clock")
    awk -v p="$prog" -v what="${what[$prog]}" -v ops="${ops[$prog]}" -v gmin="$gmin" -v gmed="$gmed" \
      -v nmin="$nmin" -v nmed="$nmed" \
      'BEGIN {printf "%-10s %-22s %-17s %-17s %-15s %+.2f / %+.2f\n", p, ops " " what, gmin " / " gmed,
              nmin " / " nmed, sprintf("%.3f / %.3f", gmin / nmin, gmed / nmed),
              (gmin - nmin) * 1e9 / ops, (gmed - nmed) * 1e9 / ops}'
  done
}

load() { cut -d' ' -f1 /proc/loadavg; }
declare -A what ops
echo "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) CPUs, load $(load);" \
  "--procs $procs; $runs runs per build and program, alternating"
for prog in "${programs[@]}"; do
  for ((r = 0; r < runs; r++)); do
    if ((r % 2 == 0)); then one 0 "$prog"; one 1 "$prog"; else one 1 "$prog"; one 0 "$prog"; fi
  done
  if ! cmp -s "$tmp/$prog.0.out" "$tmp/$prog.1.out"; then
    echo "run.sh: $prog printed different output under the two builds" >&2
    exit 1
  fi
  read -r "what[$prog]" "ops[$prog]" < <(tail -n 1 "$tmp/$prog.0.out")
done
echo "wall seconds (load now $(load))"
table wall
echo "CPU seconds (user + sys, all threads)"
table cpu
