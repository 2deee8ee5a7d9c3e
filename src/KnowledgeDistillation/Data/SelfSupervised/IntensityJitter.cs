namespace KnowledgeDistillation.Data;

/// <summary>
/// Brightness and contrast jitter for images <c>[C, H, W]</c> (the grey-scale part of torchvision's <c>ColorJitter</c>,
/// applied with probability <see cref="Probability"/>): a brightness factor b and a contrast factor c are drawn uniformly in
/// [1 − s, 1 + s] for strengths s; values become <c>x b</c>, then <c>(x − m) c + m</c> with m the mean of the image, then
/// clamped to [0, <see cref="MaxValue"/>]. Applied in that fixed order (torchvision shuffles it).
/// </summary>
public sealed class IntensityJitter : ISampleTransform
{
    /// <summary>Creates the transform.</summary>
    /// <param name="brightness">s_b in [0, 1] (SimCLR on CIFAR: 0.4).</param>
    /// <param name="contrast">s_c in [0, 1] (0.4).</param>
    /// <param name="probability">The chance the jitter applies, in [0, 1] (SimCLR: 0.8).</param>
    /// <param name="maxValue">The largest pixel value, &gt; 0 (1 for images scaled to [0, 1]).</param>
    /// <exception cref="ArgumentOutOfRangeException">A strength or the probability is outside [0, 1], or the maximum is not positive.</exception>
    public IntensityJitter(double brightness = 0.4, double contrast = 0.4, double probability = 0.8, double maxValue = 1.0)
    {
        Brightness = Guard.InRange(brightness, 0, 1, nameof(brightness));
        Contrast = Guard.InRange(contrast, 0, 1, nameof(contrast));
        Probability = Guard.InRange(probability, 0, 1, nameof(probability));
        MaxValue = Guard.Positive(maxValue, nameof(maxValue));
    }

    /// <summary>s_b.</summary>
    public double Brightness { get; }

    /// <summary>s_c.</summary>
    public double Contrast { get; }

    /// <summary>The chance the jitter applies.</summary>
    public double Probability { get; }

    /// <summary>The largest pixel value.</summary>
    public double MaxValue { get; }

    /// <inheritdoc />
    public bool IsRandom => true;

    /// <inheritdoc />
    public DataSample Apply(DataSample sample, SampleRandom random)
    {
        ArgumentNullException.ThrowIfNull(random);
        ImageShape.Of(sample, nameof(IntensityJitter));

        // Always draw all three numbers, so later transforms see the same stream whatever this one does.
        var apply = random.NextDouble() < Probability;
        var b = (float)(1 - Brightness + (2 * Brightness * random.NextDouble()));
        var c = (float)(1 - Contrast + (2 * Contrast * random.NextDouble()));
        if (!apply)
        {
            return sample;
        }

        var values = sample.Values;
        var max = (float)MaxValue;
        double sum = 0;
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = Math.Clamp(values[i] * b, 0, max);
            sum += values[i];
        }

        var mean = (float)(sum / values.Length);
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = Math.Clamp(((values[i] - mean) * c) + mean, 0, max);
        }

        return sample;
    }
}
