# A tight arithmetic loop: 100 million trips.
def main():
    s = 0
    for i in range(100000000):
        s += i * i % 7
    print(s)

main()
