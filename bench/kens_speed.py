#!/usr/bin/python3
"""KEnS ensemble evaluation over all five DBP-5L languages in PyTorch, to compare with bench/KensBenchmarks (TorchSharp).

The same work as KensEvaluator.Predict + EnsembleScoring.Ranks (KEnS_m): for each target language and each batch of
test queries (h, r, ?t), every language's TransE model scores all its entities for (h mapped through the seed
alignment, r), the scores are moved to target ids (-inf where unaligned), the target's other training tails are
filtered (-inf), each model's top-k and the full rank of t are taken, and the top-k lists are voted (weights 1, equal
votes ordered by first appearance, target model first). Embeddings are a fixed formula shared with the C# benchmark, so
both print the same metrics.

usage: kens_speed.py DATA_DIR [dim=64] [repeats=2] [batch=256] [k=10] [queries=all: test triples per language]
"""
import math
import os
import sys
import time

# Debian's PyTorch 1.13 multiplies matrices in OpenBLAS (pthreads build), whose own pool has one thread per core whatever
# torch.set_num_threads says (measured: 1.42 cores busy at set_num_threads(1)); pin it to the thread count under test,
# before torch loads it, or the reference uses more cores than the TorchSharp side.
if "KG_THREADS" in os.environ:
    os.environ.setdefault("OPENBLAS_NUM_THREADS", os.environ["KG_THREADS"])

import torch

data = sys.argv[1] if len(sys.argv) > 1 else "../shared/data/kg/dbp5l"
dim = int(sys.argv[2]) if len(sys.argv) > 2 else 64
repeats = int(sys.argv[3]) if len(sys.argv) > 3 else 2
batch = int(sys.argv[4]) if len(sys.argv) > 4 else 256
K = int(sys.argv[5]) if len(sys.argv) > 5 else 10
QUERIES = int(sys.argv[6]) if len(sys.argv) > 6 else None
if os.environ.get("KG_THREADS"):
    torch.set_num_threads(int(os.environ["KG_THREADS"]))
langs = sorted(f[:-len("-train.tsv")] for f in os.listdir(os.path.join(data, "kg")) if f.endswith("-train.tsv"))
MARGIN = 6.0


def read_triples(path):
    with open(path) as f:
        return [tuple(int(x) for x in line.split("\t")) for line in f if line.strip()]


def count_lines(path):
    with open(path) as f:
        return sum(1 for _ in f)


relations = count_lines(os.path.join(data, "relations.txt"))
entities = {l: count_lines(os.path.join(data, "entity", l + ".tsv")) for l in langs}
train = {l: read_triples(os.path.join(data, "kg", l + "-train.tsv")) for l in langs}
test = {l: read_triples(os.path.join(data, "kg", l + "-test.tsv"))[:QUERIES] for l in langs}
align = {}
for a in langs:
    for b in langs:
        p = os.path.join(data, "seed_alignlinks", f"{a}-{b}.tsv")
        if a != b and os.path.exists(p):
            with open(p) as f:
                pairs = [(int(float(x)), int(float(y))) for x, y in (line.split("\t") for line in f if line.strip())]
            align[(a, b)] = pairs
            align[(b, a)] = [(y, x) for x, y in pairs]


def embeddings(n, li):
    i = torch.arange(n, dtype=torch.float64)[:, None]
    d = torch.arange(dim, dtype=torch.float64)[None, :]
    return (0.1 * torch.sin(0.37 * i + 1.3 * d + 0.11 * li)).float()


E = {l: embeddings(entities[l], i) for i, l in enumerate(langs)}
r_i = torch.arange(relations, dtype=torch.float64)[:, None]
d_i = torch.arange(dim, dtype=torch.float64)[None, :]
R = (0.1 * torch.cos(0.7 * r_i + 0.5 * d_i)).float()
known = {}
for l in langs:
    hr = {}
    for h, r, t in train[l]:
        hr.setdefault((h, r), []).append(t)
    known[l] = hr


