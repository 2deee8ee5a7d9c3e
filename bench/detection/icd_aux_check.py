#!/usr/bin/env python3
"""ICD's auxiliary task alone, in PyTorch: an independent check of its learnability (oracle 5).

Written from the method note (../shared/methods/icd.md) and the structure of the official code (megvii-research/ICD,
pytorch_release/models/utils.py and teacher.py), independently of the C# code: synthetic 64 x 64 images with 1-3
red/blue rectangles, a random frozen conv "teacher" FPN (P3-P7), instance encoder, one decoder layer (keys = F + Linear(PE),
values = F), heads; real queries jittered +-0.3 (w, h), r = 5 fakes per real (uniform class, log-uniform size), BCE over
valid queries + L1 localisation over real ones, AdamW. Every step draws fresh fakes; every STEPS/6 steps the real/fake
accuracy, real recall and BCE are measured on 8 query draws. At the prior every query is called fake (accuracy 5/6,
recall 0, BCE H(1/6) = 0.451 nats).

POOL says what the task trains and is measured on:
- "fixed": one fixed batch of 4 images, measured on the same 4 images with fresh queries (can the task be fitted at all?);
- a number N (> 4): every step trains on 4 images drawn from a pool of N, and the measurement uses 8 images outside the
  pool, so object positions cannot be memorised and only the teacher's features can tell a real instance from a fake.
ZERO = "zero" replaces the teacher's features by zeros (the control).

    /usr/bin/python3 bench/detection/icd_aux_check.py SEED D LR FEATURE_SCALE STEPS POOL [zero]
    e.g. /usr/bin/python3 bench/detection/icd_aux_check.py 0 16 1e-3 1 1800 fixed
         /usr/bin/python3 bench/detection/icd_aux_check.py 0 16 5e-3 1 1500 256
"""
import math, sys, numpy as np, torch, torch.nn as nn, torch.nn.functional as F
torch.set_num_threads(1)
seed = int(sys.argv[1]) if len(sys.argv) > 1 else 0
D = int(sys.argv[2]) if len(sys.argv) > 2 else 16
H = 4; C = 2; LR = float(sys.argv[3]) if len(sys.argv) > 3 else 1e-3; STEPS = int(sys.argv[5]) if len(sys.argv) > 5 else 300
torch.manual_seed(seed); rng = np.random.default_rng(seed)
FIXED = len(sys.argv) <= 6 or sys.argv[6] == 'fixed'
NPOOL = 4 if FIXED else int(sys.argv[6])
if NPOOL < 4: sys.exit('POOL must be "fixed" or a number of images >= 4')
ZERO = len(sys.argv) > 7 and sys.argv[7] == 'zero'
# synthetic images, 64 x 64: the pool, then 8 held out
NIMG = NPOOL + 8
imgs = torch.full((NIMG, 3, 64, 64), 0.5); gts = []
for i in range(NIMG):
    objs = []
    for k in range(1 + i % 3):
        w, h = rng.integers(12, 40), rng.integers(12, 30); x, y = rng.integers(0, 64 - w), rng.integers(0, 64 - h); c = rng.integers(2)
        imgs[i, :, y:y+h, x:x+w] = torch.tensor([0.9, 0.1, 0.1] if c == 0 else [0.1, 0.1, 0.9])[:, None, None]
        objs.append((c, x, y, x + w, y + h))
    gts.append(objs)
imgs = (imgs - 0.5) / 0.25
class Teach(nn.Module):
    def __init__(s):
        super().__init__()
        s.c = nn.Sequential(nn.Conv2d(3, 16, 3, 2, 1), nn.ReLU(), nn.Conv2d(16, 16, 3, 2, 1), nn.ReLU(), nn.Conv2d(16, D, 3, 2, 1))
        s.down = nn.ModuleList([nn.Conv2d(D, D, 3, 2, 1) for _ in range(4)])
    def forward(s, x):
        p = [s.c(x)]
        for d in s.down: p.append(d(F.relu(p[-1])))
        return p
