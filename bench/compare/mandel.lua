-- A float inner loop: the Mandelbrot set on a 600x600 grid, 50 iterations.
local function mandel(size, iters)
  local inside = 0
  for y = 0, size - 1 do
    local ci = 2.0 * y / size - 1.0
    for x = 0, size - 1 do
      local cr = 2.0 * x / size - 1.5
      local zr, zi, k = 0.0, 0.0, 0
      while k < iters and zr * zr + zi * zi <= 4.0 do
        local t = zr * zr - zi * zi + cr
        zi = 2.0 * zr * zi + ci
        zr = t
        k = k + 1
      end
      if k == iters then inside = inside + 1 end
    end
  end
  return inside
end
print(mandel(600, 50))
