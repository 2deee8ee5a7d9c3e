#!/usr/bin/env bash
# Runs the TorchSharp benchmark (bench/KgBenchmarks) and the PyTorch reference (bench/kg_speed.py) side by side, alternating
# ROUNDS times, and prints each median and the ratio. usage: bench/kg-speed.sh [DATA_DIR] [ROUNDS=3] [DIM=500] [REPEATS=2] [TRAIN_TRIPLES=20480]
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:-../shared/data/kg/WN18RR}
rounds=${2:-3}
dim=${3:-500}
repeats=${4:-2}
train_triples=${5:-20480}
dotnet build bench/KgBenchmarks -c Release -v q -nologo >/dev/null
# Same thread count for both: PyTorch's default here, unless KG_THREADS is set.
export KG_THREADS=${KG_THREADS:-$(/usr/bin/python3 -c 'import torch; print(torch.get_num_threads())')}
echo "threads: $KG_THREADS"
out=$(mktemp)
for i in $(seq "$rounds"); do
  nice -n 10 dotnet bench/KgBenchmarks/bin/Release/net10.0/KgBenchmarks.dll "$data" "$dim" "$repeats" 512 "$train_triples" | tee -a "$out"
  nice -n 10 /usr/bin/python3 bench/kg_speed.py "$data" "$dim" "$repeats" 512 "$train_triples" | tee -a "$out"
done
python3 - "$out" <<'PY'
import re, statistics, sys
rows = [l for l in open(sys.argv[1]) if l.startswith("RESULT")]
def med(kind, key):
    return statistics.median(float(re.search(key + r"=([\d.]+)", l).group(1)) for l in rows if l.split()[1] == kind)
ts, pt, ps = med("torchsharp", "eval_s"), med("pytorch", "eval_s"), med("pytorch", "eval_sign_s")
tt, pp = med("torchsharp", "train_triples_per_s"), med("pytorch", "train_triples_per_s")
print(f"SUMMARY filtered eval (median of {sum(1 for l in rows if l.split()[1] == 'torchsharp')} rounds): torchsharp {ts:.3f}s, pytorch {pt:.3f}s, torchsharp/pytorch time ratio {ts/pt:.2f}")
print(f"SUMMARY pytorch with the same one-pass ranking: {ps:.3f}s, torchsharp/pytorch time ratio {ts/ps:.2f}")
print(f"SUMMARY training: torchsharp {tt:.0f} triples/s, pytorch {pp:.0f} triples/s, throughput ratio {tt/pp:.2f}")
PY
