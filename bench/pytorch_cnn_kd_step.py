"""Issue 12's CNN KD step in PyTorch, for a side-by-side ratio with `KnowledgeDistillation.Benchmarks cnn`.

Teacher: conv3x3-BN-ReLU-maxpool blocks of 64 and 128 channels + 128-unit head (dropout 0.25, inactive in eval mode);
student: blocks of 16 and 32 channels + linear head; batch 128 of 28x28 Fashion-MNIST (the first steps*128 training
images, scaled to [0, 1] as KnowledgeDistillation.Data.FashionMnist does); 0.1 * CE + 0.9 * KD(T=4) (batchmean, T^2);
SGD lr 0.05, momentum 0.9, Nesterov, weight decay 5e-4. The teacher runs in eval mode under no_grad. Prints one JSON
line with the median ms of the same pieces the .NET side times: the KD step, a student-only step, and the teacher
forward alone (under no_grad and under inference_mode). Round 0 warms up and is not in the median.

Run with the Debian PyTorch: /usr/bin/python3 bench/pytorch_cnn_kd_step.py --threads 1 [--append FILE]
"""
import argparse
import gzip
import json
import os
import resource
import statistics
import time

import numpy as np
# Debian's PyTorch 1.13 multiplies matrices in OpenBLAS (pthreads build), whose own pool has one thread per core whatever
# torch.set_num_threads says (measured: 1.42 cores busy at set_num_threads(1)); pin it to the thread count under test,
# before torch loads it, or the reference uses more cores than the TorchSharp side.
import os  # noqa: E402
import sys  # noqa: E402
if "--threads" in sys.argv[:-1]:
    os.environ.setdefault("OPENBLAS_NUM_THREADS", sys.argv[sys.argv.index("--threads") + 1])
else:
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import torch
import torch.nn.functional as F

from pytorch_kd_step import small_cnn

WARM_UP = 5


def load_images(directory, count):
    with gzip.open(os.path.join(directory, "train-images-idx3-ubyte.gz"), "rb") as f:
        images = np.frombuffer(f.read(), dtype=np.uint8, offset=16).reshape(-1, 1, 28, 28)[:count]
    with gzip.open(os.path.join(directory, "train-labels-idx1-ubyte.gz"), "rb") as f:
        labels = np.frombuffer(f.read(), dtype=np.uint8, offset=8)[:count]
    return torch.from_numpy(images.astype(np.float32) / 255.0), torch.from_numpy(labels.astype(np.int64))


FAULTS = {}
CPU = {}


def cpu_ms():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return (usage.ru_utime + usage.ru_stime) * 1000


def minor_faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def timed(count, body, name=None):
    start = None
    before = minor_faults()
    cpu_before = cpu_ms()
    for i in range(count):
        if i == WARM_UP:
            start = time.perf_counter()
        body(i)
    if name:
        FAULTS.setdefault(name, []).append((minor_faults() - before) / count)
        CPU.setdefault(name, []).append((cpu_ms() - cpu_before) / count)
    return (time.perf_counter() - start) * 1000 / (count - WARM_UP)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    parser.add_argument("--append")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    x_all, y_all = load_images(args.data, args.steps * 128)
    xs = [x_all[i * 128:(i + 1) * 128].contiguous() for i in range(args.steps)]
    ys = [y_all[i * 128:(i + 1) * 128].contiguous() for i in range(args.steps)]
    teacher = small_cnn([64, 128], 128, 0.25).eval()
    T = 4.0

    def step_runner(with_teacher):
        torch.manual_seed(10)
        student = small_cnn([16, 32], 0, 0.0).train()
        opt = torch.optim.SGD(student.parameters(), lr=0.05, momentum=0.9, nesterov=True, weight_decay=5e-4)

        def step(i):
            zs = student(xs[i])
            if with_teacher:
                with torch.no_grad():
                    zt = teacher(xs[i])
                kd = F.kl_div(F.log_softmax(zs / T, 1), F.softmax(zt / T, 1), reduction="batchmean") * T * T
                loss = 0.1 * F.cross_entropy(zs, ys[i]) + 0.9 * kd
            else:
                loss = F.cross_entropy(zs, ys[i])
            opt.zero_grad()
            loss.backward()
            opt.step()
        return step

    def forward_no_grad(i):
        with torch.no_grad():
            teacher(xs[i])

    def forward_inference(i):
        with torch.inference_mode():
            teacher(xs[i])

    rounds = {"kdStep": [], "studentOnlyStep": [], "teacherNoGrad": [], "teacherInference": []}
    for _ in range(args.rounds):
        for name, body in (("kdStep", step_runner(True)), ("studentOnlyStep", step_runner(False)),
                           ("teacherNoGrad", forward_no_grad), ("teacherInference", forward_inference)):
            rounds[name].append(timed(args.steps, body, name))
    medians = {k: statistics.median(v[1:] if len(v) > 1 else v) for k, v in rounds.items()}
    with open("/proc/loadavg") as f:
        load = f.read().strip()
    line = json.dumps({"benchmark": "pytorch-cnn-kd-step", "torch": torch.__version__, "threads": torch.get_num_threads(),
                       "steps": args.steps, "time": time.strftime("%H:%M:%S", time.gmtime()), "load": load,
                       "msMedian": medians,
                       "cpuMsMedian": {k: statistics.median(v[1:] if len(v) > 1 else v) for k, v in CPU.items()},
                       "minorFaultsPerStepMedian": {k: statistics.median(v[1:] if len(v) > 1 else v) for k, v in FAULTS.items()},
                       "msRounds": rounds})
    print(line)
    if args.append:
        with open(args.append, "a") as f:
            f.write(line + "\n")


if __name__ == "__main__":
    main()
