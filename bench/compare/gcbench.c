/* Hans Boehm's GCBench on bdwgc (GC_MALLOC, default settings): the floor
 * for the same program in Weft (gcbench.wf has the description).
 * usage: gcbench_c [stretch_depth]   (default 18)  build: gcc -O2 ... -lgc */
#include <gc.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct node { struct node *left, *right; long i, j; } node;

static int stretch_depth = 18;

static node* new_node(node* l, node* r) {
  node* n = GC_MALLOC(sizeof(node));
  n->left = l;
  n->right = r;
  return n;
}

static long tree_size(int d) { return (1L << (d + 1)) - 1; }
static long num_iters(int d) { return 2 * tree_size(stretch_depth) / tree_size(d); }

static void populate(int d, node* n) {
  if (d <= 0) return;
  d--;
  n->left = new_node(NULL, NULL);
  n->right = new_node(NULL, NULL);
  populate(d, n->left);
  populate(d, n->right);
}

static node* make_tree(int d) {
  if (d <= 0) return new_node(NULL, NULL);
  return new_node(make_tree(d - 1), make_tree(d - 1));
}

static long count(const node* n) { return n == NULL ? 0 : 1 + count(n->left) + count(n->right); }

static void time_construction(int d) {
  long iters = num_iters(d);
  printf("Creating %ld trees of depth %d\n", iters, d);
  for (long i = 0; i < iters; i++) populate(d, new_node(NULL, NULL));
  for (long i = 0; i < iters; i++) (void)make_tree(d);
}

int main(int argc, char** argv) {
  GC_INIT();
  if (argc > 1) stretch_depth = atoi(argv[1]);
  int long_lived_depth = stretch_depth - 2, array_size = 500000;
  int min_depth = 4, max_depth = stretch_depth - 2;
  printf("Stretching memory with a binary tree of depth %d\n", stretch_depth);
  (void)make_tree(stretch_depth);
  printf("Creating a long-lived binary tree of depth %d\n", long_lived_depth);
  node* long_lived = new_node(NULL, NULL);
  populate(long_lived_depth, long_lived);
  printf("Creating a long-lived array of %d doubles\n", array_size);
  double* arr = GC_MALLOC_ATOMIC(sizeof(double) * (size_t)array_size);
  for (int i = 0; i < array_size; i++) arr[i] = 0.0;
  for (int i = 1; i < array_size / 2; i++) arr[i] = 1.0 / i;
  for (int d = min_depth; d <= max_depth; d += 2) time_construction(d);
  if (long_lived == NULL || arr[1000] != 1.0 / 1000) printf("Failed\n");
  printf("long-lived tree: %ld nodes\n", count(long_lived));
  return 0;
}
