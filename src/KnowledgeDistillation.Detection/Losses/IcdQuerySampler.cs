using KnowledgeDistillation.Data;
using KnowledgeDistillation.Detection.Data;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Detection.Losses;

/// <summary>
/// Builds ICD's queries from a batch's ground truth: each real (non-difficult) object with its reference point
/// jittered uniformly within ±<see cref="IcdOptions.ReferenceJitter"/> of its size around the centre, then fakes from the
/// <see cref="InstancePrior"/> up to min(max(1, n(r+1)), max(MaxQueries, n)) queries per image. Every draw comes from a
/// SplitMix64 stream of (seed, epoch, step, image), on the host: a pure function of the step, so a run repeats and
/// resumes exactly and the global generator is untouched.
/// </summary>
public static class IcdQuerySampler
{
    /// <summary>Builds the queries.</summary>
    /// <param name="targets">Targets <c>[B, G, 6]</c>.</param>
    /// <param name="imageSizes">Valid (height, width) per image <c>[B, 2]</c>.</param>
    /// <param name="options">ICD options.</param>
    /// <param name="epoch">The epoch (part of the random stream's key).</param>
    /// <param name="step">The step (part of the random stream's key).</param>
    public static IcdQueries Sample(Tensor targets, Tensor imageSizes, IcdOptions options, int epoch, long step)
    {
        ArgumentNullException.ThrowIfNull(targets);
        ArgumentNullException.ThrowIfNull(imageSizes);
        ArgumentNullException.ThrowIfNull(options);
        var objects = DetectionTargets.ToObjects(targets);
        using var hostSizes = imageSizes.detach().cpu().to_type(ScalarType.Float64);
        var sizes = hostSizes.data<double>().ToArray();
        var b = objects.Count;
        var perImage = new List<(long Class, double Rx, double Ry, double W, double H, double X1, double Y1, double X2, double Y2, bool Real)>[b];
        for (var i = 0; i < b; i++)
        {
            var (ih, iw) = (sizes[2 * i], sizes[(2 * i) + 1]);
            var random = SampleRandom.For(options.Seed, epoch, (step * 4096) + i);
            var list = new List<(long, double, double, double, double, double, double, double, double, bool)>();
            foreach (var o in objects[i].Where(o => !o.Difficult))
            {
                var (w, h) = (o.Box.Width, o.Box.Height);
                var rx = ((o.Box.X1 + o.Box.X2) / 2) + ((random.NextDouble() * 2) - 1) * options.ReferenceJitter * w;
                var ry = ((o.Box.Y1 + o.Box.Y2) / 2) + ((random.NextDouble() * 2) - 1) * options.ReferenceJitter * h;
                list.Add((o.ClassIndex, rx / iw, ry / ih, w, h, o.Box.X1 / iw, o.Box.Y1 / ih, o.Box.X2 / iw, o.Box.Y2 / ih, true));
            }

            var n = list.Count;
            var total = Math.Min(Math.Max(1, n * (options.NegativesPerReal + 1)), Math.Max(options.MaxQueries, n));
            for (var f = n; f < total; f++)
            {
                var cls = DrawClass(random, options);
                var (lw, lh) = options.Prior is { } prior
                    ? (prior.LogSizeMean[cls].Width + (prior.LogSizeStd[cls].Width * Gaussian(random)), prior.LogSizeMean[cls].Height + (prior.LogSizeStd[cls].Height * Gaussian(random)))
                    : (Math.Log(0.05) + (random.NextDouble() * Math.Log(10)), Math.Log(0.05) + (random.NextDouble() * Math.Log(10)));
                var (w, h) = (Math.Min(1, Math.Exp(lw)), Math.Min(1, Math.Exp(lh)));
                var (cx, cy) = (random.NextDouble(), random.NextDouble());
                var (x1, y1, x2, y2) = (Math.Max(0, cx - (w / 2)), Math.Max(0, cy - (h / 2)), Math.Min(1, cx + (w / 2)), Math.Min(1, cy + (h / 2)));
                list.Add((cls, cx, cy, (x2 - x1) * iw, (y2 - y1) * ih, x1, y1, x2, y2, false));
            }

            perImage[i] = list;
        }

        var m = Math.Max(1, perImage.Max(l => l.Count));
        var classes = new long[b * m];
        var refs = new float[b * m * 2];
        var boxSizes = new float[b * m * 2];
        var boxes = new float[b * m * 4];
        var valid = new bool[b * m];
        var real = new bool[b * m];
        for (var i = 0; i < b; i++)
        {
            for (var j = 0; j < m; j++)
            {
                var k = (i * m) + j;
                if (j >= perImage[i].Count)
                {
                    boxSizes[2 * k] = boxSizes[(2 * k) + 1] = 1;
                    continue;
                }

                var q = perImage[i][j];
                (classes[k], refs[2 * k], refs[(2 * k) + 1], boxSizes[2 * k], boxSizes[(2 * k) + 1]) = (q.Class, (float)q.Rx, (float)q.Ry, (float)q.W, (float)q.H);
                (boxes[4 * k], boxes[(4 * k) + 1], boxes[(4 * k) + 2], boxes[(4 * k) + 3]) = ((float)q.X1, (float)q.Y1, (float)q.X2, (float)q.Y2);
                (valid[k], real[k]) = (true, q.Real);
            }
        }

        var device = targets.device;
        return new IcdQueries(
            tensor(classes, new long[] { b, m }).to(device),
            tensor(refs, new long[] { b, m, 2 }).to(device),
            tensor(boxSizes, new long[] { b, m, 2 }).to(device),
            tensor(boxes, new long[] { b, m, 4 }).to(device),
            tensor(valid, new long[] { b, m }).to(device),
            tensor(real, new long[] { b, m }).to(device));
    }

    private static int DrawClass(SampleRandom random, IcdOptions options)
    {
        if (options.Prior is not { } prior)
        {
            return random.NextInt(options.Classes);
        }

        var u = random.NextDouble();
        for (var c = 0; c < prior.ClassProbabilities.Count; c++)
        {
            u -= prior.ClassProbabilities[c];
            if (u < 0)
            {
                return c;
            }
        }

        return prior.ClassProbabilities.Count - 1;
    }

    private static double Gaussian(SampleRandom random)
    {
        var u1 = Math.Max(random.NextDouble(), 1e-300);
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * random.NextDouble());
    }
}