with torch.no_grad(): levels = Teach()(imgs)
strides = [8, 16, 32, 64, 128]
FEAT = torch.cat([l.flatten(2).transpose(1, 2) for l in levels], 1)
if ZERO: FEAT = torch.zeros_like(FEAT)
feat = FEAT
GTS = gts
pts = []
for l, s in zip(levels, strides):
    hh, ww = l.shape[2:]
    ys, xs = torch.meshgrid(torch.arange(hh) * s + s // 2, torch.arange(ww) * s + s // 2, indexing='ij')
    pts.append(torch.stack([xs.flatten(), ys.flatten()], 1).float())
pos = torch.cat(pts, 0) / 64.0
FS = float(sys.argv[4]) if len(sys.argv) > 4 else 1.0
FEAT = FEAT * FS

def sine(c, f):
    i = torch.arange(f, dtype=torch.float32); dt = 10000 ** (2 * (i // 2) / f)
    v = c[..., None] * 2 * math.pi / dt
    return torch.stack([v[..., 0::2].sin(), v[..., 1::2].cos()], -1).flatten(-2).flatten(-2)
pe = sine(pos, D // 2)[None].expand(4, -1, -1)
def mlp(i, h, o): return nn.Sequential(nn.Linear(i, h), nn.ReLU(), nn.Linear(h, h), nn.ReLU(), nn.Linear(h, o))
enc = mlp(C + D + 10, D, D); head = mlp(D, D, 5)
P = nn.ModuleDict(dict(pp=nn.Linear(D, D), q=nn.Linear(D, D), k=nn.Linear(D, D), v=nn.Linear(D, D), o=nn.Linear(D, D), n1=nn.LayerNorm(D), f1=nn.Linear(D, 4 * D), f2=nn.Linear(4 * D, D), n2=nn.LayerNorm(D)))
params = list(enc.parameters()) + list(head.parameters()) + list(P.parameters())
opt = torch.optim.AdamW(params, LR, weight_decay=1e-4)
def sample(g, idx):
    global feat, gts
    feat = FEAT[idx]; gts = [GTS[i] for i in idx]
    rows = []
    for i in range(4):
        r = []
        for (c, x1, y1, x2, y2) in gts[i]:
            w, h = x2 - x1, y2 - y1
            rx = (x1 + x2) / 2 + g.uniform(-.3, .3) * w; ry = (y1 + y2) / 2 + g.uniform(-.3, .3) * h
            r.append((c, rx / 64, ry / 64, w, h, x1 / 64, y1 / 64, x2 / 64, y2 / 64, 1))
        n = len(r)
        for _ in range(n * 6 - n):
            c = g.integers(2); w, h = np.exp(np.log(0.05) + g.random() * np.log(10)), np.exp(np.log(0.05) + g.random() * np.log(10))
            cx, cy = g.random(), g.random()
            r.append((c, cx, cy, w * 64, h * 64, cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2, 0))
        rows.append(r)
    m = max(len(r) for r in rows)
    t = torch.zeros(4, m, 10); valid = torch.zeros(4, m, dtype=torch.bool)
    for i, r in enumerate(rows):
        t[i, :len(r)] = torch.tensor(r, dtype=torch.float32); valid[i, :len(r)] = True
    return t, valid
def forward(t):
    cls = F.one_hot(t[..., 0].long(), C).float(); ref = t[..., 1:3]; sz = t[..., 3:5]
    bins = (1.44 * sz.clamp(min=1e-6).log() - 5).floor().clamp(0, 4).long()
    desc = torch.cat([cls, sine(ref, D // 2), F.one_hot(bins, 5).float().flatten(-2)], -1)
    q = enc(desc); b, m, _ = q.shape; s = feat.shape[1]; d = D // H
    k = P['k'](feat + P['pp'](pe)).view(b, s, H, d).transpose(1, 2)
    qq = P['q'](q).view(b, m, H, d).transpose(1, 2); v = P['v'](feat).view(b, s, H, d).transpose(1, 2)
    att = (qq @ k.transpose(2, 3) / math.sqrt(d)).softmax(-1)
    out = (att @ v).transpose(1, 2).reshape(b, m, D)
    q1 = P['n1'](q + P['o'](out)); q2 = P['n2'](q1 + P['f2'](F.relu(P['f1'](q1))))
    return head(q2)
def loss_acc(t, valid):
    a = forward(t); real = t[..., 9]; vf = valid.float()
    bce = (F.binary_cross_entropy_with_logits(a[..., 0], real, reduction='none') * vf).sum() / vf.sum()
    rx, ry = t[..., 1], t[..., 2]; x1, y1, x2, y2 = t[..., 5], t[..., 6], t[..., 7], t[..., 8]
    tt = torch.stack([rx - x1, ry - y1, x2 - rx, y2 - ry], -1); w = (x2 - x1).clamp(min=1e-6); h = (y2 - y1).clamp(min=1e-6)
    loc = (((a[..., 1:].sigmoid() - tt).abs() / torch.stack([w, h, w, h], -1)).sum(-1) * real).sum() / real.sum()
    pred = (a[..., 0] > 0).float()
    acc = (((pred == real).float()) * vf).sum() / vf.sum(); rec = (pred * real).sum() / real.sum()
    return bce, loc, acc.item(), rec.item()
g = np.random.default_rng(1000 + seed); ev = [(np.random.default_rng(99 + j), list(range(4)) if FIXED else [NPOOL + 4 * (j % 2) + k for k in range(4)]) for j in range(8)]
for step in range(STEPS + 1):
    if step % (STEPS // 6) == 0:
        with torch.no_grad():
            r = []
            for j in range(8):
                t, v = sample(np.random.default_rng(99 + j), ev[j][1]); r.append(loss_acc(t, v))
        print(step, 'bce %.4f acc %.4f recall %.4f' % (np.mean([x[0].item() for x in r]), np.mean([x[2] for x in r]), np.mean([x[3] for x in r])), flush=True)
    if step == STEPS: break
    idx = list(g.choice(NPOOL, 4, replace=False)) if NPOOL > 4 else list(range(4)); bce, loc, _, _ = loss_acc(*sample(g, idx)); opt.zero_grad(); (bce + loc).backward(); opt.step()
