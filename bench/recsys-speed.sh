#!/usr/bin/env bash
# Full-ranking evaluation and training epochs: TorchSharp (samples/RecommenderDistillation --bench) against the PyTorch 1.13
# script bench/recsys_speed.py doing the same work, alternating ROUNDS times in one run; prints each median and the ratios.
# usage: bench/recsys-speed.sh [RATINGS_CSV] [ROUNDS=3] [REPEATS=3] [THREADS=1] [GROUPS=30] (GROUPS=0 skips the HTD epoch)
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:-../shared/data/recsys/ml-latest-small/ratings.csv}
rounds=${2:-3}
repeats=${3:-3}
threads=${4:-1}
groups=${5:-30}
# RS_SKIP_BUILD=1 uses the existing build (e.g. while sample runs use its binaries).
[[ -n ${RS_SKIP_BUILD:-} ]] || dotnet build samples/RecommenderDistillation -c Release -v q -nologo >/dev/null
echo "threads: $threads; groups: $groups; load: $(uptime)"
out=$(mktemp)
for i in $(seq "$rounds"); do
  dotnet samples/RecommenderDistillation/bin/Release/net10.0/RecommenderDistillation.dll --data "$data" --bench \
    --bench-repeats "$repeats" --threads "$threads" --groups "$groups" | grep RESULT | tee -a "$out"
  RS_THREADS=$threads /usr/bin/python3 bench/recsys_speed.py "$data" 4 200 20 "$repeats" 1024 "$groups" | tee -a "$out"
done
echo "load after: $(uptime)"
python3 - "$out" <<'PY'
import re, statistics, sys
rows = [l for l in open(sys.argv[1]) if l.startswith("RESULT")]
def med(kind, key):
    return statistics.median(float(re.search(key + r"=([\d.]+|nan|NaN)", l).group(1)) for l in rows if l.split()[1] == kind)
for key in ("eval_s", "bpr_epoch_s", "htd_epoch_s"):
    ts, pt = med("torchsharp", key), med("pytorch", key)
    if ts != ts:
        continue
    print(f"SUMMARY {key}: torchsharp {ts:.3f}s, pytorch {pt:.3f}s, torchsharp/pytorch time ratio {ts/pt:.2f}")
PY
