"""Issue 17's clip training step in PyTorch, for a side-by-side ratio with `samples/VideoGraphDistillation --bench-step`.

The same two models as the .NET side, written from the C# definitions (src/KnowledgeDistillation/Models/Video/):
  student-framecnn  per-frame 2D CNN: stem conv3x3 stride 2 (1->4) - BN - ReLU, then conv3x3 - BN - ReLU - maxpool2 blocks
                    (4->8, 8->16), spatial mean per frame, mean over frames, linear 16->10;
  teacher-cnn3d     3D CNN: stem conv3x3x3 stride (1,2,2) (1->8) - BN3d - ReLU, blocks conv3x3x3 - BN3d - ReLU -
                    maxpool(1,2,2) (8->16, 16->32), mean over time and space, linear 32->10.
Step: forward on random clips [batch, frames, 1, 64, 64], cross-entropy, backward, SGD lr 0.05 momentum 0.9. Three warm-up
steps, then the median of --steps steps. Prints "name median_ms" lines and the phases' medians ("name:forward" with the
loss, "name:backward", "name:optimizer"), like the .NET side.

Run with the Debian PyTorch: /usr/bin/python3 bench/pytorch_video_step.py --threads 1 [--batch 32 --frames 6 --steps 20]
"""
import os
import sys

if "--threads" in sys.argv[:-1]:
    os.environ.setdefault("OPENBLAS_NUM_THREADS", sys.argv[sys.argv.index("--threads") + 1])
else:
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402


class FrameCnn(nn.Module):
    def __init__(self, channels=(4, 8, 16), classes=10):
        super().__init__()
        layers = [nn.Sequential(nn.Conv2d(1, channels[0], 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(channels[0]), nn.ReLU())]
        for i in range(1, len(channels)):
            layers.append(nn.Sequential(nn.Conv2d(channels[i - 1], channels[i], 3, padding=1, bias=False), nn.BatchNorm2d(channels[i]), nn.ReLU(), nn.MaxPool2d(2)))
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(channels[-1], classes)

    def forward(self, clips):
        b, t = clips.shape[:2]
        per_frame = self.features(clips.flatten(0, 1)).flatten(2).mean(2)
        return self.classifier(per_frame.reshape(b, t, -1).transpose(1, 2).flatten(2).mean(2))


class VideoCnn3d(nn.Module):
    def __init__(self, channels=(8, 16, 32), classes=10):
        super().__init__()
        layers = [nn.Sequential(nn.Conv3d(1, channels[0], 3, stride=(1, 2, 2), padding=1, bias=False), nn.BatchNorm3d(channels[0]), nn.ReLU())]
        for i in range(1, len(channels)):
            layers.append(nn.Sequential(nn.Conv3d(channels[i - 1], channels[i], 3, padding=1, bias=False), nn.BatchNorm3d(channels[i]), nn.ReLU(),
                                        nn.MaxPool3d((1, 2, 2), (1, 2, 2))))
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(channels[-1], classes)

    def forward(self, clips):
        return self.classifier(self.features(clips.permute(0, 2, 1, 3, 4)).flatten(2).mean(2))


def layers(a, channels=(4, 8, 16)):
    """The student's per-frame layers one by one, as LayerBenchmark.cs: forward and forward + backward on its own input."""
    torch.manual_seed(0)
    seq = [("conv", nn.Conv2d(1, channels[0], 3, stride=2, padding=1, bias=False)), ("bn", nn.BatchNorm2d(channels[0])), ("relu", nn.ReLU())]
    for i in range(1, len(channels)):
        seq += [("conv", nn.Conv2d(channels[i - 1], channels[i], 3, padding=1, bias=False)), ("bn", nn.BatchNorm2d(channels[i])),
                ("relu", nn.ReLU()), ("maxpool", nn.MaxPool2d(2))]
    x = torch.randn(a.batch * a.frames, 1, 64, 64)
    for i, (name, layer) in enumerate(seq):
        layer.train()
        forward, both = [], []
        for step in range(a.steps + 3):
            inp = x.detach().requires_grad_()
            start = time.perf_counter()
            y = layer(inp)
            f = time.perf_counter()
            y.sum().backward()
            end = time.perf_counter()
            if step >= 3:
                forward.append((f - start) * 1000)
                both.append((end - start) * 1000)
        print(f"layer:{i}:{name}:forward {statistics.median(forward):.2f}")
        print(f"layer:{i}:{name}:backward {statistics.median(both) - statistics.median(forward):.2f}")
        with torch.no_grad():
            x = layer(x)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--frames", type=int, default=6)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--layers", action="store_true", help="time the student's per-frame layers one by one instead")
    a = parser.parse_args()
    torch.set_num_threads(a.threads)
    if a.layers:
        layers(a)
        return
    for name, factory in (("student-framecnn", FrameCnn), ("teacher-cnn3d", VideoCnn3d)):
        torch.manual_seed(0)
        model = factory()
        model.train()
        opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        clips = torch.randn(a.batch, a.frames, 1, 64, 64)
        labels = torch.randint(0, 10, (a.batch,))
        times, phases = [], []
        for step in range(a.steps + 3):
            start = time.perf_counter()
            opt.zero_grad()
            loss = F.cross_entropy(model(clips), labels)
            forward = time.perf_counter()
            loss.backward()
            backward = time.perf_counter()
            opt.step()
            end = time.perf_counter()
            if step >= 3:
                times.append((end - start) * 1000)
                phases.append(((forward - start) * 1000, (backward - forward) * 1000, (end - backward) * 1000))
        print(f"{name} {statistics.median(times):.2f}")
        for i, phase in enumerate(("forward", "backward", "optimizer")):
            print(f"{name}:{phase} {statistics.median(p[i] for p in phases):.2f}")


if __name__ == "__main__":
    main()
