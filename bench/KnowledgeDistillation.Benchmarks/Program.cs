using KnowledgeDistillation.Benchmarks;

// Engine benchmarks (docs/benchmarks.md, "Engine"). Each measurement is a ratio of runs made side by side
// in this one process, alternating A and B in rounds so machine load affects both alike.
//   step    Distiller.Fit step time vs a hand-written TorchSharp loop doing the same KD step
//   cache   an epoch with the cached teacher vs a student-only epoch vs an uncached KD epoch
//   cache-disk  an epoch with a disk (memory-mapped) teacher cache vs a student-only epoch (--rounds N, default 3; --samples N, default all)
//   memory  resident memory every 100 steps over 10,000 training steps
//   crd     KD vs KD + CRD epochs and CRD's bank update alone (--rounds N, default 5; --negatives K, default 4096)
//   all     step, cache and memory
// Options: --out DIR (JSON results; default docs/results), --data DIR (Fashion-MNIST), --steps N (memory; default 10,000).
var command = args.FirstOrDefault() ?? "all";
var output = Argument(args, "--out") ?? Path.Combine("docs", "results");
var data = Argument(args, "--data");
Directory.CreateDirectory(output);
using var bench = new EngineBenchmarks(data, output);
switch (command)
{
    case "step": bench.StepOverhead(); break;
    case "cache": bench.CachedEpochs(); break;
    case "cache-disk": bench.CachedDiskEpochs(int.TryParse(Argument(args, "--rounds"), out var rounds) ? rounds : 3, int.TryParse(Argument(args, "--samples"), out var samples) ? samples : 0); break;
    case "memory": bench.ResidentMemory(int.TryParse(Argument(args, "--steps"), out var steps) ? steps : 10_000); break;
    case "crd": bench.Crd(int.TryParse(Argument(args, "--rounds"), out var crdRounds) ? crdRounds : 5, int.TryParse(Argument(args, "--negatives"), out var negatives) ? negatives : 4096); break;
    case "all": bench.StepOverhead(); bench.CachedEpochs(); bench.ResidentMemory(); break;
    default: Console.Error.WriteLine($"Unknown benchmark '{command}': use step, cache, cache-disk, memory, crd or all."); return 2;
}

return 0;

static string? Argument(string[] args, string name)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}
