#!/usr/bin/python3
"""The PyTorch 1.13 side of the transformer training-step benchmark (bench/run-bert-step.sh).

A post-LN BERT classifier written out with the same shapes as KnowledgeDistillation.Transformers'
BertForSequenceClassification (token + position + segment embeddings, LayerNorm, dropout 0.1, multi-head self-attention
with an additive padding mask, exact GELU feed-forward, pooler, classifier), trained one step at a time with AdamW on the
same synthetic batch layout; prints the median step time of `steps` timed steps after 5 warm-up steps.

Usage: pytorch_bert_step.py <layers> <hidden> <heads> <intermediate> <batch> <tokens> <steps> <threads> [--breakdown]
(--breakdown also prints the median forward, backward and optimiser-step times.)
"""
import math
import sys
import time

# Debian's PyTorch 1.13 multiplies matrices in OpenBLAS (pthreads build), whose own pool has one thread per core whatever
# torch.set_num_threads says (measured: 1.42 cores busy at set_num_threads(1)); pin it to the thread count under test,
# before torch loads it, or the reference uses more cores than the TorchSharp side.
import os  # noqa: E402
os.environ.setdefault("OPENBLAS_NUM_THREADS", sys.argv[8] if len(sys.argv) > 8 else "1")

import torch
import torch.nn as nn
import torch.nn.functional as F


class Layer(nn.Module):
    def __init__(self, h, heads, ffn):
        super().__init__()
        self.heads, self.d = heads, h // heads
        self.q, self.k, self.v, self.o = (nn.Linear(h, h) for _ in range(4))
        self.ln1, self.ln2 = nn.LayerNorm(h, eps=1e-12), nn.LayerNorm(h, eps=1e-12)
        self.ff1, self.ff2 = nn.Linear(h, ffn), nn.Linear(ffn, h)
        self.drop = nn.Dropout(0.1)

    def forward(self, x, additive):
        b, t, h = x.shape
        split = lambda y: y.view(b, t, self.heads, self.d).transpose(1, 2)
        q, k, v = split(self.q(x)), split(self.k(x)), split(self.v(x))
        probs = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(self.d) + additive, dim=-1)
        ctx = (self.drop(probs) @ v).transpose(1, 2).reshape(b, t, h)
        a = self.ln1(self.drop(self.o(ctx)) + x)
        return self.ln2(self.drop(self.ff2(F.gelu(self.ff1(a)))) + a)


class Bert(nn.Module):
    def __init__(self, vocab, h, layers, heads, ffn, positions=64, labels=2):
        super().__init__()
        self.word, self.pos, self.typ = nn.Embedding(vocab, h), nn.Embedding(positions, h), nn.Embedding(2, h)
        self.ln = nn.LayerNorm(h, eps=1e-12)
        self.drop = nn.Dropout(0.1)
        self.layers = nn.ModuleList(Layer(h, heads, ffn) for _ in range(layers))
        self.pool, self.cls = nn.Linear(h, h), nn.Linear(h, labels)

    def forward(self, ids):
        mask = (ids != 0).float()
        t = ids.shape[1]
        x = self.drop(self.ln(self.word(ids) + self.pos(torch.arange(t))[None] + self.typ(torch.zeros_like(ids))))
        additive = ((1.0 - mask) * torch.finfo(torch.float32).min)[:, None, None, :]
        for layer in self.layers:
            x = layer(x, additive)
        return self.cls(self.drop(torch.tanh(self.pool(x[:, 0]))))


def main():
    layers, hidden, heads, ffn, batch, tokens, steps, threads = (int(x) for x in sys.argv[1:9])
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = Bert(12000, hidden, layers, heads, ffn)
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    ids = torch.randint(5, 12000, (batch, tokens))
    ids[:, 0] = 2
    ids[: batch // 2, tokens * 3 // 4:] = 0
    labels = torch.randint(0, 2, (batch,))
    breakdown = len(sys.argv) > 9 and sys.argv[9] == "--breakdown"
    times, fwd, bwd, stp = [], [], [], []
    for i in range(steps + 5):
        start = time.perf_counter()
        opt.zero_grad()
        loss = F.cross_entropy(model(ids), labels)
        t1 = time.perf_counter()
        loss.backward()
        t2 = time.perf_counter()
        opt.step()
        t3 = time.perf_counter()
        if i >= 5:
            times.append((t3 - start) * 1000)
            fwd.append((t1 - start) * 1000)
            bwd.append((t2 - t1) * 1000)
            stp.append((t3 - t2) * 1000)
    times.sort()
    print("pytorch layers=%d median_ms=%.2f" % (layers, times[len(times) // 2]))
    if breakdown:
        med = lambda x: sorted(x)[len(x) // 2]
        print("pytorch layers=%d forward_ms=%.2f backward_ms=%.2f step_ms=%.2f" % (layers, med(fwd), med(bwd), med(stp)))


if __name__ == "__main__":
    main()
