#!/usr/bin/env bash
# Runs the same programs under Weft, Lua 5.4 and Python 3, takes the best of
# RUNS (default 3) wall-clock times each, checks that every interpreter
# printed the same output, and prints a table of seconds and ratios.
#
# usage: bench/compare/run.sh [path/to/vm]     (default: build/vm)
#        RUNS=1 bench/compare/run.sh build/vm  (faster, noisier)
set -u
here=$(cd "$(dirname "$0")" && pwd)
vm=${1:-build/vm}
runs=${RUNS:-3}
programs=(fib loop binary_trees)

if [[ ! -x $vm ]]; then
  echo "run.sh: no vm binary at '$vm' (build it, or pass its path)" >&2
  exit 1
fi

declare -A cmd=([weft]="$vm" [lua]="lua5.4" [python]="python3")
declare -A ext=([weft]=wf [lua]=lua [python]=py)
langs=()
for l in weft lua python; do
  if command -v "${cmd[$l]}" >/dev/null 2>&1; then
    langs+=("$l")
  else
    echo "note: ${cmd[$l]} not found, skipping $l" >&2
  fi
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# best_time LANG PROGRAM: prints the best wall time in seconds, or "-" if
# the program is missing or failed; leaves its output in $tmp/LANG.PROGRAM.out
best_time() {
  local l=$1 p=$2 file="$here/$2.${ext[$1]}" best="" t
  [[ -f $file ]] || { echo "-"; return; }
  for ((r = 0; r < runs; r++)); do
    TIMEFORMAT=%R
    t=$( { time "${cmd[$l]}" "$file" >"$tmp/$l.$p.out" 2>"$tmp/$l.$p.err"; } 2>&1 ) || {
      echo "$l $p failed:" >&2; cat "$tmp/$l.$p.err" >&2; echo "-"; return; }
    if [[ -z $best ]] || awk -v a="$t" -v b="$best" 'BEGIN { exit !(a < b) }'; then best=$t; fi
  done
  echo "$best"
}

ratio() {
  if [[ $1 == - || $2 == - ]]; then echo "-"; else awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; fi
}

declare -A secs
status=0
for p in "${programs[@]}"; do
  ref=""
  for l in "${langs[@]}"; do
    secs[$l.$p]=$(best_time "$l" "$p")
    out="$tmp/$l.$p.out"
    [[ ${secs[$l.$p]} == - ]] && continue
    if [[ -z $ref ]]; then
      ref=$out
    elif ! cmp -s "$ref" "$out"; then
      echo "MISMATCH: $p output of $l differs from $(basename "$ref" .out)" >&2
      diff "$ref" "$out" | head -5 >&2
      status=1
    fi
  done
done

printf '%-14s %9s %9s %9s %10s %12s\n' program weft lua python weft/lua weft/python
for p in "${programs[@]}"; do
  w=${secs[weft.$p]:--} lu=${secs[lua.$p]:--} py=${secs[python.$p]:--}
  printf '%-14s %9s %9s %9s %10s %12s\n' "$p" "$w" "$lu" "$py" "$(ratio "$w" "$lu")" "$(ratio "$w" "$py")"
done
echo "(best of $runs wall-clock seconds; outputs checked equal)"
exit $status
