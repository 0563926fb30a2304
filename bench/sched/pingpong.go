// Channel ping-pong, as pingpong.wf.
package main

import (
	"fmt"
	"time"
)

func main() {
	n := 500000
	ping := make(chan int)
	pong := make(chan int)
	go func() {
		for i := 0; i < n; i++ {
			pong <- (<-ping) + 1
		}
	}()
	t0 := time.Now()
	v := 0
	for i := 0; i < n; i++ {
		ping <- v
		v = <-pong
	}
	ns := time.Since(t0).Nanoseconds()
	if v != n {
		panic("lost messages")
	}
	fmt.Println("pingpong_ns_per_msg", ns/int64(2*n))
}
