-- Hans Boehm's GCBench (gcbench.wf has the description). A node is
-- {left, right, i, j}. usage: lua5.4 gcbench.lua [stretch_depth]   (default 18)
local stretch_depth = tonumber(arg[1] or "18")
local long_lived_depth = stretch_depth - 2
local array_size = 500000
local min_depth, max_depth = 4, stretch_depth - 2

local function tree_size(d) return (1 << (d + 1)) - 1 end
local function num_iters(d) return 2 * tree_size(stretch_depth) // tree_size(d) end
local function node(l, r) return {l, r, 0, 0} end

local function populate(d, n)
  if d <= 0 then return end
  d = d - 1
  n[1] = node(false, false)
  n[2] = node(false, false)
  populate(d, n[1])
  populate(d, n[2])
end

local function make_tree(d)
  if d <= 0 then return node(false, false) end
  return node(make_tree(d - 1), make_tree(d - 1))
end

local function count(n)
  if not n then return 0 end
  return 1 + count(n[1]) + count(n[2])
end

local function time_construction(d)
  local iters = num_iters(d)
  print("Creating " .. iters .. " trees of depth " .. d)
  for _ = 1, iters do populate(d, node(false, false)) end
  for _ = 1, iters do make_tree(d) end
end

print("Stretching memory with a binary tree of depth " .. stretch_depth)
local stretch = make_tree(stretch_depth)
stretch = nil
print("Creating a long-lived binary tree of depth " .. long_lived_depth)
local long_lived = node(false, false)
populate(long_lived_depth, long_lived)
print("Creating a long-lived array of " .. array_size .. " doubles")
local arr = {}
for i = 1, array_size do arr[i] = 0.0 end
for i = 1, array_size // 2 - 1 do arr[i + 1] = 1.0 / i end
for d = min_depth, max_depth, 2 do time_construction(d) end
if not long_lived or arr[1001] ~= 1.0 / 1000 then print("Failed") end
print("long-lived tree: " .. count(long_lived) .. " nodes")
