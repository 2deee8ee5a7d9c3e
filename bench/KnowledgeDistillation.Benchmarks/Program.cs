using KnowledgeDistillation.Data;
using KnowledgeDistillation.Benchmarks;

// Engine benchmarks (docs/benchmarks.md, "Engine"). Each measurement is a ratio of runs made side by side
// in this one process, alternating A and B in rounds so machine load affects both alike.
//   step    Distiller.Fit step time vs a hand-written TorchSharp loop doing the same KD step
//   cache   an epoch with the cached teacher vs a student-only epoch vs an uncached KD epoch
//   cache-disk  an epoch with a disk (memory-mapped) teacher cache vs a student-only epoch (--rounds N, default 3; --samples N, default all)
//   memory  resident memory every 100 steps over 10,000 training steps
//   pipeline  an augmented KD epoch (the sample's 5,000 images from IDX) loaded on the training thread vs prefetched by 1 and 2 workers (--rounds N, default 4; --samples N, default 5000)
//   cnn     issue 12's CNN KD step (teacher 64->128, student 16->32) and its pieces at --threads N (default 1), one JSON line
//           (--steps N, default 60; --rounds N, default 4; --append FILE adds the line to FILE)
//   usage   the README's usage example end to end, with its progress output (--threads N; default: DistillerOptions' default)
//   threads KD epochs of the README's usage example (SmallCnn pair, batch 128) at --threads-list (default 1,2,0; 0: TorchSharp's default), alternating
//   crd     KD vs KD + CRD epochs and CRD's bank update alone (--rounds N, default 5; --negatives K, default 4096)
//   all     step, cache and memory
// Options: --out DIR (JSON results; default docs/results), --data DIR (Fashion-MNIST), --steps N (memory; default 10,000).
var command = args.FirstOrDefault() ?? "all";
var output = Argument(args, "--out") ?? Path.Combine("docs", "results");
var data = Argument(args, "--data");
Directory.CreateDirectory(output);
if (command == "pipeline")
{
    new PipelineBenchmarks(data, output).Run(int.TryParse(Argument(args, "--rounds"), out var pipelineRounds) ? pipelineRounds : 4, int.TryParse(Argument(args, "--samples"), out var pipelineSamples) ? pipelineSamples : 5000);
    return 0;
}

if (command == "cnn")
{
    using var fashion = FashionMnist.Load(new FashionMnistOptions { Directory = data });
    new CnnStepBenchmark(fashion).Run(Int(args, "--threads", 1), Int(args, "--steps", 60), Int(args, "--rounds", 4), Argument(args, "--append"));
    return 0;
}

if (command == "usage")
{
    UsageExample.Run(data, int.TryParse(Argument(args, "--threads"), out var usageThreads) ? usageThreads : null, Argument(args, "--append"));
    return 0;
}

if (command == "threads")
{
    using var fashion = FashionMnist.Load(new FashionMnistOptions { Directory = data });
    var list = (Argument(args, "--threads-list") ?? "1,2,0").Split(',').Select(int.Parse).ToArray();
    new ThreadsBenchmark(fashion).Run(list, Int(args, "--samples", 12_800), Int(args, "--rounds", 3), Argument(args, "--append"));
    return 0;
}

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

static int Int(string[] args, string name, int fallback) => int.TryParse(Argument(args, name), out var value) ? value : fallback;

static string? Argument(string[] args, string name)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}
