-- Word frequencies over a file (bench/compare/wordfreq.sh), as wordfreq.wf.
local f = assert(io.open(arg[1], "rb"))
local text = f:read("a")
f:close()
local counts, total = {}, 0
for w in text:gmatch("%S+") do
  counts[w] = (counts[w] or 0) + 1
  total = total + 1
end
local words, n = {}, 0
for w in pairs(counts) do n = n + 1; words[n] = w end
table.sort(words, function(a, b) return counts[a] > counts[b] or (counts[a] == counts[b] and a < b) end)
print(string.format("words %d distinct %d", total, n))
for i = 1, 10 do print(words[i] .. " " .. counts[words[i]]) end
