/* The benchmarks game's binary-trees on bdwgc (GC_MALLOC, default
 * settings): the floor for the same program in Weft.
 * usage: binary_trees_c [depth]   (default 16)  build: gcc -O2 ... -lgc */
#include <gc.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct node { struct node *left, *right; } node;

static node* make(int d) {
  node* t = GC_MALLOC(sizeof(node));
  if (d > 0) {
    t->left = make(d - 1);
    t->right = make(d - 1);
  }
  return t;
}

static long check(const node* t) {
  if (t->left == NULL) return 1;
  return 1 + check(t->left) + check(t->right);
}

int main(int argc, char** argv) {
  GC_INIT();
  int n = argc > 1 ? atoi(argv[1]) : 16;
  int min_depth = 4;
  int max_depth = n > min_depth + 2 ? n : min_depth + 2;
  int stretch = max_depth + 1;
  printf("stretch tree of depth %d\t check: %ld\n", stretch, check(make(stretch)));
  node* long_lived = make(max_depth);
  for (int d = min_depth; d <= max_depth; d += 2) {
    long iterations = 1L << (max_depth - d + min_depth);
    long c = 0;
    for (long i = 0; i < iterations; i++) c += check(make(d));
    printf("%ld\t trees of depth %d\t check: %ld\n", iterations, d, c);
  }
  printf("long lived tree of depth %d\t check: %ld\n", max_depth, check(long_lived));
  return 0;
}
