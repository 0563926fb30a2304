-- The benchmarks game's binary-trees: allocation and collection.
-- usage: lua5.4 binary_trees.lua [depth]   (default 16)
-- A tree node is {left, right}; a leaf is {}.
local function make(d)
  if d == 0 then return {} end
  return {make(d - 1), make(d - 1)}
end

local function check(t)
  if t[1] == nil then return 1 end
  return 1 + check(t[1]) + check(t[2])
end

local n = tonumber(arg[1] or "16")
local min_depth = 4
local max_depth = math.max(min_depth + 2, n)
local stretch = max_depth + 1
print("stretch tree of depth " .. stretch .. "\t check: " .. check(make(stretch)))

local long_lived = make(max_depth)
for d = min_depth, max_depth, 2 do
  local iterations = 1 << (max_depth - d + min_depth)
  local c = 0
  for _ = 1, iterations do c = c + check(make(d)) end
  print(iterations .. "\t trees of depth " .. d .. "\t check: " .. c)
end
print("long lived tree of depth " .. max_depth .. "\t check: " .. check(long_lived))
