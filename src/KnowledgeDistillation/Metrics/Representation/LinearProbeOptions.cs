namespace KnowledgeDistillation.Metrics;

/// <summary>Settings of <see cref="LinearProbe"/>.</summary>
public sealed class LinearProbeOptions
{
    /// <summary>Training epochs over the features (default 100).</summary>
    public int Epochs { get; init; } = 100;

    /// <summary>Mini-batch size (default 256).</summary>
    public int BatchSize { get; init; } = 256;

    /// <summary>Adam's learning rate (default 1e-2).</summary>
    public double LearningRate { get; init; } = 1e-2;

    /// <summary>L2 weight decay (default 0).</summary>
    public double WeightDecay { get; init; }

    /// <summary>Whether features are standardised with the training set's per-dimension mean and deviation first (default true).</summary>
    public bool Standardize { get; init; } = true;

    /// <summary>Seed of the classifier's initial weights and of the shuffle (default 0).</summary>
    public int Seed { get; init; }
}
