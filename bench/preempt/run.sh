#!/bin/bash
# Time-to-stop and pause with N goroutines in call-free loops (the
# benchmark of asynchronous preemption): 200 collections each at N = 2,
# 100, 1,000, 10,000 (NS="2 100" to choose) on `--procs 2`,
# p50/p99/max from `vm --trace=gc`, and gc()'s end-to-end time as the
# script sees it. Usage: bench/preempt/run.sh [path/to/vm] [procs]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
vm=${1:-$here/../../build/vm}
procs=${2:-2}
pct() {  # pct FILE P: the P-th percentile of the numbers in FILE
  sort -g "$1" | awk -v p="$2" '{a[NR]=$1} END {i=int((NR-1)*p/100)+1; printf "%.3f", a[i]}'
}
printf "%-6s %-28s %-28s %s\n" N "time-to-stop ms p50/p99/max" "pause ms p50/p99/max" "gc() end-to-end"
for n in ${NS:-2 100 1000 10000}; do
  trace=$(mktemp)
  out=$("$vm" --procs "$procs" --trace=gc "$here/spinners.wf" "$n" 2>"$trace")
  grep -o 'stw [0-9.]*' "$trace" | awk '{print $2}' >"$trace.stw"
  grep -o 'pause [0-9.]*' "$trace" | awk '{print $2}' >"$trace.pause"
  printf "%-6s %-28s %-28s %s\n" "$n" \
    "$(pct "$trace.stw" 50) / $(pct "$trace.stw" 99) / $(pct "$trace.stw" 100)" \
    "$(pct "$trace.pause" 50) / $(pct "$trace.pause" 99) / $(pct "$trace.pause" 100)" "${out#gc() end-to-end }"
  rm -f "$trace" "$trace.stw" "$trace.pause"
done
