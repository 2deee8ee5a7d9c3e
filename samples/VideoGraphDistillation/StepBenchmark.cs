using System.Diagnostics;
using KnowledgeDistillation.Models;
using KnowledgeDistillation.Runtime;
using TorchSharp;
using static TorchSharp.torch;

/// <summary>
/// Times one clip training step (forward, cross-entropy, backward, SGD with momentum) of the sample's student (FrameCnn) and
/// teacher (VideoCnn3d) on random clips [batch, frames, 1, 64, 64]: the same loop as bench/pytorch_video_step.py, so the two
/// can be run side by side (bench/run-video-step.sh). Prints "name median_ms" lines.
/// </summary>
internal static class StepBenchmark
{
    public static void Run(Settings settings)
    {
        MklCpuDispatch.Apply();
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
            for (var step = 0; step < settings.Steps + 3; step++)
            {
                var clock = Stopwatch.StartNew();
                using (var scope = NewDisposeScope())
                {
                    optimizer.zero_grad();
                    var loss = nn.functional.cross_entropy(model.call(clips), labels);
                    loss.backward();
                    optimizer.step();
                }

                if (step >= 3)
                {
                    times.Add(clock.Elapsed.TotalMilliseconds);
                }
            }

            times.Sort();
            Console.WriteLine($"{name} {times[times.Count / 2]:F2}");
        }
    }
}
