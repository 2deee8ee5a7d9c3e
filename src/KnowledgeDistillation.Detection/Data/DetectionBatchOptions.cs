namespace KnowledgeDistillation.Detection.Data;

/// <summary>Options of <see cref="DetectionBatchSource"/>.</summary>
public sealed class DetectionBatchOptions
{
    /// <summary>Images per batch (&gt;= 1). Default 8.</summary>
    public int BatchSize { get; set; } = 8;

    /// <summary>The longer image side after resizing, in pixels (&gt;= 32); the aspect ratio is kept. Default 320.</summary>
    public int ImageSize { get; set; } = 320;

    /// <summary>Batches are padded (bottom and right, with zeros after normalisation) to a multiple of this (&gt;= 1). Default 32.</summary>
    public int PadMultiple { get; set; } = 32;

    /// <summary>Whether the order is shuffled each epoch (a pure function of seed and epoch). Default true.</summary>
    public bool Shuffle { get; set; } = true;

    /// <summary>Seed of the order and of the augmentation.</summary>
    public int Seed { get; set; }

    /// <summary>Whether images are flipped horizontally with probability 0.5 (boxes follow). Default false.</summary>
    public bool HorizontalFlip { get; set; }

    /// <summary>Smallest factor on <see cref="ImageSize"/> drawn per image and epoch (scale jitter); 1 with <see cref="MaxScale"/> 1 turns it off.</summary>
    public double MinScale { get; set; } = 1;

    /// <summary>Largest factor on <see cref="ImageSize"/> drawn per image and epoch.</summary>
    public double MaxScale { get; set; } = 1;

    /// <summary>Per-channel mean subtracted after scaling to [0, 1] (ImageNet's by default).</summary>
    public IReadOnlyList<float> Mean { get; set; } = new[] { 0.485f, 0.456f, 0.406f };

    /// <summary>Per-channel standard deviation divided by (ImageNet's by default).</summary>
    public IReadOnlyList<float> Std { get; set; } = new[] { 0.229f, 0.224f, 0.225f };

    /// <summary>Checks every option; the message names it.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public void Validate()
    {
        if (BatchSize < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "BatchSize must be >= 1.");
        }

        if (ImageSize < 32)
        {
            throw new ArgumentOutOfRangeException(nameof(ImageSize), ImageSize, "ImageSize must be >= 32.");
        }

        if (PadMultiple < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(PadMultiple), PadMultiple, "PadMultiple must be >= 1.");
        }

        if (!(MinScale > 0) || !(MaxScale >= MinScale) || MaxScale > 4)
        {
            throw new ArgumentOutOfRangeException(nameof(MinScale), $"Scale jitter must satisfy 0 < MinScale <= MaxScale <= 4; got {MinScale}..{MaxScale}.");
        }

        if (Mean.Count != 3 || Std.Count != 3 || Std.Any(s => !(s > 0)))
        {
            throw new ArgumentOutOfRangeException(nameof(Std), "Mean and Std need 3 values each, Std positive.");
        }
    }
}
