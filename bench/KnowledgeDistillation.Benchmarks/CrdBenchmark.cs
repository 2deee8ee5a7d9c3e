using System.Diagnostics;
using System.Globalization;
using KnowledgeDistillation.Data;
using KnowledgeDistillation.Engine;
using KnowledgeDistillation.Losses;
using KnowledgeDistillation.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Benchmarks;

/// <summary>
/// CRD's cost next to KD at the Fashion-MNIST sample's size (its SmallCnn teacher and student, batch 128): per round, a KD
/// epoch (<c>Loss.Hinton</c>) and a KD + 0.8 · CRD epoch on the same subset, alternating; the CRD epoch also times the bank
/// update (<see cref="CrdLoss.OnStepEnd"/>) on its own. Ratios per round, then medians.
/// </summary>
internal static class CrdBenchmark
{
    public static object Run(FashionMnistData data, SmallCnn teacherNet, int batchSize, int rounds, int steps, int negatives)
    {
        using var subset = data.Train.Take(steps * batchSize);
        var kd = new List<double>();
        var crd = new List<double>();
        var bank = new List<double>();
        for (var round = 0; round < rounds; round++)
        {
            kd.Add(Epoch(teacherNet, subset, batchSize, negatives, withCrd: false, out _));
            crd.Add(Epoch(teacherNet, subset, batchSize, negatives, withCrd: true, out var bankSeconds));
            bank.Add(bankSeconds);
        }

        // Round 0 warms up both; reported, not used.
        var stepRatios = crd.Zip(kd, (c, k) => c / k).Skip(1).ToArray();
        var bankRatios = bank.Zip(kd, (b, k) => b / k).Skip(1).ToArray();
        double Median(IEnumerable<double> v)
        {
            var s = v.OrderBy(x => x).ToArray();
            return s.Length % 2 == 1 ? s[s.Length / 2] : (s[(s.Length / 2) - 1] + s[s.Length / 2]) / 2;
        }

        var result = new
        {
            benchmark = "crd",
            batchSize,
            stepsPerRound = steps,
            dataSize = subset.Count,
            negatives,
            embedding = 128,
            kdSeconds = kd,
            crdSeconds = crd,
            bankUpdateSeconds = bank,
            crdOverKdMedian = Median(stepRatios),
            bankUpdateOverKdMedian = Median(bankRatios),
            stepRatios,
            bankRatios,
        };
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"crd (K={negatives}, N={subset.Count}): KD {Median(kd.Skip(1)) * 1000 / steps:F1} ms/step, KD+CRD {Median(crd.Skip(1)) * 1000 / steps:F1} ms/step (ratio {result.crdOverKdMedian:F3}), bank update {Median(bank.Skip(1)) * 1000 / steps:F2} ms/step ({100 * result.bankUpdateOverKdMedian:F1} % of a KD step)"));
        return result;
    }

    private static double Epoch(SmallCnn teacherNet, TensorDataset subset, int batchSize, int negatives, bool withCrd, out double bankSeconds)
    {
        random.manual_seed(20);
        using var studentNet = SmallCnn.Student();
        using var student = Student.FromModule(studentNet);
        using var teacher = Teacher.FromModule(teacherNet);
        using var studentHead = new CrdEmbedding(8 * 7 * 7, 128);
        using var teacherHead = new CrdEmbedding(128, 128);
        using var crd = new CrdLoss(new FeaturePair("classifier.flatten", "classifier.relu"), studentHead, teacherHead, subset.Count, negatives, seed: 1);
        var timed = new TimedStepEnd(crd);
        IDistillationLoss loss = withCrd ? Loss.Hinton(4, 0.9) + (0.8 * Loss.Of(timed)) : Loss.Hinton(4, 0.9);
        var distiller = new Distiller(new IDistillationModel[] { teacher, student }, loss, new DistillerOptions { Epochs = 1 });
        var clock = Stopwatch.StartNew();
        distiller.Fit(new DataLoader(subset, batchSize, seed: 11));
        bankSeconds = timed.Seconds;
        return clock.Elapsed.TotalSeconds;
    }

    /// <summary>Forwards everything to the CRD term and times its step-end hook (the bank update).</summary>
    private sealed class TimedStepEnd(CrdLoss inner) : IDistillationLoss
    {
        private readonly Stopwatch _clock = new();

        public double Seconds => _clock.Elapsed.TotalSeconds;

        public string Name => inner.Name;

        public LossRequirements Requirements => inner.Requirements;

        public IReadOnlyList<nn.Module> TrainableModules => inner.TrainableModules;

        public IReadOnlyList<ILossState> State => inner.State;

        public LossResult Compute(DistillationContext context) => inner.Compute(context);

        public void OnStepEnd(DistillationContext context)
        {
            _clock.Start();
            inner.OnStepEnd(context);
            _clock.Stop();
        }
    }
}
