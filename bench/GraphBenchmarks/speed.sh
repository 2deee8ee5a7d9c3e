#!/usr/bin/env bash
# Side-by-side speed of the GCN teacher: TorchSharp (this library, through Distiller.Fit) vs PyTorch CPU
# (gcn_torch.py), same graph, model, optimiser, epochs and thread count, run alternately so that the load of a
# shared machine hits both alike. Usage: bench/GraphBenchmarks/speed.sh [path.npz] [epochs] [threads] [repeats]
set -euo pipefail
cd "$(dirname "$0")/../.."
path=${1:-../shared/data/graphs/cora.npz}; epochs=${2:-200}; threads=${3:-1}; repeats=${4:-3}
dotnet build bench/GraphBenchmarks -c Release -v q >/dev/null
for i in $(seq "$repeats"); do
  nice -n 10 dotnet bench/GraphBenchmarks/bin/Release/net10.0/GraphBenchmarks.dll "$path" "$epochs" "$threads"
  nice -n 10 /usr/bin/python3 bench/GraphBenchmarks/gcn_torch.py "$path" "$epochs" "$threads"
done
