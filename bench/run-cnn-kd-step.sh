#!/usr/bin/env bash
# Issue 12's CNN KD step, TorchSharp (through Fit, and its pieces) vs PyTorch 1.13, at 1 and 2 threads, alternating
# the two sides in rounds so machine load affects both alike. Appends JSON lines to $1 (default docs/results/cnn-kd-step.jsonl).
# Needs Fashion-MNIST and apt-get install python3-torch libopenblas0-pthread (run with /usr/bin/python3).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-docs/results/cnn-kd-step.jsonl}
rounds=${ROUNDS:-3}        # alternations of the two sides
steps=${STEPS:-60}         # steps per timed piece
inner=${INNER_ROUNDS:-4}   # rounds of each piece within one process (the first warms up)
dotnet build bench/KnowledgeDistillation.Benchmarks -c Release >/dev/null
bench="dotnet bench/KnowledgeDistillation.Benchmarks/bin/Release/net10.0/KnowledgeDistillation.Benchmarks.dll"
for round in $(seq "$rounds"); do
  for threads in 1 2; do
    echo "round $round, $threads thread(s): $(uptime)"
    $bench cnn --threads "$threads" --steps "$steps" --rounds "$inner" --append "$out"
    /usr/bin/python3 bench/pytorch_cnn_kd_step.py --threads "$threads" --steps "$steps" --rounds "$inner" --append "$out"
  done
done
