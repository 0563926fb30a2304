// Parked goroutines, as parked.wf.
package main

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strconv"
)

func main() {
	n, _ := strconv.Atoi(os.Args[1])
	gate := make(chan int)
	for i := 0; i < n; i++ {
		go func() { <-gate }()
	}
	runtime.Gosched()
	fmt.Println("ready", runtime.NumGoroutine())
	bufio.NewReader(os.Stdin).ReadString('\n')
	close(gate)
}
