#!/usr/bin/python3
"""Mean ± sample std of test accuracy per method over every runs.csv under this folder (seed0/, seed1-2/, ...)."""
import csv
import glob
import os
import statistics

HERE = os.path.dirname(os.path.abspath(__file__))
rows = {}
for path in sorted(glob.glob(os.path.join(HERE, "*", "runs.csv"))):
    with open(path) as f:
        for r in csv.DictReader(f):
            rows.setdefault(r["method"], {})[int(r["seed"])] = (float(r["accuracy"]), int(r["parameters"]))
for method, by_seed in rows.items():
    acc = [100 * a for a, _ in by_seed.values()]
    std = statistics.stdev(acc) if len(acc) > 1 else 0.0
    print(f"| {method} | {len(acc)} | {statistics.mean(acc):.2f} ± {std:.2f} | {' / '.join(f'{a:.1f}' for a in acc)} | {next(iter(by_seed.values()))[1]} |")
