#!/bin/bash
# The trampoline's CFI: stopped in weft_async_preempt2, gdb must unwind
# through the trampoline into the interpreter function it interrupted.
# Usage: gdb_unwind.sh path/to/vm
set -euo pipefail
vm=$1
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
bt=$(timeout 60 gdb -nx -batch -ex "handle SIGURG nostop noprint pass" -ex "break weft_async_preempt2" \
  -ex run -ex "bt 8" --args "$vm" --procs 1 "$script" 2>&1 | grep -E '^#[0-9]')
echo "$bt"
# frame 0 is weft_async_preempt2, then the trampoline's signal frame, then interpret
echo "$bt" | sed -n 1p | grep -q weft_async_preempt2
echo "$bt" | sed -n '2,4p' | grep -q 'weft::interpret'
echo "unwound through the trampoline"
