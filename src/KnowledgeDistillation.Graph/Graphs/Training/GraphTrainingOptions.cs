using KnowledgeDistillation.Engine;

namespace KnowledgeDistillation.Graph.Graphs;

/// <summary>Full-graph training settings for <see cref="GraphTraining"/> (Adam, early stopping on validation accuracy).</summary>
public sealed record GraphTrainingOptions
{
    /// <summary>Maximum epochs (one full-graph step each).</summary>
    public int MaxEpochs { get; init; } = 500;

    /// <summary>Epochs without a better validation accuracy before stopping; the best state is restored.</summary>
    public int Patience { get; init; } = 50;

    /// <summary>
    /// Which of several epochs with the same best validation accuracy is restored: the first (default, the usual early-stopping
    /// rule) or the last. On small validation sets (Cora's CPF split: 30 nodes per class) accuracy moves in steps of 1/210 and
    /// long plateaus tie; the first best is then often an early, soft-predicting model, which matters when its predictions
    /// are distilled (docs/benchmarks.md measures the effect on CPF).
    /// </summary>
    public BestEpochTieBreak TieBreak { get; init; } = BestEpochTieBreak.First;

    /// <summary>Adam learning rate.</summary>
    public double LearningRate { get; init; } = 0.01;

    /// <summary>Adam weight decay (L2).</summary>
    public double WeightDecay { get; init; } = 5e-4;

    /// <summary>Seed for parameter initialisation and dropout (null: not reseeded).</summary>
    public int? Seed { get; init; }

    /// <summary>Device: "cpu", "cuda" or "cuda:N".</summary>
    public string Device { get; init; } = "cpu";

    /// <summary>CPU threads during the run (<see cref="DistillerOptions.Threads"/>; default <see cref="DistillerOptions.DefaultThreads"/>, null: TorchSharp's count).</summary>
    public int? Threads { get; init; } = DistillerOptions.DefaultThreads;

    /// <summary>Extra callbacks for the run (progress, metric writers), called after early stopping and best-model tracking.</summary>
    public IReadOnlyList<IDistillationCallback> Callbacks { get; init; } = Array.Empty<IDistillationCallback>();
}
