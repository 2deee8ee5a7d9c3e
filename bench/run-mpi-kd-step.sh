#!/usr/bin/env bash
# Data-parallel benchmark (docs/benchmarks.md, "Data-parallel (MPI)"): the Fashion-MNIST sample's KD step (SmallCnn
# teacher, tiny student, 0.9 KD(T=4) + 0.1 CE, global batch 64, synthetic 28x28 inputs), 2 ranks x 1 thread under
# mpirun (loopback TCP) against 1 process x 2 threads (and 1 x 1 for reference), alternating, ROUNDS times. Prints throughput, the allreduce
# share of the step time, the allreduce volume per step, and each sample model's volume when trained.
set -euo pipefail
cd "$(dirname "$0")/.."
export TERM=dumb OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
rounds=${ROUNDS:-3}
steps=${STEPS:-60}
dotnet build tests/KnowledgeDistillation.MpiHost -c Release -v q -nologo >/dev/null
host=tests/KnowledgeDistillation.MpiHost/bin/Release/net10.0/KnowledgeDistillation.MpiHost.dll
for round in $(seq "$rounds"); do
  echo "round $round: $(uptime)"
  mpirun --oversubscribe --mca btl self,tcp --mca btl_tcp_if_include lo --mca oob_tcp_if_include lo -np 2 \
    dotnet "$host" bench --mpi --threads 1 --steps "$steps" --batch 64 2>&1 | grep -aE "^(bench|model)" | sed 's/^/  /'
  dotnet "$host" bench --threads 2 --steps "$steps" --batch 64 2>&1 | grep -aE "^bench" | sed 's/^/  /'
  dotnet "$host" bench --threads 1 --steps "$steps" --batch 64 2>&1 | grep -aE "^bench" | sed 's/^/  /'
done
echo "end: $(uptime)"
