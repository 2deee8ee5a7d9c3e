"""The sample's KD step in PyTorch, for a side-by-side speed ratio with KnowledgeDistillation.

Same networks as KnowledgeDistillation.Models.SmallCnn.Teacher()/Student() (conv3x3-BN-ReLU-maxpool blocks
of 32/64 channels + 128-unit head with dropout 0.25, and 4/8 channels + linear head), batch 128 of 1x28x28,
teacher forward under no_grad in eval mode, 0.1 * CE + 0.9 * KD(T=4) (batchmean, T^2), SGD lr 0.05,
momentum 0.9, Nesterov, weight decay 5e-4. Prints one JSON line with ms/step per round.

Run with the Debian PyTorch: /usr/bin/python3 bench/pytorch_kd_step.py [--threads N]
"""
import argparse
import json
import time

# Debian's PyTorch 1.13 multiplies matrices in OpenBLAS (pthreads build), whose own pool has one thread per core whatever
# torch.set_num_threads says (measured: 1.42 cores busy at set_num_threads(1)); pin it to the thread count under test,
# before torch loads it, or the reference uses more cores than the TorchSharp side.
import os  # noqa: E402
import sys  # noqa: E402
if "--threads" in sys.argv[:-1]:
    os.environ.setdefault("OPENBLAS_NUM_THREADS", sys.argv[sys.argv.index("--threads") + 1])

import torch
import torch.nn as nn
import torch.nn.functional as F


def block(cin, cout):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(), nn.MaxPool2d(2))


def small_cnn(channels, hidden, dropout):
    layers, cin, size = [], 1, 28
    for c in channels:
        layers.append(block(cin, c))
        cin, size = c, size // 2
    head = [nn.Flatten()]
    if dropout > 0:
        head.append(nn.Dropout(dropout))
    if hidden:
        head += [nn.Linear(cin * size * size, hidden), nn.ReLU()]
        if dropout > 0:
            head.append(nn.Dropout(dropout))
        head.append(nn.Linear(hidden, 10))
    else:
        head.append(nn.Linear(cin * size * size, 10))
    return nn.Sequential(nn.Sequential(*layers), nn.Sequential(*head))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    teacher = small_cnn([32, 64], 128, 0.25).eval()
    student = small_cnn([4, 8], 0, 0.0).train()
    opt = torch.optim.SGD(student.parameters(), lr=0.05, momentum=0.9, nesterov=True, weight_decay=5e-4)
    x = torch.randn(args.steps, 128, 1, 28, 28)
    y = torch.randint(0, 10, (args.steps, 128))
    T = 4.0
    rounds = []
    for _ in range(args.rounds):
        start = time.perf_counter()
        for i in range(args.steps):
            with torch.no_grad():
                zt = teacher(x[i])
            zs = student(x[i])
            kd = F.kl_div(F.log_softmax(zs / T, 1), F.softmax(zt / T, 1), reduction="batchmean") * T * T
            loss = 0.1 * F.cross_entropy(zs, y[i]) + 0.9 * kd
            opt.zero_grad()
            loss.backward()
            opt.step()
        rounds.append((time.perf_counter() - start) * 1000 / args.steps)
    rest = sorted(rounds[1:])
    print(json.dumps({"benchmark": "pytorch-kd-step", "torch": torch.__version__, "threads": torch.get_num_threads(),
                      "msPerStepRounds": rounds, "msPerStepMedian": rest[len(rest) // 2]}))


if __name__ == "__main__":
    main()
