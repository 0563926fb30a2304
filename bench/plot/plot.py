#!/usr/bin/env python3
"""Pictures of Weft's collector from its own output, as SVG, with nothing but
the Python standard library (no plotting package, no service).

Inputs:
  --trace FILE   stderr of `vm --trace=gc ...`: one line per collection,
                 "gc N @Ts: stw X ms, mark X ms, pause X ms, heap A -> B MiB,
                 live L MiB, G goroutines". Repeatable; each file is a series
                 named after it (or NAME=FILE).
  --json FILE    weft_bench --benchmark_format=json (or --benchmark_out=FILE):
                 BM_LiveHeap's pause_p50_us / bdwgc_pause_p50_us and
                 BM_LiveHeapMinor's minor_pause_p50_us against
                 live_after_MiB, and the stw/pause percentiles of the others.
  --table FILE   TABLE=FILE output of bench/gc/old_heap.sh: one row per mode
                 (full, generational, go), heap size and kind (minor, full)
                 with pause p50/p99/max in ms. Repeatable; rows of the same
                 mode, kind and size are pooled (the median of their p50s).

Outputs, into --out DIR (default .):
  pause_hist.svg      pause histograms, one series per trace (log-spaced bins)
  stw_hist.svg        time-to-stop histograms
  pause_vs_heap.svg   pause against live heap: every collection of each trace
                      (points), BM_LiveHeap's curves (Weft's full collections,
                      its minor ones, bdwgc alone) and old_heap.sh's tables
                      (full, minor and Go's pauses, p50 against heap size)

usage: bench/plot/plot.py [--trace gc.log ...] [--json bench.json ...] [--table t.tsv ...] [--out DIR]
"""
import argparse
import json
import math
import os
import re
import sys

TRACE_RE = re.compile(
    r"^gc (\d+) @([\d.]+)s: (?:minor, )?stw ([\d.]+) ms, mark ([\d.]+) ms, pause ([\d.]+) ms, "
    r"heap ([\d.]+) -> ([\d.]+) MiB, live ([\d.]+) MiB, (\d+) goroutines")

COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#17becf"]
W, H = 640, 400
LEFT, RIGHT, TOP, BOTTOM = 70, 20, 40, 50


def read_trace(path):
    """The collections of one --trace=gc file as dicts (ms and MiB)."""
    out = []
    with open(path) as f:
        for line in f:
            m = TRACE_RE.match(line.strip())
            if m:
                out.append({"stw": float(m.group(3)), "mark": float(m.group(4)),
                            "pause": float(m.group(5)), "live": float(m.group(8)),
                            "goroutines": int(m.group(9))})
    return out


def read_table(path):
    """old_heap.sh's TABLE rows: mode, MiB, kind, n, p50, p99, max (ms)."""
    rows = []
    with open(path) as f:
        for line in f:
            p = line.split()
            if len(p) == 7 and p[0] != "mode" and p[4] != "-":
                rows.append({"mode": p[0], "mib": float(p[1]), "kind": p[2], "n": int(p[3]),
                             "p50": float(p[4]), "p99": float(p[5]), "max": float(p[6])})
    return rows


def read_bench_json(path):
    with open(path) as f:
        return json.load(f).get("benchmarks", [])


