#!/usr/bin/env bash
# Issue 17's clip training step, TorchSharp vs PyTorch 1.13 side by side, alternating the two in rounds so machine load
# affects both alike (and a third side: TorchSharp with glibc's allocator defaults). Usage: bench/run-video-step.sh [threads] (default 1); prints "side name median_ms" lines and the load.
set -euo pipefail
cd "$(dirname "$0")/.."
threads=${1:-1}
rounds=${ROUNDS:-3}
dotnet build samples/VideoGraphDistillation -c Release >/dev/null
for round in $(seq "$rounds"); do
  echo "round $round, $threads thread(s): $(uptime)"
  dotnet samples/VideoGraphDistillation/bin/Release/net10.0/VideoGraphDistillation.dll --bench-step --threads "$threads" | sed 's/^/torchsharp /'
  # the same with glibc's allocator defaults (NativeAllocatorTuning switched off), to show what the tuning does
  KD_MALLOC_TUNING=0 dotnet samples/VideoGraphDistillation/bin/Release/net10.0/VideoGraphDistillation.dll --bench-step --threads "$threads" | sed 's/^/torchsharp-glibc-defaults /'
  /usr/bin/python3 bench/pytorch_video_step.py --threads "$threads" | sed 's/^/pytorch /'
done
