using KnowledgeDistillation.Detection.Data;

namespace KnowledgeDistillation.Detection.Losses;

/// <summary>
/// Where ICD's fake instances come from: a class drawn from <see cref="ClassProbabilities"/>, a centre uniform over the
/// image, and a size (relative to the image) log-normal with the class's mean and standard deviation of log width and log
/// height. The official code draws boxes from per-class position statistics of COCO; this keeps the per-class sizes.
/// </summary>
/// <param name="ClassProbabilities">Class frequencies (sum 1).</param>
/// <param name="LogSizeMean">Per class, the mean of ln(w / W) and ln(h / H).</param>
/// <param name="LogSizeStd">Per class, their standard deviations.</param>
public sealed record InstancePrior(IReadOnlyList<double> ClassProbabilities, IReadOnlyList<(double Width, double Height)> LogSizeMean, IReadOnlyList<(double Width, double Height)> LogSizeStd)
{
    /// <summary>The prior of a dataset's (non-difficult) objects; a class without objects gets a small size prior and no mass.</summary>
    /// <param name="dataset">The training data.</param>
    /// <exception cref="ArgumentException">The dataset has no objects.</exception>
    public static InstancePrior FromDataset(DetectionDataset dataset)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        var c = dataset.Classes.Count;
        var sizes = Enumerable.Range(0, c).Select(_ => new List<(double, double)>()).ToArray();
        foreach (var s in dataset.Samples)
        {
            foreach (var o in s.Objects.Where(o => !o.Difficult))
            {
                sizes[o.ClassIndex].Add((Math.Log(o.Box.Width / s.Width), Math.Log(o.Box.Height / s.Height)));
            }
        }

        var total = sizes.Sum(l => l.Count);
        if (total == 0)
        {
            throw new ArgumentException("The dataset has no (non-difficult) objects to build a prior from.", nameof(dataset));
        }

        static double Std(IEnumerable<double> v, double mean) => Math.Sqrt(v.Select(x => (x - mean) * (x - mean)).DefaultIfEmpty(0).Average());
        var mean = sizes.Select(l => l.Count == 0 ? (Math.Log(0.1), Math.Log(0.1)) : (l.Average(p => p.Item1), l.Average(p => p.Item2))).ToArray();
        var std = sizes.Select((l, i) => l.Count == 0 ? (0.5, 0.5) : (Std(l.Select(p => p.Item1), mean[i].Item1), Std(l.Select(p => p.Item2), mean[i].Item2))).ToArray();
        return new InstancePrior(sizes.Select(l => (double)l.Count / total).ToArray(), mean, std);
    }
}
