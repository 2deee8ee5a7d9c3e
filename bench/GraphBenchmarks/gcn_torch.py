"""PyTorch CPU reference for the speed comparison: the same GCN teacher (2 layers, hidden 64, dropout 0.8, Adam lr 0.01,
wd 1e-3) on the same graph (Cora, undirected, largest connected component, CPF split) for a fixed number of epochs,
each epoch = one full-graph training step + one evaluation forward (as Distiller.Fit does). pygcn-style: dense
features, sparse normalised adjacency (torch.sparse.mm).

usage: /usr/bin/python3 gcn_torch.py path/to/cora.npz [epochs] [threads]
"""
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def load(path):
    d = np.load(path, allow_pickle=False)
    n = int(d["adj_shape"][0])
    indptr, indices = d["adj_indptr"].astype(np.int64), d["adj_indices"].astype(np.int64)
    rows = np.repeat(np.arange(n), np.diff(indptr))
    edges = {(int(r), int(c)) for r, c in zip(rows, indices) if r != c}
    edges |= {(c, r) for r, c in edges}
    neighbours = [[] for _ in range(n)]
    for r, c in edges:
        neighbours[r].append(c)
    # largest connected component
    comp = -np.ones(n, dtype=np.int64)
    sizes = []
    for s in range(n):
        if comp[s] >= 0:
            continue
        cid = len(sizes)
        comp[s] = cid
        stack, size = [s], 0
        while stack:
            u = stack.pop()
            size += 1
            for v in neighbours[u]:
                if comp[v] < 0:
                    comp[v] = cid
                    stack.append(v)
        sizes.append(size)
    keep = np.where(comp == int(np.argmax(sizes)))[0]
    remap = -np.ones(n, dtype=np.int64)
    remap[keep] = np.arange(len(keep))
    e = np.array([(remap[r], remap[c]) for r, c in edges if remap[r] >= 0 and remap[c] >= 0], dtype=np.int64)
    m = len(keep)
    fshape = d["attr_shape"]
    fptr, fidx, fdat = d["attr_indptr"].astype(np.int64), d["attr_indices"].astype(np.int64), d["attr_data"]
    x = np.zeros((int(fshape[0]), int(fshape[1])), dtype=np.float32)
    x[np.repeat(np.arange(int(fshape[0])), np.diff(fptr)), fidx] = fdat
    labels = d["labels"].astype(np.int64)
    return m, e, x[keep], labels[keep]


def normalized_adjacency(m, e):
    loops = np.stack([np.arange(m), np.arange(m)], 1)
    e = np.concatenate([e, loops])
    deg = np.bincount(e[:, 1], minlength=m).astype(np.float32)
    w = 1.0 / np.sqrt(deg[e[:, 0]] * deg[e[:, 1]])
    return torch.sparse_coo_tensor(torch.tensor(e[:, [1, 0]].T), torch.tensor(w), (m, m)).coalesce()


class GCN(nn.Module):
    def __init__(self, adj, d, h, c, p):
        super().__init__()
        self.adj, self.l1, self.l2, self.p = adj, nn.Linear(d, h, bias=False), nn.Linear(h, c, bias=False), p
        self.b1, self.b2 = nn.Parameter(torch.zeros(h)), nn.Parameter(torch.zeros(c))
        nn.init.xavier_uniform_(self.l1.weight)
        nn.init.xavier_uniform_(self.l2.weight)

    def forward(self, x):
        x = F.dropout(x, self.p, self.training)
        x = F.relu(torch.sparse.mm(self.adj, self.l1(x)) + self.b1)
        x = F.dropout(x, self.p, self.training)
        return torch.sparse.mm(self.adj, self.l2(x)) + self.b2


def main():
    path = sys.argv[1]
    epochs = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    torch.set_num_threads(int(sys.argv[3]) if len(sys.argv) > 3 else 1)
    torch.manual_seed(0)
    m, e, x, y = load(path)
    rng = np.random.default_rng(0)
    train, val = [], []
    for c in np.unique(y):
        idx = rng.permutation(np.where(y == c)[0])
        train += list(idx[:20])
        val += list(idx[20:50])
    train, val = torch.tensor(sorted(train)), torch.tensor(sorted(val))
    test = torch.tensor(sorted(set(range(m)) - set(train.tolist()) - set(val.tolist())))
    adj, x, y = normalized_adjacency(m, e), torch.tensor(x), torch.tensor(y)
    model = GCN(adj, x.shape[1], 64, int(y.max()) + 1, 0.8)
    opt = torch.optim.Adam(model.parameters(), lr=0.01, weight_decay=1e-3)
    start = time.perf_counter()
    for _ in range(epochs):
        model.train()
        opt.zero_grad()
        loss = F.cross_entropy(model(x)[train], y[train])
        loss.backward()
        opt.step()
        model.eval()
        with torch.no_grad():
            pred = model(x).argmax(1)
            val_acc = (pred[val] == y[val]).float().mean().item()
            test_acc = (pred[test] == y[test]).float().mean().item()
    elapsed = time.perf_counter() - start
    print(f"pytorch {torch.__version__} gcn: {m} nodes, {epochs} epochs, {elapsed:.2f}s, {1000 * elapsed / epochs:.2f} ms/epoch, "
          f"final val {val_acc:.4f} test {test_acc:.4f}")


if __name__ == "__main__":
    main()
