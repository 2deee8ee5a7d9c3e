#!/usr/bin/python3
"""PyTorch 1.13 reference for bench/recsys-speed.sh: the same work as `RecommenderDistillation --bench`.

usage: recsys_speed.py RATINGS_CSV [THRESHOLD=4] [TEACHER_DIM=200] [STUDENT_DIM=20] [REPEATS=3] [BATCH=1024] [GROUPS=30]

Reads the ratings (rating >= threshold is positive), splits 80/20 at random per user (its own RNG: the sizes match the C#
split, not the exact items), then times, as the median of REPEATS after one warm-up:
  eval_s       full-ranking evaluation of every user with test items: scores = U I^T in user batches of 1024, training
               items set to -inf, topk(50), Recall/NDCG/HR at 10 and 50 (the way the C# evaluator works);
  bpr_epoch_s  one epoch of BPR-MF (teacher dim) with Adam (lr 5e-3, weight decay 1e-3), batch 1024, negatives sampled
               per epoch (vectorised rejection of training positives), loss summed as in the official code;
  htd_epoch_s  one epoch of HTD (student dim, K groups) written as the official model.py does it (K expert MLPs in a
               ModuleList, get_GA_loss, get_TD_loss2), lambda 1e-3, alpha 0.5, T = 1.
Prints one RESULT line. Threads: torch.set_num_threads(KG_THREADS or RS_THREADS env, default 1).
"""

import csv
import os
import statistics
import sys
import time

# Debian's PyTorch 1.13 multiplies matrices in OpenBLAS (pthreads build), whose own pool has one thread per core whatever
# torch.set_num_threads says (measured: 1.42 cores busy at set_num_threads(1)); pin it to the thread count under test,
# before torch loads it, or the reference uses more cores than the TorchSharp side.
os.environ.setdefault("OPENBLAS_NUM_THREADS", os.environ.get("RS_THREADS", "1"))

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def load(path, threshold):
    users, items, pairs = {}, {}, {}
    with open(path) as f:
        r = csv.DictReader(f)
        for row in r:
            if threshold > 0 and float(row["rating"]) < threshold:
                continue
            u = users.setdefault(row["userId"], len(users))
            i = items.setdefault(row["movieId"], len(items))
            pairs.setdefault((u, i), int(row["timestamp"]))
    per_user = [[] for _ in users]
    for (u, i) in pairs:
        per_user[u].append(i)
    return len(users), len(items), per_user


def split(per_user, rng):
    train, test = [], []
    for items in per_user:
        items = np.array(items)
        rng.shuffle(items)
        k = min(len(items) - 1, int(np.floor(len(items) * 0.2 + 0.5)))
        test.append(np.sort(items[:k]))
        train.append(np.sort(items[k:]))
    return train, test


def sim(a, b):
    denom_a = 1 / (a ** 2).sum(1, keepdim=True).sqrt()
    denom_b = 1 / (b.T ** 2).sum(0, keepdim=True).sqrt()
    return torch.mm(a, b.T) * denom_a * denom_b


class Expert(nn.Module):
    def __init__(self, dims):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(dims[0], dims[1]), nn.ReLU(), nn.Linear(dims[1], dims[2]))

    def forward(self, x):
        return self.net(x)


class Mf(nn.Module):
    def __init__(self, n_users, n_items, dim):
        super().__init__()
        self.user_emb = nn.Embedding(n_users, dim)
        self.item_emb = nn.Embedding(n_items, dim)
        nn.init.normal_(self.user_emb.weight, std=0.01)
        nn.init.normal_(self.item_emb.weight, std=0.01)

    def bpr(self, u, i, j):
        uu = self.user_emb(u)
        return -((uu * self.item_emb(i)).sum(1) - (uu * self.item_emb(j)).sum(1)).sigmoid().log().sum()


