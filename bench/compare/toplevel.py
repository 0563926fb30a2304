# The integer loop at the top level (module globals in Python).
s = 0
i = 0
n = 30000000
while i < n:
    s += i * i % 7
    i += 1
print(s)
