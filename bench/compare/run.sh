#!/usr/bin/env bash
# Weft next to its peers on this machine, in one command.
#
# 1. Programs: fib, loop, binary_trees (depth 16), gcbench (Boehm's
#    GCBench), format_floats (1,000,000 strings.format("%.3f"); Lua and
#    Python only), echo (1,000,000 lines of standard input echoed with
#    readline/print into a pipe: `prog <input | cat >out`), toplevel (the
#    integer loop at a script's top level), mandel (a float inner loop) and
#    nbody (float arithmetic through map fields) under Weft, C on bdwgc
#    (gcc -O2 -lgc: binary_trees and gcbench only), Go, Lua 5.4, LuaJIT's
#    interpreter (`luajit -joff`, on the .lua files) and Python 3. Each is
#    timed as the best of RUNS runs in CPU seconds (user + system: every
#    thread of the process), the peers taking turns (one run of each per
#    round, so a passing load hits them alike); every peer's output must
#    equal Weft's (a mismatch is reported and makes the exit status 1).
#    Prints seconds and the ratio weft/peer. CLOCK=wall times wall-clock
#    seconds instead.
# 2. Stop-the-world: stw.wf / stw.go, N goroutines spinning without calls
#    while main collects every 10 ms (STW_ROUNDS times) for each N in
#    STW_N. Prints Weft's time-to-stop and pause percentiles (from
#    `vm --trace=gc`) and Go's pause (the two stop-the-world phases of
#    GODEBUG=gctrace=1). Weft's spinners need asynchronous preemption; a
#    run that exceeds STW_TIMEOUT seconds is reported as a hang.
#
# A peer whose tool is not installed (gcc or libgc-dev, go, lua5.4,
# python3) is skipped with a note.
#
# usage: bench/compare/run.sh [path/to/vm]      (default: build/vm)
#   RUNS=1          faster, noisier (default 3)
#   STW_N="2 10"    spinner counts (default "2 10"; Go's runtime.GC takes
#                   seconds per call with 100 spinners)
#   STW_ROUNDS=20   collections per STW run (default 20)
#   ONLY=programs|stw   one part only
#   PROGRAMS="echo"     some of the programs only
#   BEFORE=path/to/vm   an earlier vm as one more peer ("before"), timed in
#                       the same rounds: before/after figures from one run
#   OUT=FILE            also write the table to FILE (bench/plot/ratios.py
#                       draws it)
set -u
here=$(cd "$(dirname "$0")" && pwd)
vm=${1:-build/vm}
runs=${RUNS:-3}
stw_n=${STW_N:-2 10}
stw_rounds=${STW_ROUNDS:-20}
stw_timeout=${STW_TIMEOUT:-120}
only=${ONLY:-}
read -r -a programs <<<"${PROGRAMS:-fib loop binary_trees gcbench format_floats echo toplevel mandel nbody}"
langs_all=(weft before c go lua luajit python)
before=${BEFORE:-}
out_file=${OUT:-}
clock=${CLOCK:-cpu}

if [[ ! -x $vm ]]; then
  echo "run.sh: no vm binary at '$vm' (build it, or pass its path)" >&2
  exit 1
fi
vm=$(cd "$(dirname "$vm")" && pwd)/$(basename "$vm")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# ---- which peers exist; compiled peers are built into $tmp ----

declare -A have=([weft]=1)
if [[ -n $before ]]; then
  if [[ -x $before ]]; then
    have[before]=1
    before=$(cd "$(dirname "$before")" && pwd)/$(basename "$before")
  else
    echo "note: BEFORE=$before is no vm binary, skipping it" >&2
  fi
fi
if command -v gcc >/dev/null 2>&1 && echo 'int main(void){return 0;}' | gcc -x c - -o "$tmp/t" -lgc 2>/dev/null; then
  have[c]=1
else
  echo "note: gcc with libgc (libgc-dev) not found, skipping C" >&2
fi
if command -v go >/dev/null 2>&1; then have[go]=1; else echo "note: go not found, skipping Go" >&2; fi
if command -v lua5.4 >/dev/null 2>&1; then have[lua]=1; else echo "note: lua5.4 not found, skipping Lua" >&2; fi
if command -v luajit >/dev/null 2>&1; then have[luajit]=1; else echo "note: luajit not found, skipping LuaJIT" >&2; fi
if command -v python3 >/dev/null 2>&1; then have[python]=1; else echo "note: python3 not found, skipping Python" >&2; fi

build() {  # build LANG PROGRAM: compiles the peer into $tmp/LANG.PROGRAM; false if it has none
  local l=$1 p=$2
  case $l in
    c) [[ -f $here/$p.c ]] && gcc -O2 -o "$tmp/c.$p" "$here/$p.c" -lgc ;;
    go) [[ -f $here/$p.go ]] && (cd "$tmp" && GOCACHE=$tmp/gocache go build -o "$tmp/go.$p" "$here/$p.go") ;;
    *) return 0 ;;
  esac
}

