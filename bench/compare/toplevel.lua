-- The integer loop at the top level (Lua's top-level locals are registers).
local s = 0
local i = 0
local n = 30000000
while i < n do
  s = s + i * i % 7
  i = i + 1
end
print(s)
