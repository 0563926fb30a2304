// Pauses with a large old generation, as old_heap.wf: the same records,
// the same stream of short-lived objects and old-to-young stores, then 5
// runtime.GC() calls. bench/gc/old_heap.sh runs it with GODEBUG=gctrace=1
// and takes each cycle's stop-the-world pauses (sweep termination + mark
// termination, the clock figures' first and third terms).
// usage: old_heap MIB ROUNDS
package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
)

type record struct {
	id   int
	name string
	pair []int
}

var sink interface{}

func main() {
	mib, _ := strconv.Atoi(os.Args[1])
	rounds, _ := strconv.Atoi(os.Args[2])
	n := mib * 5000
	old := make([]map[string]interface{}, 0, n)
	for i := 0; i < n; i++ {
		old = append(old, map[string]interface{}{"id": i, "name": "record-" + strconv.Itoa(i), "pair": []int{i, i + 1}})
	}
	runtime.GC()
	fmt.Fprintln(os.Stderr, "built")
	checksum, k := 0, 0
	for r := 0; r < rounds; r++ {
		for i := 0; i < 100000; i++ {
			var t interface{} = []int{i, i}
			if i%4 == 0 {
				t = map[string]interface{}{"a": t, "b": strconv.Itoa(i)}
			}
			sink = t
			if i%1000 == 0 {
				k = (k + 7919) % n
				old[k]["pair"] = []int{r, i}
			}
		}
		checksum += old[k]["pair"].([]int)[1]
	}
	for i := 0; i < 5; i++ {
		runtime.GC()
	}
	fmt.Println("old_heap: checksum", checksum+len(old))
}
