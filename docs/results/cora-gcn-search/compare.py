"""Pairs CPF students after the hyper-parameter search with the same seeds' students at the sample's defaults.

usage: python3 compare.py SEARCH.json DEFAULT.json
Both files are CoraDistillation --json outputs (lists of rows: Teacher, Model, Seed, Test, Validation, ...).
Prints per seed and model the validation and test accuracy of both runs and the paired test difference.
"""
import json
import statistics
import sys


def rows(path):
    return {(r["Teacher"], r["Model"], r["Seed"]): r for r in json.load(open(path))}


search, default = rows(sys.argv[1]), rows(sys.argv[2])
print("| model | seed | default val | default test | search val | search test | test: search - default |")
print("|---|---|---|---|---|---|---|")
for model in ("CPF-ind", "CPF-tra"):
    diffs, tests_s, tests_d, vals_s, vals_d = [], [], [], [], []
    for key in sorted(k for k in search if k[1] == model and k in default):
        s, d = search[key], default[key]
        diffs.append(100 * (s["Test"] - d["Test"]))
        tests_s.append(100 * s["Test"]); tests_d.append(100 * d["Test"])
        vals_s.append(100 * s["Validation"]); vals_d.append(100 * d["Validation"])
        print(f"| {model} | {key[2]} | {100 * d['Validation']:.2f} | {100 * d['Test']:.2f} | {100 * s['Validation']:.2f} | {100 * s['Test']:.2f} | {diffs[-1]:+.2f} |")
    if len(diffs) > 1:
        m = lambda v: f"{statistics.mean(v):.2f} ± {statistics.stdev(v):.2f}"
        print(f"| {model} | mean ± std | {m(vals_d)} | {m(tests_d)} | {m(vals_s)} | {m(tests_s)} | {statistics.mean(diffs):+.2f} ± {statistics.stdev(diffs):.2f} |")
