"""Merges per-seed JSON files written by samples/CoraDistillation (--json) into docs/results/ (CSV + JSON) and prints
the markdown table of docs/benchmarks.md. usage: python3 aggregate.py out_prefix seed0.json seed1.json ..."""
import csv
import json
import statistics
import sys

PAPER_GCN = {"teacher": 82.44, "CPF-ind": 85.76, "CPF-tra": 85.67}

rows = [r for path in sys.argv[2:] for r in json.load(open(path))]
prefix = sys.argv[1]
json.dump(rows, open(prefix + ".json", "w"), indent=1)
with open(prefix + ".csv", "w", newline="") as f:
    w = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
    w.writeheader()
    w.writerows(rows)

def stats(teacher, model):
    v = [100 * r["Test"] for r in rows if r["Teacher"] == teacher and r["Model"] == model]
    return statistics.mean(v), (statistics.stdev(v) if len(v) > 1 else 0.0), len(v)

def seconds(teacher, model):
    return statistics.mean(r["Seconds"] for r in rows if r["Teacher"] == teacher and r["Model"] == model)

teachers = list(dict.fromkeys(r["Teacher"] for r in rows))
seeds = sorted({r["Seed"] for r in rows})
print(f"Seeds {seeds}; test accuracy (%) mean ± std; Δ = student mean - teacher mean.\n")
print("| Teacher | Teacher acc. | CPF-ind | CPF-tra | Δ ind | Δ tra | paper (teacher / ind / tra) | mean s (teacher / ind / tra) |")
print("|---|---|---|---|---|---|---|---|")
deltas = []
for t in teachers:
    (tm, ts, n), (im, is_, _), (rm, rs, _) = stats(t, "teacher"), stats(t, "CPF-ind"), stats(t, "CPF-tra")
    paper = f"{PAPER_GCN['teacher']} / {PAPER_GCN['CPF-ind']} / {PAPER_GCN['CPF-tra']}" if t == "Gcn" else "not in cpf.md"
    deltas.append((t, im - tm, rm - tm))
    print(f"| {t} (n={n}) | {tm:.2f} ± {ts:.2f} | {im:.2f} ± {is_:.2f} | {rm:.2f} ± {rs:.2f} | {im - tm:+.2f} | {rm - tm:+.2f} | {paper} | "
          f"{seconds(t, 'teacher'):.1f} / {seconds(t, 'CPF-ind'):.1f} / {seconds(t, 'CPF-tra'):.1f} |")
print()
print(f"Mean Δ over teachers: ind {statistics.mean(d[1] for d in deltas):+.2f}, tra {statistics.mean(d[2] for d in deltas):+.2f}")
per_seed = []
for t in teachers:
    for s in seeds:
        get = lambda m: next((100 * r["Test"] for r in rows if r["Teacher"] == t and r["Model"] == m and r["Seed"] == s), None)
        tv, iv, rv = get("teacher"), get("CPF-ind"), get("CPF-tra")
        if None not in (tv, iv, rv):
            per_seed.append((t, s, iv - tv, rv - tv))
print(f"Per-seed wins (student > teacher): ind {sum(d[2] > 0 for d in per_seed)}/{len(per_seed)}, tra {sum(d[3] > 0 for d in per_seed)}/{len(per_seed)}")
