#!/usr/bin/python3
"""Issue 17 at the separating budget: mean ± sample std of test accuracy per method over every runs.csv under this folder
(one per process; folders named ablation-* are left out; teachers come from each process's loaded copies, deduplicated by method), the mean clip
inference time, and the mean learned graph weights (logits graph pi_i, representation graph v_ij) over seeds."""
import csv
import glob
import os
import re
import statistics
import sys

# No argument: the main comparison (folders named ablation-* or session8-* left out); "ablation": only the ablation-*
# folders; "session8": only the session8-VARIANT-sSEED folders, one row per variant (rows named "variant: method").
MODE = sys.argv[1] if len(sys.argv) > 1 else "main"
HERE = os.path.dirname(os.path.abspath(__file__))


def selected(folder):
    if MODE == "ablation":
        return folder.startswith("ablation-")
    if MODE == "session8":
        return folder.startswith("session8-")
    return not folder.startswith(("ablation-", "session8-"))


rows = {}
for path in sorted(p for p in glob.glob(os.path.join(HERE, "*", "runs.csv")) if selected(os.path.basename(os.path.dirname(p)))):
    folder = os.path.basename(os.path.dirname(path))
    variant = re.sub(r"-s\d+$", "", folder[len("session8-"):]) if MODE == "session8" else None
    with open(path) as f:
        for r in csv.DictReader(f):
            if MODE == "session8" and r["method"].startswith("teacher-"):
                continue
            key = f"{variant}: {r['method']}" if variant else r["method"]
            rows.setdefault(key, {})[int(r["seed"])] = r
print("| method | seeds | test accuracy (mean ± std) | per seed | parameters | ms/clip (mean) |")
print("|---|---|---|---|---|---|")
for method, by_seed in rows.items():
    seeds = sorted(by_seed)
    acc = [100 * float(by_seed[s]["accuracy"]) for s in seeds]
    std = statistics.stdev(acc) if len(acc) > 1 else 0.0
    ms = statistics.mean(float(by_seed[s]["ms_per_clip"]) for s in seeds)
    print(f"| {method} | {len(acc)} | {statistics.mean(acc):.2f} ± {std:.2f} | {' / '.join(f'{a:.1f}' for a in acc)} | "
          f"{by_seed[seeds[0]]['parameters']} | {ms:.2f} |")
print()
for method, by_seed in rows.items():
    weights = {}
    for r in by_seed.values():
        for key, value in re.findall(r"(t\d(?:-t\d)?)=([0-9.]+)", r.get("notes") or ""):
            weights.setdefault(key, []).append(float(value))
    if weights:
        print(f"{method}: " + ", ".join(f"{k} {statistics.mean(v):.4f} (min {min(v):.4f}, max {max(v):.4f})" for k, v in weights.items()))
