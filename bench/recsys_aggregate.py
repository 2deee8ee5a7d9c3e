#!/usr/bin/python3
"""Merges the per-run log lines of several `RecommenderDistillation` processes (one per phi / seed) into one table.

usage: recsys_aggregate.py LOG [LOG ...]
Reads lines "seed S phi P METHOD (d = D, T s): Recall@10 x NDCG@10 x HR@10 x Recall@50 x NDCG@50 x HR@50 x"; a
(seed, phi, method) seen twice keeps its first line (teachers of the same seed are identical runs). Prints a Markdown
table: mean ± sample std over seeds, and the number of seeds.
"""
import re
import statistics
import sys

LINE = re.compile(r"seed (\d+) phi ([\d.]+) (\w+) \(d = (\d+), (\d+) s\): (.*)$")
rows = {}
for path in sys.argv[1:]:
    for line in open(path):
        m = LINE.search(line)
        if not m:
            continue
        seed, phi, method, d, secs, rest = m.groups()
        key = (float(phi) if method != "teacher" else 1.0, method, int(seed))
        if key in rows:
            continue
        values = dict(re.findall(r"(\w+@\d+) ([\d.]+)", rest))
        rows[key] = (int(d), int(secs), {k: float(v) for k, v in values.items()})

order = ["teacher", "student", "de", "rrd", "ftd", "htd"]
print("| phi | method | d | seeds | Recall@10 | Recall@50 | NDCG@10 | NDCG@50 | train s (mean) |")
print("|---|---|---|---|---|---|---|---|---|")
for phi in sorted({k[0] for k in rows}, reverse=True):
    for method in order:
        runs = [v for k, v in sorted(rows.items()) if k[0] == phi and k[1] == method]
        if not runs:
            continue
        def stat(metric):
            xs = [r[2][metric] for r in runs]
            sd = statistics.stdev(xs) if len(xs) > 1 else 0.0
            return f"{statistics.mean(xs):.4f} ± {sd:.4f}"
        print(f"| {phi:g} | {method} | {runs[0][0]} | {len(runs)} | {stat('Recall@10')} | {stat('Recall@50')} | "
              f"{stat('NDCG@10')} | {stat('NDCG@50')} | {statistics.mean(r[1] for r in runs):.0f} |")
