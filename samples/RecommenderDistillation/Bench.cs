using System.Diagnostics;
using System.Globalization;
using KnowledgeDistillation;
using KnowledgeDistillation.Engine;
using KnowledgeDistillation.Graph.Recommendation;
using KnowledgeDistillation.Losses;
using static TorchSharp.torch;

namespace RecommenderDistillation;

/// <summary>
/// Timings for bench/recsys-speed.sh: full-ranking evaluation of every user (teacher d, K = 10 and 50, training items
/// excluded) and one training epoch of BPR-MF (teacher d) and of HTD (student d = phi_1 d) through Distiller.Fit, each the
/// median of the repeats after one warm-up. Prints one RESULT line.
/// </summary>
internal static class Bench
{
    public static void Run(Settings settings, InteractionSplit split)
    {
        var inv = CultureInfo.InvariantCulture;
        manual_seed(0);
        using var teacher = new BprMf(split.UserCount, split.ItemCount, settings.TeacherDim);
        var studentDim = Math.Max(1, (int)Math.Round(settings.Phis[0] * settings.TeacherDim));
        var evaluator = new RankingEvaluator(split, new[] { 10, 50 });
        var data = new BprBatchSource(split, settings.Batch, 0);
        var options = new DistillerOptions
        {
            Epochs = 1,
            Seed = 0,
            Threads = settings.Threads,
            Optimizer = new OptimizerOptions { Kind = OptimizerKind.Adam, LearningRate = settings.LearningRate, WeightDecay = settings.WeightDecay },
        };

        double Median(Action action)
        {
            action();
            var times = new List<double>();
            for (var r = 0; r < settings.BenchRepeats; r++)
            {
                var w = Stopwatch.StartNew();
                action();
                times.Add(w.Elapsed.TotalSeconds);
            }
            times.Sort();
            return times[times.Count / 2];
        }

        var eval = Median(() => evaluator.Evaluate(teacher));
        var bpr = Median(() =>
        {
            using var d = new Distiller(new[] { RecommenderParticipant.Student(teacher, "teacher") }, Recipes.Bpr(participant: "teacher"), options);
            d.Fit(data);
        });
        using var student = new BprMf(split.UserCount, split.ItemCount, studentDim);
        using var experts = new DistillationExperts(studentDim, settings.TeacherDim, Math.Max(1, settings.Groups));
        var htd = settings.Groups == 0 ? double.NaN : Median(() =>
        {
            var participants = new IDistillationModel[] { RecommenderParticipant.Student(student), RecommenderParticipant.Teacher(teacher) };
            // One epoch, as the PyTorch script times: the recipe's stage epochs override options.Epochs.
            using var d = new Distiller(participants, Recipes.Htd(experts, epochs: 1, settings.Lambda), options);
            d.Fit(data);
        });
        Console.WriteLine(string.Format(inv,
            "RESULT torchsharp users={0} items={1} train={2} eval_s={3:F4} bpr_epoch_s={4:F4} htd_epoch_s={5:F4} threads={6}",
            split.UserCount, split.ItemCount, split.TrainCount, eval, bpr, htd, settings.Threads));
    }
}
