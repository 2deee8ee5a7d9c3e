namespace KnowledgeDistillation.Detection.Fcos;

/// <summary>Options of <see cref="FcosLoss"/> (AdelaiDet's FCOS defaults).</summary>
public sealed record FcosLossOptions
{
    /// <summary>Focal loss α (0.25).</summary>
    public double FocalAlpha { get; init; } = 0.25;

    /// <summary>Focal loss γ (2).</summary>
    public double FocalGamma { get; init; } = 2.0;

    /// <summary>The box regression loss (GIoU).</summary>
    public BoxLossKind BoxLoss { get; init; } = BoxLossKind.GIoU;

    /// <summary>Centre sampling radius in strides (1.5; 0 turns it off).</summary>
    public double CenterSampleRadius { get; init; } = 1.5;

    /// <summary>Per level, the range of the largest regression distance; <c>null</c> for FCOS's 0-64-128-256-512-∞.</summary>
    public IReadOnlyList<(double Min, double Max)>? SizeRanges { get; init; }
}
