# Hans Boehm's GCBench (gcbench.wf has the description). A node is
# [left, right, i, j]. usage: python3 gcbench.py [stretch_depth]   (default 18)
import sys

stretch_depth = int(sys.argv[1]) if len(sys.argv) > 1 else 18
long_lived_depth = stretch_depth - 2
array_size = 500000
min_depth, max_depth = 4, stretch_depth - 2

def tree_size(d): return (1 << (d + 1)) - 1
def num_iters(d): return 2 * tree_size(stretch_depth) // tree_size(d)
def node(l, r): return [l, r, 0, 0]

def populate(d, n):
    if d <= 0:
        return
    d -= 1
    n[0] = node(None, None)
    n[1] = node(None, None)
    populate(d, n[0])
    populate(d, n[1])

def make_tree(d):
    if d <= 0:
        return node(None, None)
    return node(make_tree(d - 1), make_tree(d - 1))

def count(n):
    if n is None:
        return 0
    return 1 + count(n[0]) + count(n[1])

def time_construction(d):
    iters = num_iters(d)
    print("Creating %d trees of depth %d" % (iters, d))
    for _ in range(iters):
        populate(d, node(None, None))
    for _ in range(iters):
        make_tree(d)

def main():
    print("Stretching memory with a binary tree of depth %d" % stretch_depth)
    make_tree(stretch_depth)
    print("Creating a long-lived binary tree of depth %d" % long_lived_depth)
    long_lived = node(None, None)
    populate(long_lived_depth, long_lived)
    print("Creating a long-lived array of %d doubles" % array_size)
    arr = [0.0] * array_size
    for i in range(1, array_size // 2):
        arr[i] = 1.0 / i
    for d in range(min_depth, max_depth + 1, 2):
        time_construction(d)
    if long_lived is None or arr[1000] != 1.0 / 1000:
        print("Failed")
    print("long-lived tree: %d nodes" % count(long_lived))

main()
