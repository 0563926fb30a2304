# Echoes standard input line by line: 1,000,000 lines into a pipe.
import sys


def main():
    for line in sys.stdin:
        print(line[:-1] if line.endswith("\n") else line)


main()
