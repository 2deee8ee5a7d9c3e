#!/usr/bin/env bash
# Runs the engine benchmarks of docs/benchmarks.md side by side and writes JSON under docs/results/.
# Needs Fashion-MNIST (apt-get install dataset-fashion-mnist) and, for the PyTorch ratio,
# apt-get install python3-torch libopenblas0-pthread (run with /usr/bin/python3).
set -euo pipefail
cd "$(dirname "$0")/.."
out=docs/results
mkdir -p "$out"
dotnet build bench/KnowledgeDistillation.Benchmarks -c Release >/dev/null
bench="dotnet bench/KnowledgeDistillation.Benchmarks/bin/Release/net10.0/KnowledgeDistillation.Benchmarks.dll"
threads=$(nproc)
# The KD step in TorchSharp (Fit and hand-written) and in PyTorch, alternated so load affects both alike.
: >"$out/engine-pytorch-kd-step.jsonl"
for round in 1 2 3; do
  $bench step --out "$out"
  cp "$out/engine-step-overhead.json" "$out/engine-step-overhead.round$round.json"
  /usr/bin/python3 bench/pytorch_kd_step.py --threads "$threads" | tee -a "$out/engine-pytorch-kd-step.jsonl"
done
$bench cache --out "$out"
$bench memory --out "$out"
