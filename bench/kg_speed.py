"""PyTorch reference for bench/KgBenchmarks: the same filtered link prediction (DistMult, both directions, mean rank of
ties, known answers from train+valid+test set to -inf) and the same training step (DistMult, self-adversarial loss, Adam).
usage: /usr/bin/python3 bench/kg_speed.py DATA_DIR [dim=500] [repeats=5] [eval_batch=512] [train_triples=20480] [train_batch=512] [negatives=128]
"""
import os, random, sys, time
# Debian's PyTorch 1.13 multiplies matrices in OpenBLAS (pthreads build), whose own pool has one thread per core whatever
# torch.set_num_threads says (measured: 1.42 cores busy at set_num_threads(1)); pin it to the thread count under test,
# before torch loads it, or the reference uses more cores than the TorchSharp side.
if "KG_THREADS" in os.environ:
    os.environ.setdefault("OPENBLAS_NUM_THREADS", os.environ["KG_THREADS"])

import torch
import torch.nn.functional as F

args = sys.argv[1:]
def arg(i, d): return int(args[i]) if len(args) > i else d
data = args[0] if args else "../shared/data/kg/WN18RR"
dim, repeats, eval_batch, train_triples, train_batch, negatives = arg(1, 500), arg(2, 5), arg(3, 512), arg(4, 20480), arg(5, 512), arg(6, 128)

if os.environ.get("KG_THREADS"):
    torch.set_num_threads(int(os.environ["KG_THREADS"]))
ents, rels = {}, {}
def read(name, add):
    out = []
    for line in open(os.path.join(data, name)):
        if not line.strip(): continue
        h, r, t = line.rstrip("\r\n").split("\t")
        for e in (h, t): ents.setdefault(e, len(ents))  # entities first seen in valid/test get ids too (40,943 on WN18RR)
        if add: rels.setdefault(r, len(rels))
        out.append((ents[h], rels[r], ents[t]))
    return out
train, valid, test = read("train.txt", True), read("valid.txt", False), read("test.txt", False)
E, R = len(ents), len(rels)
tails, heads = {}, {}
for h, r, t in train + valid + test:
    tails.setdefault((h, r), set()).add(t)
    heads.setdefault((r, t), set()).add(h)
print(f"pytorch {torch.__version__} threads={torch.get_num_threads()} entities={E} test={len(test)}")

torch.manual_seed(0)
r0 = 1 / dim ** 0.5
ent = torch.empty(E, dim).uniform_(-r0, r0).requires_grad_()
rel = torch.empty(R, dim).uniform_(-r0, r0).requires_grad_()

@torch.no_grad()
def evaluate(sign_trick=False):
    ranks = []
    for tail_side in (True, False):
        for s in range(0, len(test), eval_batch):
            b = test[s:s + eval_batch]
            given = torch.tensor([x[0] if tail_side else x[2] for x in b])
            rr = torch.tensor([x[1] for x in b])
            target = torch.tensor([x[2] if tail_side else x[0] for x in b])
            scores = (ent[given] * rel[rr]) @ ent.t()
            flat = []
            for i, (h, r, t) in enumerate(b):
                known = tails[(h, r)] if tail_side else heads[(r, t)]
                tgt = t if tail_side else h
                flat.extend(i * E + e for e in known if e != tgt)
            if flat:
                scores.view(-1).index_fill_(0, torch.tensor(flat), float("-inf"))
            ts = scores.gather(1, target.unsqueeze(1))
            if sign_trick:  # the one-pass rank of LinkPredictionEvaluator: (N + sum(sign(s - s_t)) + 1) / 2
                ranks.append(((scores - ts).sign_().sum(1).double() + E + 1) * 0.5)
                continue
            higher = (scores > ts).sum(1, dtype=torch.float64)
            tied = (scores == ts).sum(1, dtype=torch.float64) - 1
            ranks.append(1 + higher + 0.5 * tied)
    ranks = torch.cat(ranks)
    return (1 / ranks).mean().item()

times = []
for i in range(repeats + 1):
    t0 = time.perf_counter(); mrr = evaluate(); dt = time.perf_counter() - t0
    if i > 0: times.append(dt)
print("eval: mrr %.5f times %s" % (mrr, " ".join("%.3f" % t for t in times)))
sign_times = []
for i in range(repeats + 1):
    t0 = time.perf_counter(); mrr_sign = evaluate(True); dt = time.perf_counter() - t0
    if i > 0: sign_times.append(dt)
print("eval (one-pass sign ranks, as in the C# evaluator): mrr %.5f times %s" % (mrr_sign, " ".join("%.3f" % t for t in sign_times)))

subset = train[:train_triples]
opt = torch.optim.Adam([ent, rel], lr=1e-3)
train_times = []
for rep in range(max(1, repeats // 2) + 1):
    rnd = random.Random(rep)
    order = list(range(len(subset))); rnd.shuffle(order)
    t0 = time.perf_counter()
    for bi, s in enumerate(range(0, len(order), train_batch)):
        idx = order[s:s + train_batch]
        trip = torch.tensor([subset[i] for i in idx])
        neg = torch.tensor([rnd.randrange(E) for _ in range(len(idx) * negatives)]).view(len(idx), negatives)
        h, r, t = trip[:, 0], trip[:, 1], trip[:, 2]
        hr, tr = ent[h], ent[t]
        pos = (hr * rel[r] * tr).sum(-1)
        q = (tr * rel[r]) if bi % 2 == 1 else (hr * rel[r])
        negs = torch.bmm(ent[neg], q.unsqueeze(2)).squeeze(2)
        w = F.softmax(negs.detach(), 1)
        loss = -F.logsigmoid(pos).mean() - (w * F.logsigmoid(-negs)).sum(1).mean()
        opt.zero_grad(); loss.backward(); opt.step()
    dt = time.perf_counter() - t0
    if rep > 0: train_times.append(dt)
med = lambda v: sorted(v)[len(v) // 2] if len(v) % 2 else sum(sorted(v)[len(v) // 2 - 1:len(v) // 2 + 1]) / 2
print("train: %d triples, times %s" % (len(subset), " ".join("%.3f" % t for t in train_times)))
print("RESULT pytorch eval_s=%.3f eval_sign_s=%.3f mrr=%.5f train_triples_per_s=%.0f" % (med(times), med(sign_times), mrr, len(subset) / med(train_times)))
