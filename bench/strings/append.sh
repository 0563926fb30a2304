#!/usr/bin/env bash
# `s = s + x` in a loop, for N = 10^4 .. 10^6 (issue 17: repeated appends
# must be amortized linear, vm/core/object.cpp: concat_strings). Prints
# CPU seconds (user + system, best of RUNS) for Weft and for Lua 5.4
# (whose `s = s .. x` copies the whole string each time), and the time per
# append, which stays flat when appends are linear. A run over TIMEOUT
# seconds (default 60) is printed as ">TIMEOUT". Outputs are checked equal.
#
# usage: bench/strings/append.sh [path/to/vm]   (default: build/vm)
#   NS="10000 100000 1000000"  RUNS=3  TIMEOUT=60
set -u
here=$(cd "$(dirname "$0")" && pwd)
vm=${1:-build/vm}
runs=${RUNS:-3}
limit=${TIMEOUT:-60}
read -r -a ns <<<"${NS:-10000 100000 1000000}"
[[ -x $vm ]] || { echo "append.sh: no vm binary at '$vm'" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
peers=(weft)
command -v lua5.4 >/dev/null 2>&1 && peers+=(lua) || echo "note: lua5.4 not found, skipping Lua" >&2
status=0
best() {  # best PEER N: best CPU seconds of $runs runs, or >limit
  local p=$1 n=$2 b= r t cmd
  if [[ $p == weft ]]; then cmd="$vm $here/append.wf $n"; else cmd="lua5.4 $here/append.lua $n"; fi
  for ((r = 0; r < runs; r++)); do
    # shellcheck disable=SC2086
    if ! timeout "$limit" /usr/bin/time -o "$tmp/time" -f "%U %S" $cmd >"$tmp/$p.$n.out" 2>/dev/null; then
      rm -f "$tmp/$p.$n.out"; echo ">$limit"; return; fi
    t=$(awk '{ printf "%.3f", $1 + $2 }' "$tmp/time")
    if [[ -z $b ]] || awk -v a="$t" -v b="$b" 'BEGIN { exit !(a < b) }'; then b=$t; fi
  done
  echo "$b"
}
printf '%-9s' N; for p in "${peers[@]}"; do printf ' %9s %12s' "$p s" "$p us/app"; done; echo
for n in "${ns[@]}"; do
  printf '%-9s' "$n"
  for p in "${peers[@]}"; do
    t=$(best "$p" "$n")
    per=$(awk -v t="$t" -v n="$n" 'BEGIN { if (t ~ /^>/) print "-"; else printf "%.3f", t * 1e6 / (2 * n) }')
    printf ' %9s %12s' "$t" "$per"
  done
  echo
  if [[ -f $tmp/lua.$n.out && -f $tmp/weft.$n.out ]] && ! cmp -s "$tmp/weft.$n.out" "$tmp/lua.$n.out"; then
    echo "MISMATCH at N=$n: weft '$(cat "$tmp/weft.$n.out")' lua '$(cat "$tmp/lua.$n.out")'" >&2; status=1
  fi
done
echo "(CPU seconds, best of $runs; us/app: per append, 2N appends)"
exit $status
