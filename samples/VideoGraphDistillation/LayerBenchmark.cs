using System.Diagnostics;
using KnowledgeDistillation.Runtime;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

/// <summary>
/// Times the student's per-frame layers one by one (the FrameCnn 4-8-16 stack on the batch's frames [batch·frames, 1, 64, 64],
/// training mode): forward, and forward + backward of each layer on its own input, median of --steps repetitions. The same
/// sequence as bench/pytorch_video_step.py --layers, to locate a gap between the two. Prints "layer:i:name:forward median_ms"
/// and "layer:i:name:backward median_ms" lines.
/// </summary>
internal static class LayerBenchmark
{
    public static void Run(Settings settings)
    {
        MklCpuDispatch.Apply();
        NativeAllocatorTuning.Apply();
        random.manual_seed(0);
        var c = settings.StudentChannels;
        var layers = new List<(string Name, Module<Tensor, Tensor> Layer)>
        {
            ("conv", Conv2d(1, c[0], 3, stride: 2, padding: 1, bias: false)), ("bn", BatchNorm2d(c[0])), ("relu", ReLU()),
        };
        for (var i = 1; i < c.Length; i++)
        {
            layers.Add(("conv", Conv2d(c[i - 1], c[i], 3, padding: 1, bias: false)));
            layers.Add(("bn", BatchNorm2d(c[i])));
            layers.Add(("relu", ReLU()));
            layers.Add(("maxpool", MaxPool2d(2)));
        }

        var x = randn(new long[] { settings.Batch * settings.Frames, 1, 64, 64 });
        for (var i = 0; i < layers.Count; i++)
        {
            var (name, layer) = layers[i];
            layer.train();
            var forward = new List<double>();
            var both = new List<double>();
            for (var step = 0; step < settings.Steps + 3; step++)
            {
                using var scope = NewDisposeScope();
                var input = x.detach().requires_grad_();
                var clock = Stopwatch.StartNew();
                var y = layer.call(input);
                var f = clock.Elapsed.TotalMilliseconds;
                y.sum().backward();
                if (step >= 3)
                {
                    forward.Add(f);
                    both.Add(clock.Elapsed.TotalMilliseconds);
                }
            }

            Console.WriteLine($"layer:{i}:{name}:forward {Median(forward):F2}");
            Console.WriteLine($"layer:{i}:{name}:backward {Median(both) - Median(forward):F2}");
            using (no_grad())
            {
                var next = layer.call(x);
                x.Dispose();
                x = next;
            }
        }
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        var mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }
}
