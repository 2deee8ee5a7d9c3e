#!/usr/bin/env python3
"""One FCOS student training step in PyTorch 1.13: the network of KnowledgeDistillation.Detection's
FcosDetectorOptions.ResNet10Quarter(3) (basic-block ResNet 16-32-64-128, FPN P3-P7 64 channels, 2-conv GN towers) with
the same FCOS loss (centre sampling 1.5, focal 0.25/2, GIoU weighted by centerness, centerness BCE), SGD momentum 0.9.
Input: a batch of 8 images 192x256 with 16 boxes each (BCCD-like sizes). Run side by side with
    dotnet samples/DetectionDistillation/bin/Release/net10.0/DetectionDistillation.dll --mode bench-step --steps 20
Usage: /usr/bin/python3 bench/detection/fcos_step.py [--steps 20] [--threads 1]
"""
import argparse
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

p = argparse.ArgumentParser()
p.add_argument("--steps", type=int, default=20)
p.add_argument("--threads", type=int, default=1)
p.add_argument("--profile", action="store_true", help="print the top operators of one extra step (torch.profiler)")
args = p.parse_args()
torch.set_num_threads(args.threads)
torch.manual_seed(0)
STRIDES = [8, 16, 32, 64, 128]
RANGES = [(0, 64), (64, 128), (128, 256), (256, 512), (512, float("inf"))]


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(y + (x if self.down is None else self.down(x)))


class Detector(nn.Module):
    def __init__(self, classes=3, widths=(16, 32, 64, 128), d=64, convs=2, groups=8):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, widths[0], 3, 2, 1, bias=False), nn.BatchNorm2d(widths[0]), nn.ReLU(), nn.MaxPool2d(3, 2, 1))
        self.layers = nn.ModuleList([Block(widths[0], widths[0], 1), Block(widths[0], widths[1], 2), Block(widths[1], widths[2], 2), Block(widths[2], widths[3], 2)])
        self.lat = nn.ModuleList([nn.Conv2d(c, d, 1) for c in widths[1:]])
        self.out = nn.ModuleList([nn.Conv2d(d, d, 3, 1, 1) for _ in range(3)])
        self.p6 = nn.Conv2d(d, d, 3, 2, 1)
        self.p7 = nn.Conv2d(d, d, 3, 2, 1)
        tower = lambda: nn.Sequential(*sum([[nn.Conv2d(d, d, 3, 1, 1), nn.GroupNorm(groups, d), nn.ReLU()] for _ in range(convs)], []))
        self.cls_tower, self.box_tower = tower(), tower()
        self.cls = nn.Conv2d(d, classes, 3, 1, 1)
        self.box = nn.Conv2d(d, 4, 3, 1, 1)
        self.ctr = nn.Conv2d(d, 1, 3, 1, 1)
        nn.init.constant_(self.cls.bias, -math.log(99))
        self.scales = nn.Parameter(torch.ones(5))
        self.classes = classes

    def forward(self, x):
        x = self.stem(x)
        c = []
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i > 0:
                c.append(x)
        l5 = self.lat[2](c[2])
        l4 = self.lat[1](c[1]) + F.interpolate(l5, size=c[1].shape[-2:], mode="nearest")
        l3 = self.lat[0](c[0]) + F.interpolate(l4, size=c[0].shape[-2:], mode="nearest")
        o5 = self.out[2](l5)
        o6 = self.p6(o5)
        levels = [self.out[0](l3), self.out[1](l4), o5, o6, self.p7(F.relu(o6))]
        cls, box, ctr = [], [], []
        for i, f in enumerate(levels):
            b = f.shape[0]
            t, u = self.cls_tower(f), self.box_tower(f)
            cls.append(self.cls(t).permute(0, 2, 3, 1).reshape(b, -1, self.classes))
            box.append((torch.exp((self.box(u) * self.scales[i]).clamp(max=12.0)) * STRIDES[i]).permute(0, 2, 3, 1).reshape(b, -1, 4))
            ctr.append(self.ctr(u).reshape(b, -1))
        return levels, torch.cat(cls, 1), torch.cat(box, 1), torch.cat(ctr, 1)


