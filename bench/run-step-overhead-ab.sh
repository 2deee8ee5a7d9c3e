#!/usr/bin/env bash
# Engine step overhead of two builds side by side: runs `KnowledgeDistillation.Benchmarks step` (Distiller.Fit vs a
# hand-written TorchSharp loop, 7 alternating rounds of 100 KD steps) alternately for a baseline checkout and this one,
# RUNS times each, and writes each run's JSON and a log with the load under OUT.
#   git worktree add /tmp/kd-baseline <commit>
#   bash bench/run-step-overhead-ab.sh /tmp/kd-baseline . docs/results/v2-step-overhead
# Needs dataset-fashion-mnist. Each run takes about 2 minutes on 2 cores.
set -euo pipefail
baseline=$(cd "$1" && pwd); current=$(cd "$2" && pwd); out=$(mkdir -p "$3" && cd "$3" && pwd); runs=${RUNS:-3}
for dir in "$baseline" "$current"; do
  dotnet build "$dir/bench/KnowledgeDistillation.Benchmarks" -c Release >/dev/null
done
: >"$out/log.txt"
for r in $(seq 1 "$runs"); do
  for v in old new; do
    if [ $v = old ]; then dir=$baseline; else dir=$current; fi
    echo "$(date -u +%H:%M:%S) $v run $r load $(cut -d' ' -f1-3 /proc/loadavg)" >>"$out/log.txt"
    (cd "$dir" && dotnet bench/KnowledgeDistillation.Benchmarks/bin/Release/net10.0/KnowledgeDistillation.Benchmarks.dll step --out "$out/$v-$r") \
      | grep "step:" >>"$out/log.txt"
    mv "$out/$v-$r/engine-step-overhead.json" "$out/$v-$r.json" && rmdir "$out/$v-$r"
  done
done
