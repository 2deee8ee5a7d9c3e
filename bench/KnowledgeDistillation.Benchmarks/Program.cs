using KnowledgeDistillation.Benchmarks;

// Engine benchmarks (docs/benchmarks.md, "Engine"). Each measurement is a ratio of runs made side by side
// in this one process, alternating A and B in rounds so machine load affects both alike.
//   step    Distiller.Fit step time vs a hand-written TorchSharp loop doing the same KD step
//   cache   an epoch with the cached teacher vs a student-only epoch vs an uncached KD epoch
//   cache-disk  an epoch with a disk (memory-mapped) teacher cache vs a student-only epoch (--rounds N, default 3; --samples N, default all)
//   memory  resident memory every 100 steps over 10,000 training steps
//   pipeline  an augmented KD epoch (the sample's 5,000 images from IDX) loaded on the training thread vs prefetched by 1 and 2 workers (--rounds N, default 4; --samples N, default 5000)
//   all     the three above
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

using var bench = new EngineBenchmarks(data, output);
switch (command)
{
    case "step": bench.StepOverhead(); break;
    case "cache": bench.CachedEpochs(); break;
    case "cache-disk": bench.CachedDiskEpochs(int.TryParse(Argument(args, "--rounds"), out var rounds) ? rounds : 3, int.TryParse(Argument(args, "--samples"), out var samples) ? samples : 0); break;
    case "memory": bench.ResidentMemory(int.TryParse(Argument(args, "--steps"), out var steps) ? steps : 10_000); break;
    case "all": bench.StepOverhead(); bench.CachedEpochs(); bench.ResidentMemory(); break;
    default: Console.Error.WriteLine($"Unknown benchmark '{command}': use step, cache, cache-disk, memory or all."); return 2;
}

return 0;

static string? Argument(string[] args, string name)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}
