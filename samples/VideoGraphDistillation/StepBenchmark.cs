using System.Diagnostics;
using KnowledgeDistillation.Models;
using KnowledgeDistillation.Runtime;
using TorchSharp;
using static TorchSharp.torch;

/// <summary>
/// Times one clip training step (forward, cross-entropy, backward, SGD with momentum) of the sample's student (FrameCnn) and
/// teacher (VideoCnn3d) on random clips [batch, frames, 1, 64, 64]: the same loop as bench/pytorch_video_step.py, so the two
/// can be run side by side (bench/run-video-step.sh). Prints "name median_ms" lines, then the medians of the step's phases
/// ("name:forward" including the loss, "name:backward", "name:optimizer").
/// </summary>
internal static class StepBenchmark
{
    public static void Run(Settings settings)
    {
        MklCpuDispatch.Apply();
        NativeAllocatorTuning.Apply();
        foreach (var (name, factory) in new (string, Func<nn.Module<Tensor, Tensor>>)[]
        {
            ("student-framecnn", () => new FrameCnn(settings.StudentChannels, 10)),
            ("teacher-cnn3d", () => new VideoCnn3d(settings.TeacherChannels, 10)),
        })
        {
            random.manual_seed(0);
            using var model = factory();
            model.train();
            using var optimizer = optim.SGD(model.parameters(), 0.05, momentum: 0.9);
            var clips = randn(new long[] { settings.Batch, settings.Frames, 1, 64, 64 });
            var labels = randint(0, 10, new long[] { settings.Batch });
            var times = new List<double>();
            var phases = new List<double[]>();
            for (var step = 0; step < settings.Steps + 3; step++)
            {
                var clock = Stopwatch.StartNew();
                double forward, backward;
                using (var scope = NewDisposeScope())
                {
                    optimizer.zero_grad();
                    var loss = nn.functional.cross_entropy(model.call(clips), labels);
                    forward = clock.Elapsed.TotalMilliseconds;
                    loss.backward();
                    backward = clock.Elapsed.TotalMilliseconds;
                    optimizer.step();
                }

                if (step >= 3)
                {
                    var total = clock.Elapsed.TotalMilliseconds;
                    times.Add(total);
                    phases.Add(new[] { forward, backward - forward, total - backward });
                }
            }

            Console.WriteLine($"{name} {Median(times):F2}");
            Console.WriteLine($"{name}:forward {Median(phases.Select(p => p[0])):F2}");
            Console.WriteLine($"{name}:backward {Median(phases.Select(p => p[1])):F2}");
            Console.WriteLine($"{name}:optimizer {Median(phases.Select(p => p[2])):F2}");
        }
    }

    private static double Median(IEnumerable<double> values)
    {
        // As Python's statistics.median: the mean of the two middle values for an even count.
        var sorted = values.Order().ToArray();
        var mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }
}
