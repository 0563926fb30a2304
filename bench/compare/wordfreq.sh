#!/usr/bin/env bash
# Word frequencies over a 50 MB file (issue 15's benchmark of reading with
# fs): wordfreq.wf next to wordfreq.lua (Lua 5.4) and wordfreq.py (Python
# 3), each the idiomatic whole-file read and count of its language. The
# input is written once by wordfreq_gen.wf (deterministic: the same file on
# every run). Each peer runs RUNS times, taking turns; the best wall-clock
# and the best user+system CPU seconds are printed (CPU time is the steadier
# figure on a shared, loaded machine), with the ratio weft/peer. Every
# peer's output must equal Weft's (a mismatch makes the exit status 1).
#
# usage: bench/compare/wordfreq.sh [path/to/vm]     (default: build/vm)
#   RUNS=5        runs per peer (default 3)
#   SIZE=10000000 input bytes (default 50000000)
set -u
here=$(cd "$(dirname "$0")" && pwd)
vm=${1:-build/vm}
runs=${RUNS:-3}
size=${SIZE:-50000000}
if [[ ! -x $vm ]]; then
  echo "wordfreq.sh: no vm binary at '$vm' (build it, or pass its path)" >&2
  exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
input=$tmp/words.txt
"$vm" "$here/wordfreq_gen.wf" "$input" "$size" || exit 1

declare -A cmd=([weft]="$vm $here/wordfreq.wf $input")
peers=(weft)
if command -v lua5.4 >/dev/null 2>&1; then cmd[lua]="lua5.4 $here/wordfreq.lua $input"; peers+=(lua)
else echo "note: lua5.4 not found, skipping Lua" >&2; fi
if command -v python3 >/dev/null 2>&1; then cmd[python]="python3 $here/wordfreq.py $input"; peers+=(python)
else echo "note: python3 not found, skipping Python" >&2; fi

declare -A wall cpu
status=0
for ((r = 0; r < runs; r++)); do
  for p in "${peers[@]}"; do
    # shellcheck disable=SC2086
    /usr/bin/time -o "$tmp/$p.time" -f "%e %U %S" ${cmd[$p]} >"$tmp/$p.out" 2>"$tmp/$p.err" || {
      echo "failed: ${cmd[$p]}" >&2; head -5 "$tmp/$p.err" >&2; status=1; continue; }
    read -r e u s <"$tmp/$p.time"
    c=$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.2f", u + s }')
    if [[ -z ${wall[$p]:-} ]] || awk -v a="$e" -v b="${wall[$p]}" 'BEGIN { exit !(a < b) }'; then wall[$p]=$e; fi
    if [[ -z ${cpu[$p]:-} ]] || awk -v a="$c" -v b="${cpu[$p]}" 'BEGIN { exit !(a < b) }'; then cpu[$p]=$c; fi
  done
done
for p in "${peers[@]:1}"; do
  if ! cmp -s "$tmp/weft.out" "$tmp/$p.out"; then
    echo "MISMATCH: wordfreq output of $p differs from weft's" >&2
    diff "$tmp/weft.out" "$tmp/$p.out" | head -5 >&2
    status=1
  fi
done
echo "machine: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg); input $(stat -c %s "$input") bytes"
printf '%-8s %8s %8s %10s %10s\n' peer wall cpu weft/wall weft/cpu
for p in "${peers[@]}"; do
  printf '%-8s %8s %8s %10s %10s\n' "$p" "${wall[$p]:--}" "${cpu[$p]:--}" \
    "$(awk -v a="${wall[weft]:-0}" -v b="${wall[$p]:-0}" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')" \
    "$(awk -v a="${cpu[weft]:-0}" -v b="${cpu[$p]:-0}" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')"
done
echo "(seconds, best of $runs runs; outputs checked equal to weft's)"
exit $status
