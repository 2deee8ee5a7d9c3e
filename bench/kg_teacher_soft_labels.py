#!/usr/bin/env python3
"""What DualDE's soft labels carry: a ComplEx teacher's scores on training positives and corrupted negatives.

DualDE's student imitates sigma(f_T(x)) with the weight p = sigma(a (f_T(x) + b)) on positives and
p' = 1 - sigma(a' (f_T(x') + b')) on negatives, and learns from the hard label with the weight 1 - p. This script loads a
teacher saved by samples/KnowledgeGraphDistillation (safetensors: "entities" and "relations", [Re; Im] halves), numbers
the entities and relations as the library does (first appearance over train, valid, test; head before tail), and prints:

- quantiles of the teacher's scores on all training positives, on valid/test positives and on uniformly corrupted
  training triples (one side per triple, as the sample's "alternate" corruption over a batch);
- how far the soft label is from the hard label (mean |sigma(f_T) - y|), and how much of the soft loss's weight the
  student's positives and negatives get at the initial sigmoid (a = 1, b = 0) and at the learned one (--sigmoid);
- how many corrupted triples the teacher scores as plausible (sigma > 0.5), and how many of those are true triples
  (in train, valid or test): the only place a soft label differs from the hard one by much.

Only numpy is needed. Example (the WN18RR ComplEx-500 teacher of docs/benchmarks.md, the sigmoids learned in stage 1):

    python3 bench/kg_teacher_soft_labels.py ../shared/data/kg/WN18RR runs/wn18rr/complex500.safetensors \
        --sigmoid 2.2 1.25 4.1 -4.8
"""
import argparse
import json
import os
import struct

import numpy as np


def load_safetensors(path):
    with open(path, "rb") as f:
        (size,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(size))
        base = 8 + size
        tensors = {}
        for name, info in header.items():
            if name == "__metadata__":
                continue
            if info["dtype"] != "F32":
                raise SystemExit(f"{path}: tensor {name} is {info['dtype']}, expected F32")
            start, end = info["data_offsets"]
            f.seek(base + start)
            tensors[name] = np.frombuffer(f.read(end - start), dtype="<f4").reshape(info["shape"]).astype(np.float64)
        return tensors, header.get("__metadata__", {})


def read_splits(directory):
    entities, relations, splits = {}, {}, {}
    for split in ("train", "valid", "test"):
        rows = []
        with open(os.path.join(directory, f"{split}.txt"), encoding="utf-8") as f:
            for line in f:
                parts = line.strip().split("\t")
                if len(parts) != 3:
                    continue
                h, r, t = parts
                hi = entities.setdefault(h, len(entities))
                ri = relations.setdefault(r, len(relations))
                ti = entities.setdefault(t, len(entities))
                rows.append((hi, ri, ti))
        splits[split] = np.array(rows, dtype=np.int64)
    return entities, relations, splits


def complex_scores(E, R, h, r, t, chunk=65536):
    half = E.shape[1] // 2
    out = np.empty(len(h))
    for s in range(0, len(h), chunk):
        hh, rr, tt = E[h[s:s + chunk]], R[r[s:s + chunk]], E[t[s:s + chunk]]
        hr, hi = hh[:, :half], hh[:, half:]
        rr_, ri = rr[:, :half], rr[:, half:]
        tr, ti = tt[:, :half], tt[:, half:]
        out[s:s + chunk] = (hr * rr_ * tr + hi * rr_ * ti + hr * ri * ti - hi * ri * tr).sum(1)
    return out


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-np.clip(x, -60, 60)))


def quantiles(x):
    q = np.quantile(x, [0.01, 0.1, 0.5, 0.9, 0.99])
    return " ".join(f"{v:8.2f}" for v in q)


