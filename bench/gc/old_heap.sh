#!/bin/bash
# Pause percentiles with a large old generation (bench/gc/old_heap.wf):
# for each heap size, the collections after the old heap is built, minor
# and full apart, p50/p99/max from `vm --trace=gc`, with collections in
# full (--no-gc-generational) and generational (the default where the vm
# links the bdwgc of tools/bdwgc.sh).
# Sizes: MIBS (default 100; MIBS="100 1024" for 1 GiB, about 3 GiB of RAM),
# ROUNDS (default 100; 5 MiB of short-lived objects each), MARKERS (the
# vm's --gc-markers; default its own), MODES (default "full generational",
# and "go" when go is installed: bench/gc/old_heap.go under
# GODEBUG=gctrace=1, each cycle's sweep and mark terminations in the full
# column). TABLE=FILE also appends each row to FILE, one line per mode, size
# and kind (mode MiB kind n p50 p99 max, ms), for bench/plot/plot.py --table.
# KEEP=DIR keeps each Weft run's --trace=gc output there.
# Usage: bench/gc/old_heap.sh [path/to/vm]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
vm=${1:-$here/../../build/vm}
rounds=${ROUNDS:-100}
markers=()
[[ -z ${MARKERS:-} ]] || markers=(--gc-markers "$MARKERS")
pct() {  # pct FILE P: the P-th percentile of the numbers in FILE, "-" if none
  sort -g "$1" | awk -v p="$2" '{a[NR]=$1} END {if (NR == 0) {printf "-"; exit} i=int((NR-1)*p/100)+1; printf "%.2f", a[i]}'
}
row() {  # row FILE: count, p50 / p99 / max
  printf "%4d  %s / %s / %s" "$(wc -l <"$1")" "$(pct "$1" 50)" "$(pct "$1" 99)" "$(pct "$1" 100)"
}
table() {  # table MODE MIB KIND FILE: the row for TABLE
  [[ -z ${TABLE:-} ]] || printf "%s %s %s %d %s %s %s\n" "$1" "$2" "$3" "$(wc -l <"$4")" "$(pct "$4" 50)" \
    "$(pct "$4" 99)" "$(pct "$4" 100)" >>"$TABLE"
}
modes=${MODES:-full generational}
if [[ -z ${MODES:-} ]] && command -v go >/dev/null 2>&1; then
  gobin=$(mktemp -d)
  trap 'rm -rf "$gobin"' EXIT
  (cd "$gobin" && cp "$here/old_heap.go" . && GOCACHE=$gobin/cache go build -o old_heap old_heap.go) && modes+=" go"
fi
printf "%-13s %6s  %-32s %-32s %s\n" mode MiB "minor: n, pause ms p50/p99/max" "full: n, pause ms p50/p99/max" "wall s"
for mib in ${MIBS:-100}; do
  for mode in $modes; do
    if [[ $mode == go ]]; then
      trace=$(mktemp)
      begin=$(date +%s.%N)
      GODEBUG=gctrace=1 "$gobin/old_heap" "$mib" "$rounds" >/dev/null 2>"$trace"
      wall=$(awk -v a="$begin" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}')
      : >"$trace.minor"
      awk '/^built$/ {on = 1} on && $1 == "gc" {split($5, t, "+"); print t[1] + t[3]}' "$trace" >"$trace.full"
      printf "%-13s %6s  %-32s %-32s %s\n" go "$mib" "$(row "$trace.minor")" "$(row "$trace.full")" "$wall"
      table go "$mib" full "$trace.full"
      rm -f "$trace" "$trace.minor" "$trace.full"
      continue
    fi
    flags=("${markers[@]}")
    if [[ $mode == full ]]; then flags+=(--no-gc-generational); else flags+=(--gc-generational); fi
    trace=$(mktemp)
    begin=$(date +%s.%N)
    out=$("$vm" "${flags[@]}" --trace=gc "$here/old_heap.wf" "$mib" "$rounds" 2>"$trace")
    wall=$(awk -v a="$begin" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}')
    built=$(echo "$out" | sed -n 's/^built: \([0-9]*\) collections$/\1/p')
    awk -v b="$built" '$1 == "gc" && $2 > b && /minor,/ {for (i = 1; i < NF; i++) if ($i == "pause") print $(i + 1)}' "$trace" >"$trace.minor"
    awk -v b="$built" '$1 == "gc" && $2 > b && !/minor,/ {for (i = 1; i < NF; i++) if ($i == "pause") print $(i + 1)}' "$trace" >"$trace.full"
    printf "%-13s %6s  %-32s %-32s %s\n" "$mode" "$mib" "$(row "$trace.minor")" "$(row "$trace.full")" "$wall"
    [[ $mode == full ]] || table "$mode" "$mib" minor "$trace.minor"
    table "$mode" "$mib" full "$trace.full"
    [[ -z ${KEEP:-} ]] || cp "$trace" "$KEEP/old_heap.$mode.$mib.$(date +%s).trace"
    rm -f "$trace" "$trace.minor" "$trace.full"
  done
done
