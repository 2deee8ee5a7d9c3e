#!/usr/bin/env python3
"""Mean ± std (sample, ddof = 1) over seeds of the DetectionDistillation sample's result files.
Usage: python3 bench/detection/aggregate.py docs/results/detection [SEEDS]
SEEDS: a comma-separated list of the student seeds to include (default: all; the teacher is always included)."""
import glob
import json
import os
import statistics
import sys

folder = sys.argv[1] if len(sys.argv) > 1 else "docs/results/detection"
only = {int(x) for x in sys.argv[2].split(",")} if len(sys.argv) > 2 else None
rows = {}
for path in sorted(glob.glob(os.path.join(folder, "*.json"))):
    with open(path) as f:
        r = json.load(f)
    if r["method"] not in ("teacher", "alone", "fpn-mse", "icd") or (only is not None and r["method"] != "teacher" and r["seed"] not in only):
        continue
    rows.setdefault(r["method"], []).append(r)


def ms(values, scale=100.0):
    v = [x * scale for x in values]
    if len(v) == 1:
        return f"{v[0]:.2f}"
    return f"{statistics.mean(v):.2f} ± {statistics.stdev(v):.2f}"


print("| model | seeds | mAP@0.5 (VOC) | mAP@[.5:.95] (COCO) | AP@0.5 Platelets / RBC / WBC | params | latency ms/image | train s/run |")
print("|---|---:|---:|---:|---|---:|---:|---:|")
for method in ["teacher", "alone", "fpn-mse", "icd"]:
    rs = rows.get(method, [])
    if not rs:
        continue
    per_class = " / ".join(ms([r["ap50_per_class"][c] for r in rs]) for c in range(3))
    seeds = ",".join(str(r.get("seed", "-")) for r in rs)
    print(f"| {method} | {seeds} | {ms([r['map50'] for r in rs])} | {ms([r['map'] for r in rs])} | {per_class} | {rs[0]['parameters']:,} | "
          f"{ms([r['latency_ms'] for r in rs], 1.0)} | {ms([r['seconds'] for r in rs], 1.0)} |")
for r in rows.get("icd", []):
    acc = [h["LossParts"].get("icd.aux-acc") for h in r["history"]]
    print(f"\nicd seed {r['seed']}: icd.aux-acc per epoch " + ", ".join(f"{a:.3f}" for a in acc if a is not None))
    if "identification" in r and r["identification"]:
        i = r["identification"]
        print(f"icd seed {r['seed']}: test-image identification accuracy {i['accuracy']:.3f}, real recall {i['real_recall']:.3f}")
for method in ["alone", "fpn-mse", "icd"]:
    for r in rows.get(method, []):
        if "box_zero_fraction" in r:
            print(f"{method} seed {r['seed']}: share of test positions with box distance exactly 0 (left, top, right, bottom): "
                  + ", ".join(f"{z:.3f}" for z in r["box_zero_fraction"]))

# Paired by seed (the same seed gives every method the same student initialisation and data order).
alone = {r["seed"]: r for r in rows.get("alone", [])}
for method in ["fpn-mse", "icd"]:
    diffs = [(r["seed"], 100 * (r["map50"] - alone[r["seed"]]["map50"]), 100 * (r["map"] - alone[r["seed"]]["map"]))
             for r in rows.get(method, []) if r["seed"] in alone]
    if diffs:
        print(f"\n{method} - alone, per seed (mAP@0.5, mAP@[.5:.95] points): " + "; ".join(f"seed {s}: {a:+.2f}, {b:+.2f}" for s, a, b in diffs))
