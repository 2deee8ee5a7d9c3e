namespace KnowledgeDistillation.Losses;

/// <summary>
/// The weights of SOKD's terms (Liu et al., BMVC 2021). The released configuration sets every logit term to 1; the feature
/// term (the paper's feature-based extension) is off unless <see cref="Features"/> &gt; 0.
/// </summary>
public sealed record SemiOnlineWeights
{
    /// <summary>Bridge: cross-entropy with the labels.</summary>
    public double BridgeCrossEntropy { get; init; } = 1.0;

    /// <summary>Bridge: KD from the frozen teacher's logits.</summary>
    public double BridgeFromTeacher { get; init; } = 1.0;

    /// <summary>Bridge: KD from the student's logits (peer teaching).</summary>
    public double BridgeFromStudent { get; init; } = 1.0;

    /// <summary>Student: cross-entropy with the labels.</summary>
    public double StudentCrossEntropy { get; init; } = 1.0;

    /// <summary>Student: KD from the bridge's logits.</summary>
    public double StudentFromBridge { get; init; } = 1.0;

    /// <summary>Feature extension: attention transfer between the student's and the bridge's feature maps, both ways (0 = off).</summary>
    public double Features { get; init; }

    internal void Validate()
    {
        Guard.NonNegative(BridgeCrossEntropy, nameof(BridgeCrossEntropy));
        Guard.NonNegative(BridgeFromTeacher, nameof(BridgeFromTeacher));
        Guard.NonNegative(BridgeFromStudent, nameof(BridgeFromStudent));
        Guard.NonNegative(StudentCrossEntropy, nameof(StudentCrossEntropy));
        Guard.NonNegative(StudentFromBridge, nameof(StudentFromBridge));
        Guard.NonNegative(Features, nameof(Features));
    }
}
