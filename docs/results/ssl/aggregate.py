"""Prints the tables of docs/benchmarks.md (issue 16 section) from the raw runs; run from the repository root: python3 docs/results/ssl/aggregate.py"""
import json, glob, statistics as st, os
def ms(v):
    return f"{st.mean(v):.2f} ± {st.stdev(v):.2f}" if len(v) > 1 else f"{v[0]:.2f}"
# HKD (MethodComparison runs)
rows = {}
for f in glob.glob('docs/results/ssl/hkd/runs/*.json') + [f for m in ('alone', 'kd', 'crd') for f in glob.glob(f'docs/results/method-comparison-12ep/runs/{m}-seed*.json')]:
    d = json.load(open(f)); rows.setdefault(d['Method'], []).append(d)
kd = {d['Seed']: d['LastAccuracy'] for d in rows.get('kd', [])}
alone = {d['Seed']: d['LastAccuracy'] for d in rows.get('alone', [])}
print("| method | seeds | last epoch (%) | paired Δ vs KD | paired Δ vs alone | bank update (% of train time) |")
print("|---|---|---|---|---|---|")
for m in ['alone', 'kd', 'crd', 'hkd', 'hkd-kd', 'hkd-b0.8']:
    r = rows.get(m, [])
    if not r: continue
    acc = [100 * d['LastAccuracy'] for d in r]
    dk = [100 * (d['LastAccuracy'] - kd[d['Seed']]) for d in r] if m != 'kd' else []
    da = [100 * (d['LastAccuracy'] - alone[d['Seed']]) for d in r] if m != 'alone' else []
    bank = [100 * d['BankUpdateSeconds'] / d['TrainSeconds'] for d in r if d.get('BankUpdateSeconds')]
    print(f"| {m} | {len(r)} ({','.join(str(d['Seed']) for d in sorted(r, key=lambda x: x['Seed']))}) | {ms(acc)} | {ms(dk) if dk else ''} | {ms(da) if da else ''} | {ms(bank) if bank else ''} |")
# SSL
runs = [json.load(open(f)) for f in glob.glob('docs/results/ssl/rekd/runs/*.json')]
by = {}
for r in runs: by.setdefault(r['Method'], []).append(r)
ssl_step = {r['Seed']: r['TrainSeconds'] / r['Steps'] for r in by.get('ssl', [])}
print()
print("| student | seeds | k-NN (%) | linear probe (%) | paired Δ k-NN vs SSL alone | paired Δ probe vs SSL alone | step vs SSL alone (same process) | step-end updates (% of step) |")
print("|---|---|---|---|---|---|---|---|")
sslk = {r['Seed']: r['Knn'] for r in by.get('ssl', [])}; sslp = {r['Seed']: r['LinearProbe'] for r in by.get('ssl', [])}
for m in ['ssl', 'seed', 'compress', 'rekd', 'rekd-soft']:
    r = by.get(m, [])
    if not r: continue
    k = [100 * x['Knn'] for x in r]; p = [100 * x['LinearProbe'] for x in r]
    dk = [100 * (x['Knn'] - sslk[x['Seed']]) for x in r if x['Seed'] in sslk] if m != 'ssl' else []
    dp = [100 * (x['LinearProbe'] - sslp[x['Seed']]) for x in r if x['Seed'] in sslp] if m != 'ssl' else []
    step = [(x['TrainSeconds'] / x['Steps']) / ssl_step[x['Seed']] for x in r if x['Seed'] in ssl_step]
    upd = [100 * x['StepEndSeconds'] / x['TrainSeconds'] for x in r]
    print(f"| {m} | {len(r)} | {ms(k)} | {ms(p)} | {ms(dk) if dk else ''} | {ms(dp) if dp else ''} | {ms(step) if step else ''} | {ms(upd)} |")
