#!/usr/bin/env python3
"""Paired comparison of DetectionDistillation result sets over the seeds they share.

Usage: python3 bench/detection/paired.py LABEL=FOLDER:METHOD [LABEL=FOLDER:METHOD ...] [--seeds 0,1,...]
Each argument names one set of result files (FOLDER/METHOD-seedS.json). Prints each set's mean ± std (sample, ddof 1)
over the seeds every set has, then for every pair, later set minus earlier set, the per-seed differences at mAP@0.5 and mAP@[.5:.95]: mean ± std,
how many seeds are up, and the paired t statistic with its two-sided p-value (Student t, n - 1 degrees of freedom).
The same seed gives every method the same student initialisation and data order, so pairing removes the seed's luck."""
import glob
import json
import math
import os
import statistics
import sys


def load(spec):
    label, rest = spec.split("=", 1)
    folder, method = rest.rsplit(":", 1)
    runs = {}
    for path in glob.glob(os.path.join(folder, f"{method}-seed*.json")):
        with open(path) as f:
            r = json.load(f)
        runs[r["seed"]] = r
    if not runs:
        sys.exit(f"{spec}: no {method}-seed*.json in {folder}")
    return label, runs


def t_two_sided(t, df):
    """P(|T| >= |t|) for Student's t with df degrees of freedom (Simpson integration of the density)."""
    if df < 1 or not math.isfinite(t):
        return float("nan")
    c = math.exp(math.lgamma((df + 1) / 2) - math.lgamma(df / 2)) / math.sqrt(df * math.pi)
    density = lambda x: c * (1 + x * x / df) ** (-(df + 1) / 2)
    a, steps = abs(t), 20000
    h = a / steps
    area = density(0) + density(a) + sum((4 if i % 2 else 2) * density(i * h) for i in range(1, steps))
    return max(0.0, 1 - 2 * area * h / 3)


def ms(values):
    return f"{statistics.mean(values):.2f} ± {statistics.stdev(values):.2f}" if len(values) > 1 else f"{values[0]:.2f}"


args = [a for a in sys.argv[1:] if not a.startswith("--seeds")]
seeds_arg = next((a.split("=", 1)[1] if "=" in a else None for a in sys.argv[1:] if a.startswith("--seeds")), None)
sets = [load(a) for a in args]
seeds = sorted(set.intersection(*(set(runs) for _, runs in sets)))
if seeds_arg:
    seeds = [s for s in seeds if s in {int(x) for x in seeds_arg.split(",")}]
print(f"seeds: {','.join(map(str, seeds))} (n = {len(seeds)})\n")
print("| set | mAP@0.5 (VOC) | mAP@[.5:.95] (COCO) | AP@0.5 Platelets / RBC / WBC |")
print("|---|---:|---:|---|")
for label, runs in sets:
    rs = [runs[s] for s in seeds]
    per_class = " / ".join(ms([100 * r["ap50_per_class"][c] for r in rs]) for c in range(3))
    print(f"| {label} | {ms([100 * r['map50'] for r in rs])} | {ms([100 * r['map'] for r in rs])} | {per_class} |")
print()
for i, (la, a) in enumerate(sets):
    for lb, b in sets[i + 1:]:
        for key, name in (("map50", "mAP@0.5"), ("map", "mAP@[.5:.95]")):
            d = [100 * (b[s][key] - a[s][key]) for s in seeds]
            n = len(d)
            sd = statistics.stdev(d) if n > 1 else float("nan")
            t = statistics.mean(d) / (sd / math.sqrt(n)) if n > 1 and sd > 0 else float("nan")
            up = sum(x > 0 for x in d)
            print(f"{lb} - {la}, {name}: {statistics.mean(d):+.2f} ± {sd:.2f}, {up}/{n} up, t = {t:+.2f}, p = {t_two_sided(t, n - 1):.3f}"
                  f"  [{', '.join(f'{x:+.2f}' for x in d)}]")
