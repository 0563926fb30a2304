#!/usr/bin/env python3
"""Per-program CPU-time ratios to Lua 5.4, as an SVG bar chart, from the table
bench/compare/run.sh prints (or writes with OUT=FILE). Python 3 standard
library only, like plot.py.

One group of bars per program, plus the geometric mean over the programs:
weft/lua, and before/lua when the run had a BEFORE binary, and luajit/lua
(LuaJIT's interpreter) for scale. The x axis is logarithmic; the line at 1
is Lua, the dashed one the target ratio (issue 17: 0.7 for the mean).
A program Lua does not run (no .lua peer) is left out.

usage: bench/plot/ratios.py RESULTS [--out ratios.svg] [--target 0.7] [--title TEXT]
   e.g. OUT=results.txt BEFORE=old/vm bench/compare/run.sh build/vm
        bench/plot/ratios.py results.txt --out bench/plot/ratios.svg
"""
import argparse
import math
import sys

SERIES = [("weft", "#1f77b4"), ("before", "#aec7e8"), ("luajit", "#ff7f0e")]
LEFT, RIGHT, TOP, BOTTOM, ROW = 120, 30, 50, 50, 14


def read_table(path):
    """{program: {peer: seconds}} from run.sh's table (header 'program ...')."""
    rows, header = {}, None
    with open(path) as f:
        for line in f:
            words = line.split()
            if not words:
                continue
            if words[0] == "program":
                header = [w for w in words[1:] if "/" not in w]
                continue
            if header is None or words[0] in ("geomean",) or line.startswith("("):
                continue
            secs = {}
            for peer, w in zip(header, words[1:1 + len(header)]):
                try:
                    secs[peer] = float(w)
                except ValueError:
                    pass
            rows[words[0]] = secs
    if header is None:
        sys.exit(f"ratios.py: no run.sh table in {path}")
    return rows


def ratios(rows):
    """[(program, {series: ratio to lua})] with the geometric mean last."""
    out = []
    for prog, secs in rows.items():
        lua = secs.get("lua")
        if not lua or "weft" not in secs:
            continue
        out.append((prog, {s: secs[s] / lua for s, _ in SERIES if secs.get(s)}))
    if out:
        mean = {}
        for s, _ in SERIES:
            vals = [r[s] for _, r in out if s in r]
            if len(vals) == len(out):
                mean[s] = math.exp(sum(math.log(v) for v in vals) / len(vals))
        out.append(("geomean", mean))
    return out


def esc(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def svg(data, target, title):
    series = [(s, c) for s, c in SERIES if any(s in r for _, r in data)]
    group = ROW * len(series) + 10
    width = 720
    height = TOP + BOTTOM + group * len(data)
    vals = [v for _, r in data for v in r.values()] + [1.0, target]
    lo = math.floor(math.log2(min(vals)) - 0.2)
    hi = math.ceil(math.log2(max(vals)) + 0.2)

    def px(v):
        return LEFT + (math.log2(v) - lo) / (hi - lo) * (width - LEFT - RIGHT)

    o = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
         f'font-family="sans-serif" font-size="12">',
         f'<rect width="{width}" height="{height}" fill="white"/>',
         f'<text x="{width / 2}" y="20" text-anchor="middle" font-size="15">{esc(title)}</text>']
    for e in range(lo, hi + 1):
        v = 2.0 ** e
        x = px(v)
        o.append(f'<line x1="{x:.1f}" y1="{TOP}" x2="{x:.1f}" y2="{height - BOTTOM}" stroke="#ddd"/>')
        o.append(f'<text x="{x:.1f}" y="{height - BOTTOM + 16}" text-anchor="middle">{v:g}</text>')
    o.append(f'<text x="{LEFT + (width - LEFT - RIGHT) / 2}" y="{height - 12}" text-anchor="middle">'
             f'CPU time / Lua 5.4 (log scale; lower is faster)</text>')
    for i, (prog, r) in enumerate(data):
        y0 = TOP + i * group
        bold = ' font-weight="bold"' if prog == "geomean" else ""
        o.append(f'<text x="{LEFT - 8}" y="{y0 + group / 2 + 2:.1f}" text-anchor="end"{bold}>{esc(prog)}</text>')
        for j, (s, color) in enumerate(series):
            if s not in r:
                continue
            y = y0 + 5 + j * ROW
            x0, x1 = px(2.0 ** lo), px(r[s])
            o.append(f'<rect x="{x0:.1f}" y="{y}" width="{x1 - x0:.1f}" height="{ROW - 2}" fill="{color}"/>')
            o.append(f'<text x="{x1 + 3:.1f}" y="{y + ROW - 4}" font-size="10">{r[s]:.2f}</text>')
    for v, dash, name in ((1.0, "", "Lua 5.4"), (target, ' stroke-dasharray="5,4"', f"target {target:g}")):
        x = px(v)
        o.append(f'<line x1="{x:.1f}" y1="{TOP - 6}" x2="{x:.1f}" y2="{height - BOTTOM}" stroke="black"{dash}/>')
        o.append(f'<text x="{x:.1f}" y="{TOP - 9}" text-anchor="middle" font-size="10">{esc(name)}</text>')
    for j, (s, color) in enumerate(series):
        x = width - RIGHT - 90
        y = TOP + 8 + j * 15
        o.append(f'<rect x="{x}" y="{y - 9}" width="10" height="10" fill="{color}"/>')
        o.append(f'<text x="{x + 14}" y="{y}">{esc(s)}/lua</text>')
    o.append("</svg>")
    return "\n".join(o) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("results", help="run.sh's table (its OUT file, or its saved output)")
    ap.add_argument("--out", default="ratios.svg")
    ap.add_argument("--target", type=float, default=0.7)
    ap.add_argument("--title", default="Weft against Lua 5.4, per program (bench/compare/run.sh)")
    args = ap.parse_args()
    data = ratios(read_table(args.results))
    if not data:
        sys.exit("ratios.py: no program with both weft and lua figures")
    with open(args.out, "w") as f:
        f.write(svg(data, args.target, args.title))
    for prog, r in data:
        print(f"{prog:13s} " + " ".join(f"{s}/lua {v:.2f}" for s, v in r.items()))


if __name__ == "__main__":
    main()
