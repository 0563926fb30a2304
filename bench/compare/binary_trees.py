# The benchmarks game's binary-trees: allocation and collection.
# usage: python3 binary_trees.py [depth]   (default 16)
import sys

# A tree node is (left, right); a leaf is (None, None).
def make(d):
    if d == 0:
        return (None, None)
    return (make(d - 1), make(d - 1))

def check(t):
    if t[0] is None:
        return 1
    return 1 + check(t[0]) + check(t[1])

def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 16
    min_depth = 4
    max_depth = max(min_depth + 2, n)
    stretch = max_depth + 1
    print("stretch tree of depth %d\t check: %d" % (stretch, check(make(stretch))))
    long_lived = make(max_depth)
    for d in range(min_depth, max_depth + 1, 2):
        iterations = 1 << (max_depth - d + min_depth)
        c = 0
        for _ in range(iterations):
            c += check(make(d))
        print("%d\t trees of depth %d\t check: %d" % (iterations, d, c))
    print("long lived tree of depth %d\t check: %d" % (max_depth, check(long_lived)))

main()