def esc(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class Plot:
    """One SVG chart: axes (linear or log10), series, legend."""

    def __init__(self, title, xlabel, ylabel, xlim, ylim, xlog=False, ylog=False, legend_left=False):
        self.title, self.xlabel, self.ylabel = title, xlabel, ylabel
        self.legend_x = LEFT + 10 if legend_left else W - RIGHT - 190
        self.xlog, self.ylog = xlog, ylog
        self.x0, self.x1 = self._range(xlim, xlog)
        self.y0, self.y1 = self._range(ylim, ylog)
        self.items, self.legend = [], []

    @staticmethod
    def _range(lim, log):
        lo, hi = lim
        if log:
            lo, hi = math.log10(max(lo, 1e-9)), math.log10(max(hi, 1e-9))
        if hi <= lo:
            hi = lo + 1
        return lo, hi

    def px(self, x):
        v = math.log10(max(x, 1e-9)) if self.xlog else x
        return LEFT + (v - self.x0) / (self.x1 - self.x0) * (W - LEFT - RIGHT)

    def py(self, y):
        v = math.log10(max(y, 1e-9)) if self.ylog else y
        return H - BOTTOM - (v - self.y0) / (self.y1 - self.y0) * (H - TOP - BOTTOM)

    def bars(self, edges, counts, color, name, offset, nseries):
        for i, c in enumerate(counts):
            if c == 0:
                continue
            xa, xb = self.px(edges[i]), self.px(edges[i + 1])
            w = (xb - xa) / nseries
            x = xa + offset * w
            y = self.py(c)
            self.items.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(w - 0.5, 0.5):.1f}" '
                              f'height="{H - BOTTOM - y:.1f}" fill="{color}" fill-opacity="0.8"/>')
        self.legend.append((name, color))

    def points(self, xs, ys, color, name):
        for x, y in zip(xs, ys):
            self.items.append(f'<circle cx="{self.px(x):.1f}" cy="{self.py(y):.1f}" r="2.5" '
                              f'fill="{color}" fill-opacity="0.6"/>')
        self.legend.append((name, color))

    def line(self, xs, ys, color, name):
        pts = " ".join(f"{self.px(x):.1f},{self.py(y):.1f}" for x, y in zip(xs, ys))
        self.items.append(f'<polyline points="{pts}" fill="none" stroke="{color}" stroke-width="2"/>')
        for x, y in zip(xs, ys):
            self.items.append(f'<circle cx="{self.px(x):.1f}" cy="{self.py(y):.1f}" r="3.5" fill="{color}"/>')
        self.legend.append((name, color))

    def _ticks(self, lo, hi, log):
        if log:
            return [10 ** e for e in range(math.floor(lo), math.ceil(hi) + 1) if lo <= e <= hi]
        step = 10 ** math.floor(math.log10((hi - lo) / 5 or 1))
        for m in (1, 2, 5, 10):
            if (hi - lo) / (step * m) <= 6:
                step *= m
                break
        t = math.ceil(lo / step) * step
        out = []
        while t <= hi + 1e-9:
            out.append(t)
            t += step
        return out

    @staticmethod
    def _fmt(v):
        return f"{v:g}" if abs(v) < 1e5 else f"{v:.0e}"

    def svg(self):
        o = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" '
             f'font-family="sans-serif" font-size="12">',
             f'<rect width="{W}" height="{H}" fill="white"/>',
             f'<text x="{W / 2}" y="22" text-anchor="middle" font-size="15">{esc(self.title)}</text>']
        for t in self._ticks(self.x0, self.x1, self.xlog):
            x = self.px(t)
            o.append(f'<line x1="{x:.1f}" y1="{TOP}" x2="{x:.1f}" y2="{H - BOTTOM}" stroke="#ddd"/>')
            o.append(f'<text x="{x:.1f}" y="{H - BOTTOM + 16}" text-anchor="middle">{self._fmt(t)}</text>')
        for t in self._ticks(self.y0, self.y1, self.ylog):
            y = self.py(t)
            o.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{W - RIGHT}" y2="{y:.1f}" stroke="#ddd"/>')
            o.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{self._fmt(t)}</text>')
        o.append(f'<rect x="{LEFT}" y="{TOP}" width="{W - LEFT - RIGHT}" height="{H - TOP - BOTTOM}" '
                 f'fill="none" stroke="black"/>')
        o.append(f'<text x="{LEFT + (W - LEFT - RIGHT) / 2}" y="{H - 12}" text-anchor="middle">'
                 f'{esc(self.xlabel)}</text>')
        o.append(f'<text transform="translate(16,{TOP + (H - TOP - BOTTOM) / 2}) rotate(-90)" '
                 f'text-anchor="middle">{esc(self.ylabel)}</text>')
        o.extend(self.items)
        for i, (name, color) in enumerate(self.legend):
            y = TOP + 14 + i * 16
            o.append(f'<rect x="{self.legend_x}" y="{y - 9}" width="10" height="10" fill="{color}"/>')
            o.append(f'<text x="{self.legend_x + 15}" y="{y}">{esc(name)}</text>')
        o.append("</svg>")
        return "\n".join(o) + "\n"


def histogram(series, key, title, xlabel):
    """Log-spaced bins over every series' values of `key` (ms)."""
    values = [v for _, cs in series for v in (c[key] for c in cs) if v > 0]
    if not values:
        return None
    lo, hi = math.log10(min(values)), math.log10(max(values))
    if hi - lo < 1:
        hi = lo + 1
    nbins = 30
    edges = [10 ** (lo + (hi - lo) * i / nbins) for i in range(nbins + 1)]
    edges[-1] *= 1.0001
    all_counts = []
    for name, cs in series:
        counts = [0] * nbins
        for c in cs:
            v = c[key]
            if v > 0:
                counts[min(nbins - 1, int((math.log10(v) - lo) / (hi - lo) * nbins))] += 1
        all_counts.append((name, counts))
    ymax = max(max(c) for _, c in all_counts)
    p = Plot(title, xlabel, "collections", (edges[0], edges[-1]), (0, ymax * 1.1), xlog=True)
    for i, (name, counts) in enumerate(all_counts):
        p.bars(edges, counts, COLORS[i % len(COLORS)], name, i, len(all_counts))
    return p