def platt(pos, neg):
    """Class-balanced logistic regression of 'true' on the score, by Newton's method."""
    x = np.concatenate([pos, neg])
    y = np.concatenate([np.ones(len(pos)), np.zeros(len(neg))])
    w = np.concatenate([np.full(len(pos), 0.5 / len(pos)), np.full(len(neg), 0.5 / len(neg))])
    a = b = 0.0
    for _ in range(100):
        p = sigmoid(a * x + b)
        g = np.array([np.sum(w * (p - y) * x), np.sum(w * (p - y))])
        h = w * p * (1 - p)
        hess = np.array([[np.sum(h * x * x), np.sum(h * x)], [np.sum(h * x), np.sum(h)]])
        step = np.linalg.solve(hess, g)
        a, b = a - step[0], b - step[1]
        if np.abs(step).sum() < 1e-12:
            break
    return a, b


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data")
    parser.add_argument("teacher")
    parser.add_argument("--negatives", type=int, default=64)
    parser.add_argument("--sample", type=int, default=20000, help="training triples to corrupt (default 20000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sigmoid", type=float, nargs=4, metavar=("A", "B", "A2", "B2"),
                        help="the learned soft-label sigmoids (a, b) of positives and (a', b') of negatives")
    parser.add_argument("--calibration", type=float, nargs=2, metavar=("SCALE", "SHIFT"),
                        help="analyse Scale * f_T + Shift instead of f_T (a ScoreCalibration the sample logged)")
    parser.add_argument("--fit-calibration", action="store_true",
                        help="also fit Platt scaling on valid triples and 32 uniform corruptions each, classes weighted "
                             "equally (an independent check of ScoreCalibration.Fit)")
    args = parser.parse_args()

    tensors, meta = load_safetensors(args.teacher)
    if meta.get("model", "ComplEx") != "ComplEx":
        raise SystemExit(f"{args.teacher}: model {meta.get('model')}; this script scores ComplEx only")
    entities, relations, splits = read_splits(args.data)
    E, R = tensors["entities"], tensors["relations"]
    if E.shape[0] != len(entities) or R.shape[0] != len(relations):
        raise SystemExit(f"{args.teacher}: {E.shape[0]} entities / {R.shape[0]} relations, the data has "
                         f"{len(entities)} / {len(relations)}")
    known = {tuple(x) for s in splits.values() for x in s.tolist()}
    rng = np.random.default_rng(args.seed)

    train = splits["train"]
    pos = complex_scores(E, R, train[:, 0], train[:, 1], train[:, 2])
    held = np.concatenate([splits["valid"], splits["test"]])
    held_pos = complex_scores(E, R, held[:, 0], held[:, 1], held[:, 2])

    picked = train[rng.choice(len(train), size=min(args.sample, len(train)), replace=False)]
    h = np.repeat(picked[:, 0], args.negatives)
    r = np.repeat(picked[:, 1], args.negatives)
    t = np.repeat(picked[:, 2], args.negatives)
    corrupt_head = np.repeat(rng.random(len(picked)) < 0.5, args.negatives)
    random_entities = rng.integers(0, len(entities), size=len(h))
    h = np.where(corrupt_head, random_entities, h)
    t = np.where(corrupt_head, t, random_entities)
    neg = complex_scores(E, R, h, r, t)
    is_true = np.fromiter(((a, b, c) in known for a, b, c in zip(h.tolist(), r.tolist(), t.tolist())), bool, len(h))

    if args.fit_calibration:
        valid = splits["valid"]
        vh, vr, vt = (np.repeat(valid[:, i], 32) for i in range(3))
        side = rng.random(len(vh)) < 0.5
        ents = rng.integers(0, len(entities), size=len(vh))
        vneg = complex_scores(E, R, np.where(side, ents, vh), vr, np.where(side, vt, ents))
        vpos = complex_scores(E, R, valid[:, 0], valid[:, 1], valid[:, 2])
        a, b = platt(vpos, vneg)
        print(f"Platt scaling fitted on valid ({len(vpos)} triples x 32 corruptions): scale {a:.4f}, shift {b:.4f}")
    if args.calibration:
        scale, shift = args.calibration
        pos, held_pos, neg = (scale * x + shift for x in (pos, held_pos, neg))
    print(f"teacher {args.teacher} ({meta}); data {args.data}: {len(entities)} entities, {len(relations)} relations")
    if args.calibration:
        print(f"scores calibrated: {args.calibration[0]} * f_T + {args.calibration[1]}")
    print(f"scores f_T, quantiles  1%      10%      50%      90%      99%")
    print(f"  train positives   {quantiles(pos)}   ({len(pos)} triples)")
    print(f"  valid+test pos.   {quantiles(held_pos)}   ({len(held_pos)} triples)")
    print(f"  corrupted train   {quantiles(neg)}   ({len(neg)} = {len(picked)} x {args.negatives})")
    sp, sh, sn = sigmoid(pos), sigmoid(held_pos), sigmoid(neg)
    print("soft label sigma(f_T) against the hard label y (mean |sigma(f_T) - y|):")
    print(f"  train positives   {np.mean(1 - sp):.4f}   (sigma > 0.99 for {np.mean(sp > 0.99):.1%})")
    print(f"  valid+test pos.   {np.mean(1 - sh):.4f}   (sigma > 0.99 for {np.mean(sh > 0.99):.1%})")
    print(f"  corrupted train   {np.mean(sn):.4f}   (sigma < 0.01 for {np.mean(sn < 0.01):.1%})")
    plausible = sn > 0.5
    print(f"corrupted triples the teacher scores plausible (sigma > 0.5): {plausible.sum()} of {len(sn)} "
          f"({plausible.mean():.3%}); true triples among them: {int((plausible & is_true).sum())}; "
          f"true triples among all corruptions: {int(is_true.sum())}")
    sigmoids = [("initial (a=1, b=0; a'=1, b'=0)", (1.0, 0.0, 1.0, 0.0))]
    if args.sigmoid:
        sigmoids.append(("learned (a={0}, b={1}; a'={2}, b'={3})".format(*args.sigmoid), tuple(args.sigmoid)))
    for label, (a, b, a2, b2) in sigmoids:
        p = sigmoid(a * (pos + b))
        p_neg = 1 - sigmoid(a2 * (neg + b2))
        print(f"soft-loss weight at the {label}: positives p mean {p.mean():.6f} (hard weight 1 - p {1 - p.mean():.2e}), "
              f"negatives p' mean {p_neg.mean():.4f}")


if __name__ == "__main__":
    main()
