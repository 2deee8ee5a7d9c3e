"""Prints the tables of docs/benchmarks.md (issue 16 section) from the raw runs; run from the repository root: python3 docs/results/ssl/aggregate.py"""
import json, glob, statistics as st


def ms(v):
    return f"{st.mean(v):.2f} ± {st.stdev(v):.2f}" if len(v) > 1 else f"{v[0]:.2f}"


def load(pattern):
    return [json.load(open(f)) for f in sorted(glob.glob(pattern))]


def hkd_table(title, runs, baselines):
    rows = {}
    for d in baselines + runs:
        rows.setdefault(d['Method'], []).append(d)
    kd = {d['Seed']: d['LastAccuracy'] for d in rows.get('kd', [])}
    alone = {d['Seed']: d['LastAccuracy'] for d in rows.get('alone', [])}
    print(f"\n{title}\n")
    print("| method | seeds | last epoch (%) | paired Δ vs KD | paired Δ vs alone | bank update (% of train time) |")
    print("|---|---|---|---|---|---|")
    for m in ['alone', 'kd', 'crd', 'hkd', 'hkd-kd', 'hkd-b0.8', 'hkd-m0.5']:
        r = sorted(rows.get(m, []), key=lambda x: x['Seed'])
        if not r:
            continue
        acc = [100 * d['LastAccuracy'] for d in r]
        dk = [100 * (d['LastAccuracy'] - kd[d['Seed']]) for d in r if d['Seed'] in kd] if m != 'kd' else []
        da = [100 * (d['LastAccuracy'] - alone[d['Seed']]) for d in r if d['Seed'] in alone] if m != 'alone' else []
        bank = [100 * d['BankUpdateSeconds'] / d['TrainSeconds'] for d in r if d.get('BankUpdateSeconds')]
        print(f"| {m} | {len(r)} ({','.join(str(d['Seed']) for d in r)}) | {ms(acc)} | {ms(dk) if dk else ''} | {ms(da) if da else ''} | {ms(bank) if bank else ''} |")


def parts(title, run):
    print(f"\n{title}\n")
    names = sorted({k for e in run['Epochs'] for k in (e.get('Parts') or {})})
    print("| epoch | validation (%) | loss | " + " | ".join(names) + " |")
    print("|---" * (3 + len(names)) + "|")
    for e in run['Epochs']:
        p = e.get('Parts') or {}
        val = '' if e['ValidationAccuracy'] is None else f"{100 * e['ValidationAccuracy']:.1f}"
        print(f"| {e['Epoch']} | {val} | {e['Loss']:.2f} | " + " | ".join(f"{p[n]:.3f}" if n in p else '' for n in names) + " |")


mc = 'docs/results/method-comparison-12ep'
baselines = [d for m in ('alone', 'kd', 'crd') for d in load(f'{mc}/runs/{m}-seed*.json')]
hkd_table("HKD after the GNN-initialisation fix (12 epochs on 5,000 images):", load('docs/results/ssl/hkd/runs/*.json'), baselines)
hkd_table("Before the fix (GNN weight at the default linear start):", load('docs/results/ssl/hkd/before-gnn-init/runs/*.json'), baselines)
hkd_table("Investigation, 12 epochs (seed 0):", load('docs/results/ssl/hkd/investigation/12ep/*.json'), baselines)
hkd_table("Investigation, 30 epochs (seed 0; KD and CRD from the 30-epoch check of the method comparison):",
          load('docs/results/ssl/hkd/investigation/30ep/*.json'), load(f'{mc}/crd-kd-30ep/*.json'))
hkd_table("3 seeds at 30 epochs (session 9; every method in the same budget and cosine schedule):",
          load('docs/results/ssl/hkd/30ep/*.json'), [])
for f in ['docs/results/ssl/hkd/investigation/30ep/hkd-seed0.json', 'docs/results/ssl/hkd/runs/hkd-seed0.json', 'docs/results/ssl/hkd/runs/hkd-kd-seed0.json',
          'docs/results/ssl/hkd/investigation/12ep/hkd-m0.5-seed0.json']:
    try:
        parts(f"Per-epoch loss parts (unweighted means), {f}:", json.load(open(f)))
    except FileNotFoundError:
        pass

# SSL
runs = load('docs/results/ssl/rekd/runs/*.json')
for r in load('docs/results/ssl/rekd/seed-t0.01/*.json'):
    r['Method'] = 'seed-t0.01'
    runs.append(r)
by = {}
for r in runs:
    by.setdefault(r['Method'], []).append(r)
ssl_step = {r['Seed']: r['TrainSeconds'] / r['Steps'] for r in by.get('ssl', [])}
print()
print("| student | seeds | k-NN (%) | linear probe (%) | paired Δ k-NN vs SSL alone | paired Δ probe vs SSL alone | paired Δ k-NN vs ReKD | step vs SSL alone | step-end updates (% of step) |")
print("|---|---|---|---|---|---|---|---|---|")
sslk = {r['Seed']: r['Knn'] for r in by.get('ssl', [])}
sslp = {r['Seed']: r['LinearProbe'] for r in by.get('ssl', [])}
rekdk = {r['Seed']: r['Knn'] for r in by.get('rekd', [])}
for m in ['ssl', 'seed', 'seed-t0.01', 'compress', 'rekd', 'rekd-soft']:
    r = by.get(m, [])
    if not r:
        continue
    k = [100 * x['Knn'] for x in r]
    p = [100 * x['LinearProbe'] for x in r]
    dk = [100 * (x['Knn'] - sslk[x['Seed']]) for x in r if x['Seed'] in sslk] if m != 'ssl' else []
    dp = [100 * (x['LinearProbe'] - sslp[x['Seed']]) for x in r if x['Seed'] in sslp] if m != 'ssl' else []
    dr = [100 * (x['Knn'] - rekdk[x['Seed']]) for x in r if x['Seed'] in rekdk] if m != 'rekd' else []
    step = [(x['TrainSeconds'] / x['Steps']) / ssl_step[x['Seed']] for x in r if x['Seed'] in ssl_step]
    upd = [100 * x['StepEndSeconds'] / x['TrainSeconds'] for x in r]
    print(f"| {m} | {len(r)} | {ms(k)} | {ms(p)} | {ms(dk) if dk else ''} | {ms(dp) if dp else ''} | {ms(dr) if dr else ''} | {ms(step) if step else ''} | {ms(upd)} |")
