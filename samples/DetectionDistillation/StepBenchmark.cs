using System.Diagnostics;
using KnowledgeDistillation.Detection.Data;
using KnowledgeDistillation.Detection.Fcos;
using KnowledgeDistillation.Detection.Models;
using TorchSharp;
using static TorchSharp.torch;

/// <summary>
/// One training step of the student detector (forward, FCOS loss, backward, SGD step) on a fixed BCCD batch, timed over
/// <c>--steps</c> steps after 3 warm-up steps; bench/detection/fcos_step.py times the same network in PyTorch.
/// </summary>
internal static class StepBenchmark
{
    public static void Run(DetectionBatchSource source, FcosDetectorOptions options, Settings settings)
    {
        random.manual_seed(0);
        using var net = new FcosDetector(options);
        var loss = new FcosLoss(options.Classes);
        using var optimizer = optim.SGD(net.parameters(), 0.01, momentum: 0.9, weight_decay: 1e-4);
        var batch = source.GetBatches(0, CPU).First();
        var targets = batch.Targets!;
        var times = new List<double>();
        for (var step = 0; step < settings.Steps + 3; step++)
        {
            var clock = Stopwatch.StartNew();
            using (var scope = NewDisposeScope())
            {
                optimizer.zero_grad();
                var output = net.call(batch.Inputs);
                var sizes = FcosDetectorOptions.Levels.Select(l => output.Features[l]).Select(f => (f.shape[2], f.shape[3])).ToArray();
                var (cls, box, ctr) = loss.Losses(output.Features[FcosDetector.ClassLogits], output.Features[FcosDetector.BoxDistances], output.Features[FcosDetector.Centerness], sizes, targets);
                (cls + box + ctr).backward();
                optimizer.step();
            }

            if (step >= 3)
            {
                times.Add(clock.Elapsed.TotalMilliseconds);
            }
        }

        times.Sort();
        Console.WriteLine($"torchsharp fcos step: batch {batch.Inputs.shape[0]}x{batch.Inputs.shape[2]}x{batch.Inputs.shape[3]}, threads {settings.Threads}, median {times[times.Count / 2]:F1} ms, mean {times.Average():F1} ms over {times.Count} steps");
    }
}
