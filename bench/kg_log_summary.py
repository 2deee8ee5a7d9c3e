#!/usr/bin/env python3
"""Mean ± std (sample, ddof 1) over seeds of the rows the KnowledgeGraphDistillation sample logs, one line per run:
"seed N METHOD (dim D): MRR x, MR y, Hits@1 a, Hits@3 b, Hits@10 c (...)". Reads the log, so a run stopped before its
last seed still gives its finished seeds (the sample has rewritten --out after every seed only since issue 13; older logs have no JSON), with per-seed MRR and the paired
differences of every method against "student alone (DualDE schedule)" where both exist.
Usage: python3 bench/kg_log_summary.py LOG [LOG ...]"""
import os
import re
import statistics
import sys

line = re.compile(r"seed (\d+) (.+?) \(dim (\d+)\): MRR ([\d.]+), MR ([\d.]+), Hits@1 ([\d.]+), Hits@3 ([\d.]+), Hits@10 ([\d.]+)")
rows = {}
for path in sys.argv[1:]:
    with open(path) as f:
        for text in f:
            m = line.search(text)
            if m:
                seed, method, dim = int(m.group(1)), m.group(2), int(m.group(3))
                rows.setdefault((os.path.basename(path), method, dim), {})[seed] = [float(m.group(i)) for i in range(4, 9)]


def ms(values):
    return f"{statistics.mean(values):.3f} ± {statistics.stdev(values):.3f}" if len(values) > 1 else f"{values[0]:.3f}"


print("| log | method | dim | seeds | MRR | Hits@1 | Hits@3 | Hits@10 | MR | MRR per seed |")
print("|---|---|---:|---|---:|---:|---:|---:|---:|---|")
for (log, method, dim), by_seed in rows.items():
    seeds = sorted(by_seed)
    cols = [[by_seed[s][i] for s in seeds] for i in range(5)]
    print(f"| {log} | {method} | {dim} | {','.join(map(str, seeds))} | {ms(cols[0])} | {ms(cols[2])} | {ms(cols[3])} | {ms(cols[4])} | "
          f"{statistics.mean(cols[1]):.0f} | {', '.join(f'{x:.4f}' for x in cols[0])} |")
for (log, method, dim), by_seed in rows.items():
    base = rows.get((log, "student alone (DualDE schedule)", dim))
    if base is None or method.startswith("teacher") or method.startswith("student alone (DualDE"):
        continue
    seeds = sorted(set(by_seed) & set(base))
    d = [by_seed[s][0] - base[s][0] for s in seeds]
    if d:
        spread = f" ± {statistics.stdev(d):.3f}" if len(d) > 1 else ""
        print(f"\n{method} - student alone (DualDE schedule), dim {dim}, MRR: {statistics.mean(d):+.3f}{spread}, "
              f"{sum(x > 0 for x in d)}/{len(d)} seeds up [{', '.join(f'{x:+.4f}' for x in d)}]")
