# Word frequencies over a file (bench/compare/wordfreq.sh), as wordfreq.wf.
import sys
from collections import Counter

with open(sys.argv[1], "rb") as f:
    counts = Counter(f.read().split())
total = sum(counts.values())
words = sorted(counts, key=lambda w: (-counts[w], w))
print("words", total, "distinct", len(words))
for w in words[:10]:
    print(w.decode(), counts[w])
