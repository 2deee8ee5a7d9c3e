#!/usr/bin/env bash
# Issue 17: the student's per-frame layers one by one, TorchSharp vs PyTorch 1.13 side by side (alternating rounds), to locate
# a gap in the clip training step. Usage: bench/run-video-layers.sh [threads] (default 1); ROUNDS (default 2).
set -euo pipefail
cd "$(dirname "$0")/.."
threads=${1:-1}
rounds=${ROUNDS:-2}
dotnet build samples/VideoGraphDistillation -c Release >/dev/null
for round in $(seq "$rounds"); do
  echo "round $round, $threads thread(s): $(uptime)"
  dotnet samples/VideoGraphDistillation/bin/Release/net10.0/VideoGraphDistillation.dll --bench-layers --threads "$threads" | sed 's/^/torchsharp /'
  /usr/bin/python3 bench/pytorch_video_step.py --layers --threads "$threads" | sed 's/^/pytorch /'
done
