namespace KnowledgeDistillation.Graph.Graphs;

/// <summary>Hyper-parameters of the CPF student (defaults: the official example for Cora with a GCN teacher, CPF-ind).</summary>
public sealed record CpfOptions
{
    /// <summary>Inductive (feature-based confidence) or transductive (per-node confidence).</summary>
    public CpfVariant Variant { get; init; } = CpfVariant.Inductive;

    /// <summary>K, the number of propagation layers (one shared layer applied K times; paper grid 5..10).</summary>
    public int Layers { get; init; } = 8;

    /// <summary>Hidden width of the feature-transformation MLP (paper grid 8, 16, 32, 64).</summary>
    public int Hidden { get; init; } = 32;

    /// <summary>Dropout on features (confidence scores and MLP inputs), in [0, 1).</summary>
    public double FeatureDropout { get; init; } = 0.8;

    /// <summary>Dropout on the propagation weights w_uv, in [0, 1).</summary>
    public double AttentionDropout { get; init; } = 0.2;

    /// <summary>Throws if a value is out of range, naming it.</summary>
    public void Validate()
    {
        if (Layers < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(Layers), Layers, "CPF needs >= 1 propagation layer.");
        }

        if (Hidden < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(Hidden), Hidden, "The MLP needs a hidden width >= 1.");
        }

        GraphModelChecks.Probability(FeatureDropout, nameof(FeatureDropout));
        GraphModelChecks.Probability(AttentionDropout, nameof(AttentionDropout));
        if (!Enum.IsDefined(Variant))
        {
            throw new ArgumentOutOfRangeException(nameof(Variant), Variant, "Unknown CPF variant.");
        }
    }
}
