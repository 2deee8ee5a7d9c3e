using KnowledgeDistillation.Engine;
using KnowledgeDistillation.Losses;
using KnowledgeDistillation.Metrics;
using Microsoft.Extensions.Logging;
using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.Graphs;

/// <summary>
/// Full-graph conveniences on the core engine (<see cref="Distiller.Fit"/>): run the recipes <c>Recipes.GnnTeacher</c>
/// (masked cross-entropy) and <c>Recipes.Cpf</c> (stored teacher predictions into a <see cref="CpfStudent"/> with <see cref="CpfLoss"/>).
/// Both use Adam, validation/test accuracy metrics, and early stopping with best-state restore.
/// </summary>
public static class GraphTraining
{
    /// <summary>Trains <paramref name="model"/> (features -> logits) on the training nodes of <paramref name="data"/>.</summary>
    public static GraphRunResult FitTeacher(
        nn.Module<Tensor, Tensor> model,
        GraphBatchSource data,
        GraphTrainingOptions? options = null,
        ILogger? logger = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        using var teacher = Teacher.FromModule(model, "teacher", trainable: true);
        return Run(new IDistillationModel[] { teacher }, Recipes.GnnTeacher("teacher"), "teacher", data, options, logger, cancellationToken);
    }

    /// <summary>
    /// Distils <paramref name="teacher"/>'s stored predictions into <paramref name="student"/>: CPF's objective on the
    /// unlabelled nodes, early stopping on the student's validation accuracy.
    /// </summary>
    public static GraphRunResult FitCpf(
        CpfStudent student,
        StoredPredictions teacher,
        GraphBatchSource data,
        GraphTrainingOptions? options = null,
        ILogger? logger = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(student);
        ArgumentNullException.ThrowIfNull(teacher);
        using var t = Teacher.FromModule(teacher, "teacher");
        using var s = Student.FromModule(student, "student");
        return Run(new IDistillationModel[] { t, s }, Recipes.Cpf("student", "teacher"), "student", data, options, logger, cancellationToken);
    }

    /// <summary>The graph metrics: accuracy on the validation and the test nodes.</summary>
    public static IReadOnlyList<Func<IMetric>> Metrics { get; } = new Func<IMetric>[] { () => new MaskedAccuracy("val"), () => new MaskedAccuracy("test") };

    private static GraphRunResult Run(
        IDistillationModel[] participants,
        DistillationRecipe recipe,
        string trainedName,
        GraphBatchSource data,
        GraphTrainingOptions? options,
        ILogger? logger,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(data);
        options ??= new GraphTrainingOptions();
        if (options.MaxEpochs < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.MaxEpochs, "MaxEpochs must be >= 1.");
        }

        if (!Enum.IsDefined(options.TieBreak))
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.TieBreak, "TieBreak must be BestEpochTieBreak.First or Last.");
        }

        using var distiller = new Distiller(participants, recipe, new DistillerOptions
        {
            Epochs = options.MaxEpochs,
            Seed = options.Seed,
            Device = options.Device,
            Threads = options.Threads,
            Optimizer = new OptimizerOptions { Kind = OptimizerKind.Adam, LearningRate = options.LearningRate, WeightDecay = options.WeightDecay },
        }, logger);
        distiller.Metrics.Clear();
        foreach (var metric in Metrics)
        {
            distiller.Metrics.Add(metric);
        }

        var stopping = new EarlyStopping(trainedName, "val_accuracy", options.Patience);
        using var best = new BestModelTracker(participants.First(p => p.Name == trainedName), "val_accuracy", preferLaterTies: options.TieBreak == BestEpochTieBreak.Last);
        distiller.Callbacks.Add(best);
        distiller.Callbacks.Add(stopping);
        foreach (var callback in options.Callbacks ?? Array.Empty<IDistillationCallback>())
        {
            distiller.Callbacks.Add(callback);
        }

        var fit = distiller.Fit(data, data, cancellationToken);
        var final = distiller.Evaluate(data, cancellationToken)[trainedName];
        return new GraphRunResult
        {
            ValidationAccuracy = final["val_accuracy"],
            TestAccuracy = final["test_accuracy"],
            BestEpoch = best.BestEpoch?.Epoch ?? -1,
            Epochs = fit.History.Count,
            WallTime = fit.WallTime,
            Fit = fit,
        };
    }
}