class Htd(Mf):
    def __init__(self, n_users, n_items, dim, teacher, k):
        super().__init__(n_users, n_items, dim)
        self.tu = teacher.user_emb.weight.detach()
        self.ti = teacher.item_emb.weight.detach()
        dt = self.tu.shape[1]
        dims = [dim, (dim + dt) // 2, dt]
        self.k = k
        self.user_f = nn.ModuleList([Expert(dims) for _ in range(k)])
        self.item_f = nn.ModuleList([Expert(dims) for _ in range(k)])
        self.user_v = nn.Sequential(nn.Linear(dt, k), nn.Softmax(dim=1))
        self.item_v = nn.Sequential(nn.Linear(dt, k), nn.Softmax(dim=1))
        self.T = 1.0

    def group(self, e, is_user):
        with torch.no_grad():
            t = self.tu[e] if is_user else self.ti[e]
            z = (self.user_v if is_user else self.item_v)(t).max(-1)[1]
            return z if is_user else z + self.k

    def ga(self, e, is_user):
        s = self.user_emb(e) if is_user else self.item_emb(e)
        t = self.tu[e] if is_user else self.ti[e]
        f = self.user_f if is_user else self.item_f
        alpha = (self.user_v if is_user else self.item_v)(t)
        g = torch.distributions.Gumbel(0, 1).sample(alpha.size())
        z = F.softmax(((alpha + 1e-10).log() + g) / self.T, dim=1).unsqueeze(1).repeat(1, t.shape[1], 1)
        f_hat = torch.cat([f[i](s).unsqueeze(-1) for i in range(self.k)], -1)
        return ((t - (f_hat * z).sum(2)) ** 2).sum(-1).sum()

    def td(self, bu, bi):
        s = torch.cat([self.user_emb(bu), self.item_emb(bi)], 0)
        t = torch.cat([self.tu[bu], self.ti[bi]], 0)
        z = torch.cat([self.group(bu, True), self.group(bi, False)], 0)
        g_set = z.unique()
        zz = F.one_hot(z).float()
        with torch.no_grad():
            tmp = zz.T
            tmp = tmp / (tmp.sum(1, keepdims=True) + 1e-10)
            p_s = tmp.mm(s)[g_set]
            p_t = tmp.mm(t)[g_set]
        mask = zz.mm(zz.T)
        t_tmp = sim(t, t) * mask
        keep = t_tmp > 0.
        ent = ((sim(s, s)[keep] - t_tmp[keep]) ** 2).sum()
        grp = ((sim(p_s, s).view(-1) - sim(p_t, t).view(-1)) ** 2).sum()
        return ent + grp


def sample_epoch(train, n_items, rng):
    users = np.concatenate([np.full(len(t), u) for u, t in enumerate(train)])
    pos = np.concatenate(train)
    codes = set((users * n_items + pos).tolist())
    neg = rng.integers(0, n_items, size=len(users))
    bad = np.array([c in codes for c in (users * n_items + neg).tolist()])
    while bad.any():
        neg[bad] = rng.integers(0, n_items, size=int(bad.sum()))
        bad = np.array([c in codes for c in (users * n_items + neg).tolist()])
    order = rng.permutation(len(users))
    return torch.from_numpy(users[order]), torch.from_numpy(pos[order]), torch.from_numpy(neg[order])


def epoch(model, opt, train, n_items, rng, batch, htd):
    u, i, j = sample_epoch(train, n_items, rng)
    for s in range(0, len(u), batch):
        bu, bi, bj = u[s:s + batch], i[s:s + batch], j[s:s + batch]
        loss = model.bpr(bu, bi, bj)
        if htd:
            uu, ii = bu.unique(), torch.cat([bi, bj]).unique()
            ga = model.ga(uu, True) + model.ga(ii, False)
            loss = loss + 1e-3 * (0.5 * model.td(uu, ii) + 0.5 * ga)
        opt.zero_grad()
        loss.backward()
        opt.step()


@torch.no_grad()
def evaluate(model, train, test, n_items, ks=(10, 50), batch=1024):
    users_t, items_t = model.user_emb.weight, model.item_emb.weight
    users = [u for u in range(len(test)) if len(test[u]) > 0]
    kmax = max(ks)
    disc = 1.0 / torch.log2(torch.arange(2, kmax + 2, dtype=torch.float64))
    ideal = torch.cat([torch.zeros(1, dtype=torch.float64), disc.cumsum(0)])
    sums = torch.zeros(3, len(ks), dtype=torch.float64)
    for s in range(0, len(users), batch):
        rows = users[s:s + batch]
        scores = users_t[rows] @ items_t.T
        tr_r = np.concatenate([np.full(len(train[u]), r) for r, u in enumerate(rows)])
        tr_c = np.concatenate([train[u] for u in rows])
        scores[tr_r, tr_c] = -float("inf")
        top = scores.topk(kmax, dim=1).indices
        rel = torch.zeros(len(rows), n_items, dtype=torch.bool)
        te_r = np.concatenate([np.full(len(test[u]), r) for r, u in enumerate(rows)])
        te_c = np.concatenate([test[u] for u in rows])
        rel[te_r, te_c] = True
        hits = rel.gather(1, top).double()
        n = torch.tensor([len(test[u]) for u in rows], dtype=torch.float64)
        for a, k in enumerate(ks):
            h = hits[:, :k]
            c = h.sum(1)
            sums[0, a] += (c / n).sum()
            sums[1, a] += ((h * disc[:k]).sum(1) / ideal[n.clamp(max=k).long()]).sum()
            sums[2, a] += (c > 0).double().sum()
    return sums / len(users)


def median(fn, repeats):
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main():
    path = sys.argv[1]
    threshold = float(sys.argv[2]) if len(sys.argv) > 2 else 4
    dt = int(sys.argv[3]) if len(sys.argv) > 3 else 200
    ds = int(sys.argv[4]) if len(sys.argv) > 4 else 20
    repeats = int(sys.argv[5]) if len(sys.argv) > 5 else 3
    batch = int(sys.argv[6]) if len(sys.argv) > 6 else 1024
    groups = int(sys.argv[7]) if len(sys.argv) > 7 else 30
    threads = int(os.environ.get("RS_THREADS", "1"))
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    n_users, n_items, per_user = load(path, threshold)
    train, test = split(per_user, rng)
    teacher = Mf(n_users, n_items, dt)
    t_opt = torch.optim.Adam(teacher.parameters(), lr=5e-3, weight_decay=1e-3)
    eval_s = median(lambda: evaluate(teacher, train, test, n_items), repeats)
    bpr_s = median(lambda: epoch(teacher, t_opt, train, n_items, rng, batch, False), repeats)
    htd_s = float("nan")
    if groups > 0:  # GROUPS = 0 skips the HTD epoch
        student = Htd(n_users, n_items, ds, teacher, groups)
        s_opt = torch.optim.Adam(student.parameters(), lr=5e-3, weight_decay=1e-3)
        htd_s = median(lambda: epoch(student, s_opt, train, n_items, rng, batch, True), repeats)
    print(f"RESULT pytorch users={n_users} items={n_items} train={sum(len(t) for t in train)} eval_s={eval_s:.4f} "
          f"bpr_epoch_s={bpr_s:.4f} htd_epoch_s={htd_s:.4f} threads={threads}")


if __name__ == "__main__":
    main()
