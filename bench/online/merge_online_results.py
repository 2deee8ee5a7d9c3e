#!/usr/bin/env python3
"""Merges raw results of `FashionMnistDistillation --online` runs (JSON files written to each run's --output or
--results directory) into one table: accuracy per method and model (mean +- sample std over seeds), paired differences
against the student alone and against KD (same seed), and training seconds per run.

usage: python3 bench/online/merge_online_results.py RUN1.json [RUN2.json ...] > table.md
"""
import json
import statistics
import sys

ORDER = ["teacher", "alone", "kd", "dml", "sokd", "iekd", "iedml", "sokd-f", "ie"]


def std(values):
    return statistics.stdev(values) if len(values) > 1 else 0.0


runs = []
for path in sys.argv[1:]:
    with open(path, encoding="utf-8") as f:
        runs.extend(json.load(f)["runs"])

# One teacher row even when several files loaded the same teacher.
teachers = [r for r in runs if r["Method"] == "teacher"]
runs = [r for r in runs if r["Method"] != "teacher"] + teachers[:1]
alone = {r["Seed"]: r["Accuracy"] for r in runs if r["Method"] == "alone"}
kd = {r["Seed"]: r["Accuracy"] for r in runs if r["Method"] == "kd"}
groups = {}
for r in runs:
    groups.setdefault((r["Method"], r["Model"]), []).append(r)

print("| method | model | seeds | test accuracy (mean ± std) | paired Δ vs alone | paired Δ vs KD | training s/run |")
print("|---|---|---|---|---|---|---|")
for (method, model), rows in sorted(groups.items(), key=lambda g: (ORDER.index(g[0][0]), g[0][1] != "student", g[0][1])):
    acc = [r["Accuracy"] * 100 for r in rows]

    def paired(reference):
        d = [(r["Accuracy"] - reference[r["Seed"]]) * 100 for r in rows if r["Seed"] in reference]
        return f"{statistics.mean(d):+.2f} ± {std(d):.2f}" if d and method != "teacher" else ""

    seconds = statistics.mean(r["TrainSeconds"] for r in rows)
    print(f"| {method} | {model} | {len(rows)} | {statistics.mean(acc):.2f} ± {std(acc):.2f} % | {paired(alone)} | {paired(kd)} | {seconds:.0f} |")
