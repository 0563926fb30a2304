// A tight arithmetic loop: 100 million trips.
package main

import "fmt"

func main() {
	s := 0
	for i := 0; i < 100000000; i++ {
		s += i * i % 7
	}
	fmt.Println(s)
}
