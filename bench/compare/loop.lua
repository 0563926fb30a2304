-- A tight arithmetic loop: 100 million trips.
local s = 0
for i = 0, 100000000 - 1 do
  s = s + i * i % 7
end
print(s)
