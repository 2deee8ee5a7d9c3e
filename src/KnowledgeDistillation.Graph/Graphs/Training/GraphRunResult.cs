using KnowledgeDistillation.Engine;

namespace KnowledgeDistillation.Graph.Graphs;

/// <summary>The outcome of a full-graph run: accuracies of the restored best-validation state, when it was reached, and the engine's history.</summary>
public sealed record GraphRunResult
{
    /// <summary>Validation accuracy of the restored state.</summary>
    public required double ValidationAccuracy { get; init; }

    /// <summary>Test accuracy of the restored state.</summary>
    public required double TestAccuracy { get; init; }

    /// <summary>Zero-based epoch of the best validation accuracy.</summary>
    public required int BestEpoch { get; init; }

    /// <summary>Epochs run.</summary>
    public required int Epochs { get; init; }

    /// <summary>Wall time of the fit.</summary>
    public required TimeSpan WallTime { get; init; }

    /// <summary>The engine's per-epoch history.</summary>
    public required FitResult Fit { get; init; }
}
