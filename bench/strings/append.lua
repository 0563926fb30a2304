-- As append.wf (bench/strings/append.sh), in Lua 5.4.
local n = tonumber(arg[1])
local s = ""
for i = 0, n - 1 do s = s .. "ab" end
local t = ""
for i = 0, n - 1 do t = t .. tostring(i % 10) end
print(#s .. " " .. #t .. " " .. (s:find("ba", 1, true) - 1) .. " " .. t:sub(#t - 9))
