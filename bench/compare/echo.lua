-- Echoes standard input line by line: 1,000,000 lines into a pipe.
-- (Lua 5.4's print flushes stdout after every call.)
for line in io.lines() do
  print(line)
end
