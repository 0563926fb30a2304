#!/usr/bin/env bash
# The front end on large generated scripts (issue 17's compile target: at
# most 3x Lua 5.4's time and 10x its peak memory), at 1, 10 and 50 MB of
# source so the growth shows whether it is linear. The script is
# `let a = 0`, then `a = a + 1` lines up to the size, then `print(a)`; Lua
# gets the same lines (`a = 0` first). Each size is run RUNS times, Weft
# and Lua taking turns, and the best CPU seconds (user + system) and the
# smallest peak RSS of each are printed, with the ratios weft/lua. Both
# compile and run the script (running it is a few milliseconds of the
# total); outputs are checked equal. `--check` (compile only) is printed
# too, next to `luac5.4 -p` (parse and compile only).
#
# usage: bench/compare/frontend.sh [path/to/vm]     (default: build/vm)
#   SIZES="1 10"   sizes in MB (default "1 10 50")
#   RUNS=3         runs per size and peer (default 2)
set -u
vm=${1:-build/vm}
runs=${RUNS:-2}
read -r -a sizes <<<"${SIZES:-1 10 50}"
if [[ ! -x $vm ]]; then
  echo "frontend.sh: no vm binary at '$vm' (build it, or pass its path)" >&2
  exit 1
fi
if ! command -v lua5.4 >/dev/null 2>&1; then
  echo "frontend.sh: lua5.4 not found" >&2
  exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

gen() {  # gen MB: writes $tmp/src.wf and $tmp/src.lua of about MB megabytes
  local lines=$(($1 * 100000))  # "a = a + 1\n" is 10 bytes
  { echo 'let a = 0'; yes 'a = a + 1' | head -n "$lines"; echo 'print(a)'; } >"$tmp/src.wf"
  { echo 'a = 0'; yes 'a = a + 1' | head -n "$lines"; echo 'print(a)'; } >"$tmp/src.lua"
}

# measure NAME CMD...: one run; keeps the best CPU seconds and smallest peak KB under NAME.
declare -A cpu rss
status=0
measure() {
  local name=$1
  shift
  /usr/bin/time -o "$tmp/time" -f "%U %S %M" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" || {
    echo "failed: $*" >&2; head -5 "$tmp/$name.err" >&2; status=1; return; }
  local u s m c
  read -r u s m <"$tmp/time"
  c=$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.2f", u + s }')
  if [[ -z ${cpu[$name]:-} ]] || awk -v a="$c" -v b="${cpu[$name]}" 'BEGIN { exit !(a < b) }'; then cpu[$name]=$c; fi
  if [[ -z ${rss[$name]:-} ]] || ((m < rss[$name])); then rss[$name]=$m; fi
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }

echo "machine: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-5s %-14s %8s %8s %8s %9s %9s %9s\n' MB what weft_s lua_s weft/lua weft_MB lua_MB weft/lua
for mb in "${sizes[@]}"; do
  gen "$mb"
  cpu=() rss=()
  for ((r = 0; r < runs; r++)); do
    measure weft "$vm" "$tmp/src.wf"
    measure lua lua5.4 "$tmp/src.lua"
    measure weftc "$vm" --check "$tmp/src.wf"
    measure luac luac5.4 -p "$tmp/src.lua"
  done
  if ! cmp -s "$tmp/weft.out" "$tmp/lua.out"; then
    echo "MISMATCH at $mb MB: weft printed '$(head -c 40 "$tmp/weft.out")', lua '$(head -c 40 "$tmp/lua.out")'" >&2
    status=1
  fi
  for pair in "weft lua run" "weftc luac compile-only"; do
    read -r w l what <<<"$pair"
    printf '%-5s %-14s %8s %8s %8s %9s %9s %9s\n' "$mb" "$what" "${cpu[$w]:--}" "${cpu[$l]:--}" \
      "$(ratio "${cpu[$w]:-0}" "${cpu[$l]:-0}")" "$(( ${rss[$w]:-0} / 1024 ))" "$(( ${rss[$l]:-0} / 1024 ))" \
      "$(ratio "${rss[$w]:-0}" "${rss[$l]:-0}")"
  done
done
echo "(CPU seconds and peak RSS, best of $runs runs; targets: weft/lua <= 3 in time, <= 10 in memory)"
exit $status
