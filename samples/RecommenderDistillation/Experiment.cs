using System.Diagnostics;
using KnowledgeDistillation;
using KnowledgeDistillation.Engine;
using KnowledgeDistillation.Graph.Recommendation;
using KnowledgeDistillation.Losses;
using Microsoft.Extensions.Logging;
using static TorchSharp.torch;

namespace RecommenderDistillation;

/// <summary>One result row: a method's test metrics for one seed.</summary>
internal sealed record Row(string Method, double Phi, int Seed, int Dimension, long Parameters, RankingMetrics Test, double SecondsPerUser, double TrainSeconds);

/// <summary>Trains the teacher and the students of one seed through <see cref="Distiller.Fit"/>.</summary>
internal sealed class Experiment(Settings settings, InteractionSplit split, ILogger logger)
{
    private readonly RankingEvaluator _evaluator = new(split, new[] { 10, 50 });

    public DistillerOptions Options(int epochs, int seed) => new()
    {
        Epochs = epochs,
        Seed = seed,
        Threads = settings.Threads,
        Optimizer = new OptimizerOptions { Kind = OptimizerKind.Adam, LearningRate = settings.LearningRate, WeightDecay = settings.WeightDecay },
    };

    public IEnumerable<Row> Run(int seed, CancellationToken ct)
    {
        var data = new BprBatchSource(split, settings.Batch, seed);
        manual_seed(seed);
        using var teacher = new BprMf(split.UserCount, split.ItemCount, settings.TeacherDim);
        var watch = Stopwatch.StartNew();
        using (var fit = new Distiller(new[] { RecommenderParticipant.Student(teacher, "teacher") }, Recipes.Bpr(participant: "teacher"), Options(settings.TeacherEpochs, seed)))
        {
            fit.Fit(data, cancellationToken: ct);
        }
        yield return Evaluate("teacher", 1, seed, teacher, watch.Elapsed.TotalSeconds);
        var ranking = settings.Methods.Contains("rrd") ? TeacherRanking.Compute(teacher, split) : null;
        foreach (var phi in settings.Phis)
        {
            var dimension = Math.Max(1, (int)Math.Round(phi * settings.TeacherDim));
            foreach (var method in settings.Methods)
            {
                ct.ThrowIfCancellationRequested();
                manual_seed(seed * 7919 + dimension);
                using var student = new BprMf(split.UserCount, split.ItemCount, dimension);
                using var experts = new DistillationExperts(dimension, settings.TeacherDim, settings.Groups);
                var recipe = method switch
                {
                    "student" => Recipes.Bpr(),
                    "ftd" => Recipes.Ftd(lambda: settings.Lambda),
                    "htd" => Recipes.Htd(experts, settings.Epochs, settings.Lambda),
                    "de" => Recipes.De(experts, settings.Epochs, settings.Lambda),
                    "rrd" => Recipes.Rrd(ranking!, lambda: settings.RrdLambda, seed: seed),
                    _ => throw new InvalidOperationException(method),
                };
                var participants = new IDistillationModel[] { RecommenderParticipant.Student(student), RecommenderParticipant.Teacher(teacher) };
                watch.Restart();
                using (var distiller = new Distiller(participants, recipe, Options(settings.Epochs, seed)))
                {
                    distiller.Fit(data, cancellationToken: ct);
                }
                yield return Evaluate(method, phi, seed, student, watch.Elapsed.TotalSeconds);
            }
        }
    }

    private Row Evaluate(string method, double phi, int seed, RecommenderModel model, double trainSeconds)
    {
        var metrics = _evaluator.Evaluate(model); // also the warm-up
        var times = new double[5];
        for (var i = 0; i < times.Length; i++)
        {
            var watch = Stopwatch.StartNew();
            _evaluator.Evaluate(model);
            times[i] = watch.Elapsed.TotalSeconds;
        }
        Array.Sort(times);
        var perUser = times[times.Length / 2] / _evaluator.EvaluatedUserCount; // the median of five full evaluations
        logger.LogInformation("seed {Seed} phi {Phi} {Method} (d = {Dim}, {Train:F0} s): {Metrics}", seed, phi, method, model.Dimension, trainSeconds, metrics);
        return new Row(method, phi, seed, model.Dimension, model.EmbeddingParameterCount, metrics, perUser, trainSeconds);
    }
}
