# Formatting 1,000,000 floats to three places (format_floats.wf).
total = 0
for i in range(1000000):
    s = "%.3f" % ((i * 7919 % 1000003) / 997.0 - 500)
    total += len(s)
    if i % 100000 == 0:
        print(s)
print(total)
