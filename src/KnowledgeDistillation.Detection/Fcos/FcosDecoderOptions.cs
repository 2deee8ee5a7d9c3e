namespace KnowledgeDistillation.Detection.Fcos;

/// <summary>Options of <see cref="FcosDecoder"/> (AdelaiDet's test-time defaults).</summary>
public sealed record FcosDecoderOptions
{
    /// <summary>Candidates need a class probability above this (0.05).</summary>
    public double ScoreThreshold { get; init; } = 0.05;

    /// <summary>At most this many candidates per image enter NMS (1000).</summary>
    public int PreNmsTopK { get; init; } = 1000;

    /// <summary>NMS IoU threshold (0.6).</summary>
    public double NmsThreshold { get; init; } = 0.6;

    /// <summary>At most this many detections per image (100).</summary>
    public int MaxDetections { get; init; } = 100;
}