def score_model(target, lang, triples):
    n_t = entities[target]
    if lang == target:
        rows = list(range(len(triples)))
        h = torch.tensor([t[0] for t in triples])
        rel = torch.tensor([t[1] for t in triples])
        scores = MARGIN - torch.cdist(E[lang][h] + R[rel], E[lang], p=2)
    else:
        fwd = dict(align[(target, lang)])
        rows = [i for i, t in enumerate(triples) if t[0] in fwd]
        top = torch.full((len(triples), K), -1, dtype=torch.long)
        ranks = torch.full((len(triples),), math.inf, dtype=torch.float64)
        if not rows:
            return top, ranks
        h = torch.tensor([fwd[triples[i][0]] for i in rows])
        rel = torch.tensor([triples[i][1] for i in rows])
        support = MARGIN - torch.cdist(E[lang][h] + R[rel], E[lang], p=2)
        pairs = align[(target, lang)]
        tid = torch.tensor([p[0] for p in pairs])
        sid = torch.tensor([p[1] for p in pairs])
        scores = torch.full((len(rows), n_t), -math.inf).index_copy_(1, tid, support.index_select(1, sid))
    filt, tails = [], []
    for i, row in enumerate(rows):
        h_, r_, t_ = triples[row]
        tails.append(t_)
        filt.extend(i * n_t + e for e in known[target].get((h_, r_), []) if e != t_)
    if filt:
        scores.view(-1).index_fill_(0, torch.tensor(filt), -math.inf)
    values, idx = scores.topk(min(K, n_t), 1)
    ids = torch.where(torch.isfinite(values), idx, torch.full_like(idx, -1))
    ts = scores.gather(1, torch.tensor(tails)[:, None])
    rank = 1 + (scores > ts).sum(1).double() + ((scores == ts).sum(1).double() - 1) * 0.5
    rank = torch.where(torch.isfinite(ts.squeeze(1)), rank, torch.full_like(rank, math.inf))
    if lang == target:
        return ids, rank
    top[rows] = ids
    ranks[rows] = rank
    return top, ranks


def vote_ranks(cands, targets, n):
    q, m, k = cands.shape
    index = torch.where(cands >= 0, cands, torch.full_like(cands, n)).reshape(q, m * k)
    votes = torch.zeros(q, n + 1, dtype=torch.float64).scatter_add_(1, index, torch.ones(q, m * k, dtype=torch.float64))[:, :n]
    listed = torch.zeros(q, n + 1, dtype=torch.bool).scatter_(1, index, torch.ones(q, m * k, dtype=torch.bool))[:, :n]
    t = targets[:, None]
    target = votes.gather(1, t)
    higher = ((votes > target) & listed).sum(1).double()
    s = m * k
    valid = index < n
    same = index[:, :, None] == index[:, None, :]
    earlier = torch.ones(s, s, dtype=torch.bool).tril(-1)
    first = ~(same & earlier[None]).any(2) & valid
    is_t = (index == t) & valid
    slot = torch.arange(s)[None, :].expand(q, s)
    t_slot = torch.where(is_t, slot, torch.full_like(slot, s)).amin(1, keepdim=True)
    slot_votes = votes.gather(1, index.clamp(max=n - 1))
    tie = (first & (slot < t_slot) & (slot_votes == target) & ~is_t).sum(1).double()
    rank = 1 + higher + tie
    return torch.where(listed.gather(1, t).squeeze(1), rank, torch.full_like(rank, math.inf))


def evaluate():
    out = {}
    with torch.no_grad():
        for target in langs:
            order = [target] + [l for l in langs if l != target]
            ranks, single = [], []
            triples = test[target]
            for start in range(0, len(triples), batch):
                b = triples[start:start + batch]
                lists = [score_model(target, l, b) for l in order]
                cands = torch.stack([x[0] for x in lists], 1)
                ranks.append(vote_ranks(cands, torch.tensor([t[2] for t in b]), entities[target]))
                single.append(lists[0][1])
            r = torch.cat(ranks)
            s = torch.cat(single)
            out[target] = ((s <= 10).double().mean().item(), (r <= 10).double().mean().item(), (1 / r).mean().item())
    return out


times = []
for i in range(repeats + 1):
    t0 = time.perf_counter()
    res = evaluate()
    if i > 0:
        times.append(time.perf_counter() - t0)
print(f"pytorch threads={torch.get_num_threads()} dim={dim} " + " ".join(f"{l}:single_h10={v[0]:.4f},m_h10={v[1]:.4f},m_mrr={v[2]:.4f}" for l, v in res.items()))
print(f"RESULT pytorch eval_s={sorted(times)[len(times) // 2]:.3f} times={' '.join(f'{t:.3f}' for t in times)}")
