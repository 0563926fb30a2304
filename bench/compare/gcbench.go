// Hans Boehm's GCBench (gcbench.wf has the description).
// usage: gcbench [stretch_depth]   (default 18)
package main

import (
	"fmt"
	"os"
	"strconv"
)

type node struct {
	left, right *node
	i, j        int
}

var stretchDepth = 18

func treeSize(d int) int { return (1 << (d + 1)) - 1 }
func numIters(d int) int { return 2 * treeSize(stretchDepth) / treeSize(d) }

func populate(d int, n *node) {
	if d <= 0 {
		return
	}
	d--
	n.left = &node{}
	n.right = &node{}
	populate(d, n.left)
	populate(d, n.right)
}

func makeTree(d int) *node {
	if d <= 0 {
		return &node{}
	}
	return &node{left: makeTree(d - 1), right: makeTree(d - 1)}
}

func count(n *node) int {
	if n == nil {
		return 0
	}
	return 1 + count(n.left) + count(n.right)
}

var sink *node

func timeConstruction(d int) {
	iters := numIters(d)
	fmt.Printf("Creating %d trees of depth %d\n", iters, d)
	for i := 0; i < iters; i++ {
		t := &node{}
		populate(d, t)
		sink = t
	}
	for i := 0; i < iters; i++ {
		sink = makeTree(d)
	}
}

func main() {
	if len(os.Args) > 1 {
		stretchDepth, _ = strconv.Atoi(os.Args[1])
	}
	longLivedDepth, arraySize := stretchDepth-2, 500000
	minDepth, maxDepth := 4, stretchDepth-2
	fmt.Printf("Stretching memory with a binary tree of depth %d\n", stretchDepth)
	sink = makeTree(stretchDepth)
	sink = nil
	fmt.Printf("Creating a long-lived binary tree of depth %d\n", longLivedDepth)
	longLived := &node{}
	populate(longLivedDepth, longLived)
	fmt.Printf("Creating a long-lived array of %d doubles\n", arraySize)
	arr := make([]float64, arraySize)
	for i := 1; i < arraySize/2; i++ {
		arr[i] = 1.0 / float64(i)
	}
	for d := minDepth; d <= maxDepth; d += 2 {
		timeConstruction(d)
	}
	if longLived == nil || arr[1000] != 1.0/1000 {
		fmt.Println("Failed")
	}
	fmt.Printf("long-lived tree: %d nodes\n", count(longLived))
}
