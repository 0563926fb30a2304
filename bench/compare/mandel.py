# A float inner loop: the Mandelbrot set on a 600x600 grid, 50 iterations.
def mandel(size, iters):
    inside = 0
    for y in range(size):
        ci = 2.0 * y / size - 1.0
        for x in range(size):
            cr = 2.0 * x / size - 1.5
            zr = zi = 0.0
            k = 0
            while k < iters and zr * zr + zi * zi <= 4.0:
                t = zr * zr - zi * zi + cr
                zi = 2.0 * zr * zi + ci
                zr = t
                k += 1
            if k == iters:
                inside += 1
    return inside
print(mandel(600, 50))