def points(levels):
    pts, strides, lv = [], [], []
    for i, f in enumerate(levels):
        h, w = f.shape[-2:]
        s = STRIDES[i]
        ys, xs = torch.meshgrid(torch.arange(h) * s + s // 2, torch.arange(w) * s + s // 2, indexing="ij")
        pts.append(torch.stack([xs.reshape(-1), ys.reshape(-1)], 1).float())
        strides.append(torch.full((h * w,), float(s)))
        lv.append(torch.full((h * w,), i, dtype=torch.long))
    return torch.cat(pts), torch.cat(strides), torch.cat(lv)


def fcos_loss(cls, box, ctr, levels, targets, classes):
    pts, strides, lv = points(levels)
    x, y = pts[:, 0].view(1, -1, 1), pts[:, 1].view(1, -1, 1)
    x1, y1, x2, y2 = [targets[:, :, k].unsqueeze(1) for k in (1, 2, 3, 4)]
    ltrb = torch.stack([x - x1, y - y1, x2 - x, y2 - y], -1)
    cand = ltrb.amin(-1) > 0
    r = (strides * 1.5).view(1, -1, 1)
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    cen = torch.stack([x - torch.max(x1, cx - r), y - torch.max(y1, cy - r), torch.min(x2, cx + r) - x, torch.min(y2, cy + r) - y], -1)
    cand &= cen.amin(-1) > 0
    rng = torch.tensor(RANGES)[lv]
    big = ltrb.amax(-1)
    cand &= (big >= rng[:, 0].view(1, -1, 1)) & (big <= rng[:, 1].view(1, -1, 1))
    cand &= ((targets[:, :, 0] >= 0) & (targets[:, :, 5] < 0.5)).unsqueeze(1)
    area = ((x2 - x1) * (y2 - y1)).expand(cand.shape)
    min_area, idx = torch.where(cand, area, torch.full_like(area, float("inf"))).min(-1)
    pos = torch.isfinite(min_area)
    labels = torch.where(pos, targets[:, :, 0].long().gather(1, idx), torch.full_like(idx, classes))
    bt = ltrb.gather(2, idx[..., None, None].expand(-1, -1, 1, 4)).squeeze(2)
    lr, tb = bt[..., 0::2], bt[..., 1::2]
    ct = torch.where(pos, ((lr.amin(-1) / lr.amax(-1).clamp(min=1e-12)) * (tb.amin(-1) / tb.amax(-1).clamp(min=1e-12))).sqrt(), torch.zeros_like(min_area))
    n = pos.sum().float().clamp(min=1)
    onehot = F.one_hot(labels, classes + 1)[..., :classes].float()
    pr = cls.sigmoid()
    ce = F.binary_cross_entropy_with_logits(cls, onehot, reduction="none")
    pt = pr * onehot + (1 - pr) * (1 - onehot)
    focal = (ce * (1 - pt) ** 2 * (0.25 * onehot + 0.75 * (1 - onehot))).sum() / n
    pb, tg, cw = box[pos], bt[pos], ct[pos]
    pa = (pb[:, 0] + pb[:, 2]) * (pb[:, 1] + pb[:, 3])
    ta = (tg[:, 0] + tg[:, 2]) * (tg[:, 1] + tg[:, 3])
    inter = (torch.min(pb[:, 0], tg[:, 0]) + torch.min(pb[:, 2], tg[:, 2])) * (torch.min(pb[:, 1], tg[:, 1]) + torch.min(pb[:, 3], tg[:, 3]))
    union = (pa + ta - inter).clamp(min=1e-7)
    enc = ((torch.max(pb[:, 0], tg[:, 0]) + torch.max(pb[:, 2], tg[:, 2])) * (torch.max(pb[:, 1], tg[:, 1]) + torch.max(pb[:, 3], tg[:, 3]))).clamp(min=1e-7)
    giou = 1 - (inter / union - (enc - union) / enc)
    boxl = (giou * cw).sum() / cw.sum().clamp(min=1e-6)
    ctrl = F.binary_cross_entropy_with_logits(ctr[pos], cw, reduction="sum") / n
    return focal + boxl + ctrl


net = Detector()
opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
images = torch.randn(8, 3, 192, 256)
g = torch.Generator().manual_seed(1)
wh = torch.rand(8, 16, 2, generator=g) * 60 + 10
xy = torch.rand(8, 16, 2, generator=g) * torch.tensor([256.0, 192.0]) - wh / 2
targets = torch.cat([torch.randint(0, 3, (8, 16, 1), generator=g).float(), xy.clamp(min=0), (xy + wh).clamp(max=torch.tensor([256.0, 192.0])), torch.zeros(8, 16, 1)], -1)
times = []
for step in range(args.steps + 3):
    t = time.perf_counter()
    opt.zero_grad()
    levels, cls, box, ctr = net(images)
    fcos_loss(cls, box, ctr, levels, targets, 3).backward()
    opt.step()
    if step >= 3:
        times.append((time.perf_counter() - t) * 1000)
times.sort()
print(f"pytorch {torch.__version__} fcos step: batch 8x192x256, threads {args.threads}, median {times[len(times) // 2]:.1f} ms, "
      f"mean {sum(times) / len(times):.1f} ms over {len(times)} steps; params {sum(p.numel() for p in net.parameters())}")

if args.profile:
    from torch.profiler import profile, ProfilerActivity
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        opt.zero_grad()
        levels, cls, box, ctr = net(images)
        fcos_loss(cls, box, ctr, levels, targets, 3).backward()
        opt.step()
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=12))
