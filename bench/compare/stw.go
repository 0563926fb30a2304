// Stop-the-world under load: N goroutines spin in loops without calls
// while main calls runtime.GC() ROUNDS times, 10 ms apart. Run with
// GODEBUG=gctrace=1: each collection's stop-the-world phases are the first
// and third "ms clock" figures. Each spinner waits for start until all
// exist. Prints a checksum line that matches stw.wf.
// usage: stw N ROUNDS
package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync/atomic"
	"time"
)

var stop int32

func spin(ready chan bool, start chan bool) {
	ready <- true
	<-start
	x := 0
	for atomic.LoadInt32(&stop) == 0 {
		x++
	}
}

func main() {
	n, _ := strconv.Atoi(os.Args[1])
	rounds, _ := strconv.Atoi(os.Args[2])
	ready := make(chan bool, n)
	start := make(chan bool)
	for i := 0; i < n; i++ {
		go spin(ready, start)
	}
	for i := 0; i < n; i++ {
		<-ready
	}
	close(start)
	for r := 0; r < rounds; r++ {
		time.Sleep(10 * time.Millisecond)
		runtime.GC()
	}
	atomic.StoreInt32(&stop, 1)
	fmt.Printf("%d spinners, %d collections\n", n, rounds)
}