def table_lines(rows):
    """{(mode, kind): [(MiB, median p50 ms)]} from old_heap.sh's tables."""
    pooled = {}
    for r in rows:
        pooled.setdefault((r["mode"], r["kind"], r["mib"]), []).append(r["p50"])
    lines = {}
    for (mode, kind, mib), p50s in sorted(pooled.items()):
        p50s.sort()
        lines.setdefault((mode, kind), []).append((mib, p50s[len(p50s) // 2]))
    return lines


def pause_vs_heap(series, benches, rows=()):
    live_heap = sorted((b for b in benches if b.get("name", "").startswith("BM_LiveHeap/")
                        and "live_after_MiB" in b), key=lambda b: b["live_after_MiB"])
    minor_heap = sorted((b for b in benches if b.get("name", "").startswith("BM_LiveHeapMinor/")
                         and b.get("minor_pause_p50_us", 0) > 0), key=lambda b: b["live_after_MiB"])
    tables = table_lines(rows)
    xs = [c["live"] for _, cs in series for c in cs if c["live"] > 0]
    ys = [c["pause"] for _, cs in series for c in cs if c["live"] > 0]
    for b in live_heap:
        xs.append(b["live_after_MiB"])
        ys.append(b["pause_p50_us"] / 1e3)
        if b.get("bdwgc_pause_p50_us", 0) > 0:
            ys.append(b["bdwgc_pause_p50_us"] / 1e3)
    for b in minor_heap:
        xs.append(b["live_after_MiB"])
        ys.append(b["minor_pause_p50_us"] / 1e3)
    for pts in tables.values():
        xs.extend(a for a, _ in pts)
        ys.extend(b for _, b in pts)
    if not xs:
        return None
    p = Plot("Pause against live heap", "live heap after collection (MiB)", "pause (ms)",
             (min(xs) / 1.5, max(xs) * 1.5), (min(ys) / 1.5, max(ys) * 1.5), xlog=True, ylog=True, legend_left=True)
    for i, (name, cs) in enumerate(series):
        pts = [(c["live"], c["pause"]) for c in cs if c["live"] > 0]
        p.points([a for a, _ in pts], [b for _, b in pts], COLORS[i % len(COLORS)], name)
    if live_heap:
        lx = [b["live_after_MiB"] for b in live_heap]
        p.line(lx, [b["pause_p50_us"] / 1e3 for b in live_heap], "black", "BM_LiveHeap: weft p50")
        floor = [(b["live_after_MiB"], b["bdwgc_pause_p50_us"] / 1e3) for b in live_heap
                 if b.get("bdwgc_pause_p50_us", 0) > 0]
        if floor:
            p.line([a for a, _ in floor], [b for _, b in floor], "#888", "bdwgc alone p50")
    if minor_heap:
        p.line([b["live_after_MiB"] for b in minor_heap], [b["minor_pause_p50_us"] / 1e3 for b in minor_heap],
               "#2ca02c", "BM_LiveHeapMinor: weft minor p50")
    names = {("full", "full"): ("weft full (old_heap) p50", "#1f77b4"),
             ("generational", "minor"): ("weft minor (old_heap) p50", "#ff7f0e"),
             ("generational", "full"): ("weft full, generational (old_heap) p50", "#9467bd"),
             ("go", "full"): ("Go STW per cycle (old_heap) p50", "#d62728")}
    for key, pts in sorted(tables.items()):
        name, color = names.get(key, (" ".join(key), "#8c564b"))
        p.line([a for a, _ in pts], [b for _, b in pts], color, name)
    return p


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--trace", action="append", default=[], help="[NAME=]FILE from vm --trace=gc")
    ap.add_argument("--json", action="append", default=[], help="weft_bench JSON output")
    ap.add_argument("--table", action="append", default=[], help="TABLE=FILE of bench/gc/old_heap.sh")
    ap.add_argument("--out", default=".", help="output directory")
    args = ap.parse_args(argv)
    series = []
    for t in args.trace:
        name, _, path = t.rpartition("=")
        series.append((name or os.path.basename(path), read_trace(path)))
    benches = [b for j in args.json for b in read_bench_json(j)]
    rows = [r for t in args.table for r in read_table(t)]
    if not series and not benches and not rows:
        ap.error("nothing to plot: give --trace, --json or --table")
    os.makedirs(args.out, exist_ok=True)
    charts = {
        "pause_hist.svg": histogram(series, "pause", "Pause (world stopped)", "pause (ms)"),
        "stw_hist.svg": histogram(series, "stw", "Time to stop the world", "time to stop (ms)"),
        "pause_vs_heap.svg": pause_vs_heap(series, benches, rows),
    }
    for fname, chart in charts.items():
        if chart is None:
            continue
        path = os.path.join(args.out, fname)
        with open(path, "w") as f:
            f.write(chart.svg())
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
