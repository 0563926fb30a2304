-- Formatting 1,000,000 floats to three places (format_floats.wf).
local fmt = string.format
local total = 0
for i = 0, 1000000 - 1 do
  local s = fmt("%.3f", (i * 7919 % 1000003) / 997.0 - 500)
  total = total + #s
  if i % 100000 == 0 then print(s) end
end
print(total)
