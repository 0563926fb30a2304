#!/usr/bin/env bash
# Scheduler benchmarks, Weft next to Go (Debian's golang-go) in one run:
# channel ping-pong (ns per message), spawn cost (ns per goroutine), and RSS
# per parked goroutine with 100,000 parked (KiB, over a run with none).
# Each timing is the best of RUNS (default 3). Go is skipped if missing.
#
# usage: bench/sched/run.sh [path/to/vm]   (default: build/vm)
set -u
here=$(cd "$(dirname "$0")" && pwd)
vm=${1:-build/vm}
runs=${RUNS:-3}
[[ -x $vm ]] || { echo "run.sh: no vm binary at '$vm'" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
have_go=0
if command -v go >/dev/null 2>&1; then
  for p in pingpong spawn parked; do
    (cd "$tmp" && cp "$here/$p.go" . && GOCACHE=$tmp/cache go build -o "$p" "$p.go") && have_go=1
  done
else
  echo "note: go not found, skipping Go" >&2
fi

best() {  # best (lowest) figure printed by a command over $runs runs
  local b=""
  for _ in $(seq "$runs"); do
    local v
    v=$("$@" | awk '{print $2}')
    [[ -z $b || $v -lt $b ]] && b=$v
  done
  echo "$b"
}

rss_kib() {  # RSS of a parked-goroutines program with N goroutines
  local fifo=$tmp/in.$RANDOM
  mkfifo "$fifo"
  "$@" < "$fifo" > "$tmp/out" &
  local pid=$!
  exec 9> "$fifo"
  while ! grep -q ready "$tmp/out" 2>/dev/null; do sleep 0.05; done
  local rss
  rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
  echo >&9
  exec 9>&-
  wait "$pid"
  rm -f "$fifo"
  echo "$rss"
}

per_parked() {  # KiB per parked goroutine: (RSS with 100,000 - RSS with 0) / 100,000
  local base full
  base=$(rss_kib "$@" 0)
  full=$(rss_kib "$@" 100000)
  awk -v a="$base" -v b="$full" 'BEGIN { printf "%.2f", (b - a) / 100000 }'
}

printf "%-28s %10s %10s %8s\n" benchmark weft go weft/go
row() {
  local name=$1 w=$2 g=$3
  if [[ -n $g ]]; then
    printf "%-28s %10s %10s %8s\n" "$name" "$w" "$g" "$(awk -v a="$w" -v b="$g" 'BEGIN { printf "%.2f", a / b }')"
  else
    printf "%-28s %10s %10s %8s\n" "$name" "$w" "-" "-"
  fi
}
for p in pingpong spawn; do
  w=$(best "$vm" "$here/$p.wf")
  g=""
  [[ $have_go == 1 ]] && g=$(best "$tmp/$p")
  row "$p (ns)" "$w" "$g"
done
w=$(per_parked "$vm" "$here/parked.wf")
g=""
[[ $have_go == 1 ]] && g=$(per_parked "$tmp/parked")
row "parked goroutine (KiB RSS)" "$w" "$g"