command_for() {  # command_for LANG PROGRAM: prints the command line, or nothing
  local l=$1 p=$2
  case $l in
    weft) [[ -f $here/$p.wf ]] && echo "$vm $here/$p.wf" ;;
    before) [[ -f $here/$p.wf ]] && echo "$before $here/$p.wf" ;;
    c | go) [[ -x $tmp/$l.$p ]] && echo "$tmp/$l.$p" ;;
    lua) [[ -f $here/$p.lua ]] && echo "lua5.4 $here/$p.lua" ;;
    # its interpreter only: a JIT-less VM's peer (fib, loop and toplevel
    # compute past 2^53, where LuaJIT's doubles differ: reported as mismatches)
    luajit) [[ -f $here/$p.lua ]] && echo "luajit -joff $here/$p.lua" ;;
    # PYTHONUNBUFFERED (set in some shells) would make Python write per print
    python) [[ -f $here/$p.py ]] && echo "env -u PYTHONUNBUFFERED python3 $here/$p.py" ;;
  esac
}

# make_input PROGRAM: writes the standard input a program reads to
# $tmp/PROGRAM.in, or nothing for programs that read none.
make_input() {
  case $1 in
    echo) [[ -f $tmp/echo.in ]] ||
      awk 'BEGIN { for (i = 0; i < 1000000; i++) printf "%d the quick brown fox %d\n", i, i * 7919 % 1000003 }' \
        >"$tmp/echo.in" ;;
  esac
}

# time_once CMD OUT [IN]: one run's wall time in seconds, or "-" if it
# failed; leaves stdout in OUT. With IN, the program reads IN and writes
# into a pipe (to cat), as a filter in a shell pipeline does.
time_once() {
  local cmd=$1 out=$2 in=${3:-} t
  TIMEFORMAT=%R
  [[ $clock == cpu ]] && TIMEFORMAT='%U %S'
  if [[ -n $in ]]; then
    # shellcheck disable=SC2086
    t=$( { time (set -o pipefail; $cmd <"$in" 2>"$out.err" | cat >"$out"); } 2>&1 ) || {
      echo "failed: $cmd" >&2; head -5 "$out.err" >&2; echo "-"; return; }
  else
    # shellcheck disable=SC2086
    t=$( { time $cmd >"$out" 2>"$out.err"; } 2>&1 ) || {
      echo "failed: $cmd" >&2; head -5 "$out.err" >&2; echo "-"; return; }
  fi
  awk -v t="$t" 'BEGIN { n = split(t, f, " "); s = 0; for (i = 1; i <= n; i++) s += f[i]; printf "%.3f\n", s }'
}

ratio() {
  if [[ $1 == - || $2 == - ]]; then echo "-"; else awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; fi
}

status=0

run_programs() {
  local p l r t
  declare -A secs cmds
  for p in "${programs[@]}"; do
    for l in "${langs_all[@]}"; do
      secs[$l.$p]=-
      cmds[$l.$p]=
      [[ -n ${have[$l]:-} ]] || continue
      build "$l" "$p" 2>"$tmp/build.err" || { [[ -s $tmp/build.err ]] && cat "$tmp/build.err" >&2; continue; }
      cmds[$l.$p]=$(command_for "$l" "$p")
    done
    make_input "$p"
    local in=
    [[ -f $tmp/$p.in ]] && in=$tmp/$p.in
    # Round-robin: every peer runs once per round, so a load that comes and
    # goes on a shared machine hits them alike and the ratios hold.
    for ((r = 0; r < runs; r++)); do
      for l in "${langs_all[@]}"; do
        [[ -n ${cmds[$l.$p]} ]] || continue
        t=$(time_once "${cmds[$l.$p]}" "$tmp/$l.$p.out" "$in")
        if [[ $t == - ]]; then cmds[$l.$p]=; continue; fi
        if [[ ${secs[$l.$p]} == - ]] || awk -v a="$t" -v b="${secs[$l.$p]}" 'BEGIN { exit !(a < b) }'; then
          secs[$l.$p]=$t
        fi
      done
    done
    for l in "${langs_all[@]:1}"; do
      [[ ${secs[$l.$p]} == - ]] && continue
      if ! cmp -s "$tmp/weft.$p.out" "$tmp/$l.$p.out"; then
        echo "MISMATCH: $p output of $l differs from weft's" >&2
        diff "$tmp/weft.$p.out" "$tmp/$l.$p.out" | head -5 >&2
        status=1
      fi
    done
  done
  {
    printf '%-13s' program
    for l in "${langs_all[@]}"; do printf ' %8s' "$l"; done
    for l in "${langs_all[@]:1}"; do printf ' %9s' "weft/$l"; done
    echo
    for p in "${programs[@]}"; do
      printf '%-13s' "$p"
      for l in "${langs_all[@]}"; do printf ' %8s' "${secs[$l.$p]}"; done
      for l in "${langs_all[@]:1}"; do printf ' %9s' "$(ratio "${secs[weft.$p]}" "${secs[$l.$p]}")"; done
      echo
    done
    geomean_row secs
    echo "(seconds, best of $runs runs, $clock time; outputs checked equal to weft's)"
  } | tee ${out_file:+"$out_file"}
}

