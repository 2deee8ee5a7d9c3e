namespace KnowledgeDistillation.Detection.Models;

/// <summary>Architecture of an <see cref="FcosDetector"/>: a ResNet-family backbone of basic blocks, an FPN (P3-P7) and the FCOS head.</summary>
public sealed record FcosDetectorOptions
{
    /// <summary>Object classes (&gt;= 1; background is not a class).</summary>
    public int Classes { get; init; } = 3;

    /// <summary>Channels of the backbone's four stages (strides 4, 8, 16, 32).</summary>
    public IReadOnlyList<int> Widths { get; init; } = new[] { 16, 32, 64, 128 };

    /// <summary>Basic blocks per stage (ResNet-18 is 2, 2, 2, 2).</summary>
    public IReadOnlyList<int> Blocks { get; init; } = new[] { 1, 1, 1, 1 };

    /// <summary>FPN channels D (shared by all levels and the head; a multiple of <see cref="GroupNormGroups"/>).</summary>
    public int FpnChannels { get; init; } = 64;

    /// <summary>3x3 conv + GroupNorm + ReLU layers in each head tower (FCOS uses 4).</summary>
    public int HeadConvs { get; init; } = 2;

    /// <summary>GroupNorm groups in the head (FCOS uses 32 for 256 channels).</summary>
    public int GroupNormGroups { get; init; } = 8;

    /// <summary>Initial foreground probability of the classification bias (focal-loss prior, 0.01).</summary>
    public double PriorProbability { get; init; } = 0.01;

    /// <summary>How the head maps its box output to distances (default <see cref="FcosBoxOutput.Exponential"/>; detectors saved before 2026-12-03 were trained with <see cref="FcosBoxOutput.ScaledRelu"/>).</summary>
    public FcosBoxOutput BoxOutput { get; init; } = FcosBoxOutput.Exponential;

    /// <summary>The strides of P3..P7.</summary>
    public static IReadOnlyList<int> Strides { get; } = new[] { 8, 16, 32, 64, 128 };

    /// <summary>The FPN feature names, in level order.</summary>
    public static IReadOnlyList<string> Levels { get; } = new[] { "p3", "p4", "p5", "p6", "p7" };

    /// <summary>A ResNet-18 topology (2, 2, 2, 2 blocks) at half width (32..256): the sample's teacher.</summary>
    /// <param name="classes">Object classes.</param>
    public static FcosDetectorOptions ResNet18Half(int classes) => new() { Classes = classes, Widths = new[] { 32, 64, 128, 256 }, Blocks = new[] { 2, 2, 2, 2 } };

    /// <summary>A ResNet-10 topology (1, 1, 1, 1 blocks) at quarter width (16..128): the sample's student.</summary>
    /// <param name="classes">Object classes.</param>
    public static FcosDetectorOptions ResNet10Quarter(int classes) => new() { Classes = classes };

    /// <summary>Checks the options; the message names the option.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public void Validate()
    {
        if (Classes < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(Classes), Classes, "Classes must be >= 1.");
        }

        if (Widths.Count != 4 || Blocks.Count != 4 || Widths.Any(w => w < 1) || Blocks.Any(b => b < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(Widths), "Widths and Blocks need 4 positive values each (one per backbone stage).");
        }

        if (FpnChannels < 1 || GroupNormGroups < 1 || FpnChannels % GroupNormGroups != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(FpnChannels), FpnChannels, $"FpnChannels must be a positive multiple of GroupNormGroups ({GroupNormGroups}).");
        }

        if (HeadConvs < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(HeadConvs), HeadConvs, "HeadConvs must be >= 0.");
        }

        if (!Enum.IsDefined(BoxOutput))
        {
            throw new ArgumentOutOfRangeException(nameof(BoxOutput), BoxOutput, "BoxOutput must be Exponential or ScaledRelu.");
        }

        if (!(PriorProbability > 0 && PriorProbability < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(PriorProbability), PriorProbability, "PriorProbability must be in (0, 1).");
        }
    }
}
