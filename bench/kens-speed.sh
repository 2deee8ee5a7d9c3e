#!/usr/bin/env bash
# KEnS ensemble evaluation over all five DBP-5L languages: the TorchSharp benchmark (bench/KensBenchmarks) and the PyTorch
# reference (bench/kens_speed.py) side by side, alternating ROUNDS times; prints each median and the ratio.
# usage: bench/kens-speed.sh [DATA_DIR=../shared/data/kg/dbp5l] [ROUNDS=3] [DIM=64] [REPEATS=1] [QUERIES=all test triples per language]
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:-../shared/data/kg/dbp5l}
rounds=${2:-3}
dim=${3:-64}
repeats=${4:-1}
queries=${5:-1000000}
dotnet build bench/KensBenchmarks -c Release -v q -nologo >/dev/null
export KG_THREADS=${KG_THREADS:-$(/usr/bin/python3 -c 'import torch; print(torch.get_num_threads())')}
echo "threads: $KG_THREADS; load: $(uptime)"
out=$(mktemp)
for i in $(seq "$rounds"); do
  dotnet bench/KensBenchmarks/bin/Release/net10.0/KensBenchmarks.dll "$data" "$dim" "$repeats" 256 10 "$queries" | tee -a "$out"
  /usr/bin/python3 bench/kens_speed.py "$data" "$dim" "$repeats" 256 10 "$queries" | tee -a "$out"
done
echo "load after: $(uptime)"
python3 - "$out" <<'PY'
import re, statistics, sys
rows = [l for l in open(sys.argv[1]) if l.startswith("RESULT")]
def med(kind):
    return statistics.median(float(re.search(r"eval_s=([\d.]+)", l).group(1)) for l in rows if l.split()[1] == kind)
ts, pt = med("torchsharp"), med("pytorch")
print(f"SUMMARY KEnS ensemble evaluation, 5 targets (median of {sum(1 for l in rows if l.split()[1] == 'torchsharp')} rounds): torchsharp {ts:.3f}s, pytorch {pt:.3f}s, torchsharp/pytorch time ratio {ts/pt:.2f}")
PY