# geomean_row SECS: the geometric mean over the programs of weft/peer, for
# each peer that ran every program weft ran (else "-").
geomean_row() {
  local -n s=$1
  local l p line
  printf '%-13s' geomean
  for l in "${langs_all[@]}"; do printf ' %8s' ""; done
  for l in "${langs_all[@]:1}"; do
    line=
    for p in "${programs[@]}"; do
      [[ ${s[weft.$p]} == - ]] && continue
      line+=" ${s[weft.$p]}/${s[$l.$p]}"
    done
    printf ' %9s' "$(awk -v l="$line" 'BEGIN { n = split(l, f, " "); g = 0; k = 0
      for (i = 1; i <= n; i++) { split(f[i], q, "/"); if (q[2] == "-") { print "-"; exit }
        g += log(q[1] / q[2]); k++ }
      if (k == 0) print "-"; else printf "%.2f", exp(g / k) }')"
  done
  echo
}

# pct FILE P: the P-th percentile (nearest rank) of the numbers in FILE
pct() {
  sort -g "$1" | awk -v p="$2" '{ v[NR] = $1 } END { if (NR == 0) { print "-"; exit }
    i = int(p * NR); if (i < 1) i = 1; if (i > NR) i = NR; printf "%.3f", v[i] }'
}

# quantiles FILE: "p50 p99 max" in ms
quantiles() { echo "$(pct "$1" 0.5) $(pct "$1" 0.99) $(pct "$1" 1.0)"; }

run_stw() {
  local n
  printf '\n%-10s %-6s %24s %24s %24s\n' spinners peer "time-to-stop p50/p99/max" "pause p50/p99/max" "wall s"
  [[ -n ${have[go]:-} ]] && build go stw
  for n in $stw_n; do
    # Weft: "gc N @T: stw X ms, mark X ms, pause X ms, ..."
    local t0 t1 rc
    t0=$(date +%s.%N)
    timeout "$stw_timeout" "$vm" --trace=gc "$here/stw.wf" "$n" "$stw_rounds" >/dev/null 2>"$tmp/weft.stw"
    rc=$?
    t1=$(date +%s.%N)
    if [[ $rc == 124 ]]; then
      printf '%-10s %-6s %s\n' "$n" weft "hang: no stop within ${stw_timeout}s (needs asynchronous preemption)"
    else
      awk '{ for (i = 1; i < NF; i++) if ($i == "stw") print $(i + 1) }' "$tmp/weft.stw" >"$tmp/w.stop"
      awk '{ for (i = 1; i < NF; i++) if ($i == "pause") print $(i + 1) }' "$tmp/weft.stw" >"$tmp/w.pause"
      printf '%-10s %-6s %24s %24s %24s\n' "$n" weft "$(quantiles "$tmp/w.stop")" "$(quantiles "$tmp/w.pause")" \
        "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')"
    fi
    [[ -x $tmp/go.stw ]] || continue
    # Go: "gc N @Ts P%: A+B+C ms clock, ...": A and C are the stop-the-world phases
    t0=$(date +%s.%N)
    GODEBUG=gctrace=1 timeout "$stw_timeout" "$tmp/go.stw" "$n" "$stw_rounds" >/dev/null 2>"$tmp/go.stw.trace"
    rc=$?
    t1=$(date +%s.%N)
    if [[ $rc == 124 ]]; then
      printf '%-10s %-6s %s\n' "$n" go "did not finish within ${stw_timeout}s"
      continue
    fi
    awk '/^gc / { split($5, t, "+"); print t[1] + t[3] }' "$tmp/go.stw.trace" >"$tmp/g.pause"
    printf '%-10s %-6s %24s %24s %24s\n' "$n" go "-" "$(quantiles "$tmp/g.pause")" \
      "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')"
  done
  echo "(ms; $stw_rounds collections per run; Go prints no time-to-stop of its own)"
}

# The machine and how busy it is: figures from a loaded machine mislead.
echo "machine: $(nproc) CPUs, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo);" \
  "load average $(cut -d' ' -f1-3 /proc/loadavg)"
[[ $only != stw ]] && run_programs
[[ $only != programs ]] && run_stw
exit $status
