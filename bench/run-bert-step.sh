#!/usr/bin/env bash
# Training step of the SST-2 sample's teacher (4 layers) and student (2 layers), hidden 128, 4 heads, FFN 256,
# batch 32 x 48 tokens: KnowledgeDistillation.Transformers (TorchSharp) vs the same model written out in PyTorch 1.13,
# alternating in one run (the machine is shared; compare the ratios). Usage: bench/run-bert-step.sh [rounds] [steps] [threads]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
rounds="${1:-3}"; steps="${2:-30}"; threads="${3:-1}"
dotnet build "$here/TransformerBenchmarks" -c Release -v q >/dev/null
dll="$here/TransformerBenchmarks/bin/Release/net10.0/TransformerBenchmarks.dll"
echo "load: $(cat /proc/loadavg)"
for round in $(seq 1 "$rounds"); do
  for layers in 4 2; do
    dotnet "$dll" "$layers" 128 4 256 32 48 "$steps" "$threads"
    /usr/bin/python3 "$here/pytorch_bert_step.py" "$layers" 128 4 256 32 48 "$steps" "$threads"
  done
done
echo "load: $(cat /proc/loadavg)"
