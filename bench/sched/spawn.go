// Spawn cost, as spawn.wf.
package main

import (
	"fmt"
	"time"
)

func main() {
	n := 100000
	done := make(chan int, n)
	t0 := time.Now()
	for i := 0; i < n; i++ {
		go func() { done <- 1 }()
	}
	for i := 0; i < n; i++ {
		<-done
	}
	fmt.Println("spawn_ns_per_goroutine", time.Since(t0).Nanoseconds()/int64(n))
}
