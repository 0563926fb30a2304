#!/bin/bash
# The trampoline's CFI: stopped in weft_async_preempt2, gdb must unwind
# through the trampoline into the interpreter function it interrupted.
# Usage: gdb_unwind.sh path/to/vm [qemu]
# With `qemu` (a cross-built arm64 vm, tools/ci-arm64.sh): the vm runs
# under qemu-aarch64-static's gdbstub and gdb-multiarch attaches to it.
set -euo pipefail
vm=$1
mode=${2:-native}
script=$(mktemp --suffix=.wf)
trap 'rm -f "$script"' EXIT
# On one P, main gets the CPU back from the call-free spinner only by an
# asynchronous preemption (the spinner has reported running, so no race
# with its start; sleep takes milliseconds).
cat >"$script" <<'WF'
let stop = false
let running = chan(1)
fn spin(n) {
  running <- true
  let x = 0
  while !stop { x = x + n }
  return x
}
go spin(1)
<-running
sleep(20)
gc()
stop = true
WF
gdb_cmds=(-ex "handle SIGURG nostop noprint pass" -ex "break weft_async_preempt2")
if [[ $mode == qemu ]]; then
  port=$((20000 + RANDOM % 20000))
  qemu-aarch64-static -L / -g "$port" "$vm" --procs 1 "$script" >/dev/null 2>&1 &
  qemu_pid=$!
  trap 'rm -f "$script"; kill "$qemu_pid" 2>/dev/null || true' EXIT
  sleep 1
  bt=$(timeout 120 gdb-multiarch -nx -batch -ex "set sysroot /" -ex "file $vm" -ex "target remote :$port" \
    "${gdb_cmds[@]}" -ex continue -ex "bt 8" 2>&1 | grep -E '^#[0-9]')
else
  bt=$(timeout 60 gdb -nx -batch "${gdb_cmds[@]}" -ex run -ex "bt 8" --args "$vm" --procs 1 "$script" 2>&1 |
    grep -E '^#[0-9]')
fi
echo "$bt"
# frame 0 is weft_async_preempt2, then the trampoline's signal frame, then
# the interrupted code: interpret, or first the helpers inlined into it
# where the signal landed (arg_bx inside arg_sbx inside interpret: frames
# 2 to 4, in a CI run), each shown by gdb as a frame of its own. Nothing
# before interpret may be unknown (`??`).
echo "$bt" | sed -n 1p | grep -q weft_async_preempt2
echo "$bt" | sed -n '2,8p' | grep -q 'weft::interpret'
if echo "$bt" | sed -n "2,$(echo "$bt" | grep -n -m1 'weft::interpret' | cut -d: -f1)p" | grep -q '??'; then
  echo "an unknown frame before interpret" >&2
  exit 1
fi
echo "unwound through the trampoline"
