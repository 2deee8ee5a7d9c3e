namespace KnowledgeDistillation.Data;

/// <summary>Mirrors an image <c>[C, H, W]</c> left to right with probability <see cref="Probability"/> (torchvision's <c>RandomHorizontalFlip</c>).</summary>
public sealed class RandomHorizontalFlip : ISampleTransform
{
    /// <summary>Creates the transform.</summary>
    /// <param name="probability">The chance of a flip, in [0, 1] (default 0.5).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="probability"/> is outside [0, 1].</exception>
    public RandomHorizontalFlip(double probability = 0.5) =>
        Probability = Guard.InRange(probability, 0, 1, nameof(probability));

    /// <summary>The chance of a flip.</summary>
    public double Probability { get; }

    /// <inheritdoc />
    public bool IsRandom => true;

    /// <inheritdoc />
    public DataSample Apply(DataSample sample, SampleRandom random)
    {
        ArgumentNullException.ThrowIfNull(random);
        var (channels, height, width) = ImageShape.Of(sample, nameof(RandomHorizontalFlip));

        // Always draw, so the numbers later transforms see do not depend on this one's outcome.
        if (random.NextDouble() >= Probability)
        {
            return sample;
        }

        var values = sample.Values;
        for (var row = 0; row < channels * height; row++)
        {
            values.AsSpan(row * width, width).Reverse();
        }

        return sample;
    }
}
