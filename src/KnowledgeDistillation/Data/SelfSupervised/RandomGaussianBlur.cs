namespace KnowledgeDistillation.Data;

/// <summary>
/// SimCLR's Gaussian blur for images <c>[C, H, W]</c>: with probability <see cref="Probability"/>, a separable Gaussian
/// of σ uniform in [<see cref="MinSigma"/>, <see cref="MaxSigma"/>] and radius <see cref="Radius"/> (kernel 2r + 1;
/// SimCLR: about a tenth of the image side) is applied per channel, with edge pixels repeated at the borders.
/// </summary>
public sealed class RandomGaussianBlur : ISampleTransform
{
    /// <summary>Creates the transform.</summary>
    /// <param name="radius">r &gt;= 1.</param>
    /// <param name="minSigma">Smallest σ &gt; 0 (0.1).</param>
    /// <param name="maxSigma">Largest σ &gt;= minSigma (2.0).</param>
    /// <param name="probability">The chance the blur applies, in [0, 1] (SimCLR: 0.5).</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of range.</exception>
    public RandomGaussianBlur(int radius = 1, double minSigma = 0.1, double maxSigma = 2.0, double probability = 0.5)
    {
        Radius = radius >= 1 ? radius : throw new ArgumentOutOfRangeException(nameof(radius), radius, "The blur radius must be >= 1.");
        MinSigma = Guard.Positive(minSigma, nameof(minSigma));
        MaxSigma = maxSigma >= minSigma ? maxSigma : throw new ArgumentOutOfRangeException(nameof(maxSigma), maxSigma, $"The largest sigma must be >= {minSigma}.");
        Probability = Guard.InRange(probability, 0, 1, nameof(probability));
    }

    /// <summary>r.</summary>
    public int Radius { get; }

    /// <summary>Smallest σ.</summary>
    public double MinSigma { get; }

    /// <summary>Largest σ.</summary>
    public double MaxSigma { get; }

    /// <summary>The chance the blur applies.</summary>
    public double Probability { get; }

    /// <inheritdoc />
    public bool IsRandom => true;

    /// <inheritdoc />
    public DataSample Apply(DataSample sample, SampleRandom random)
    {
        ArgumentNullException.ThrowIfNull(random);
        var (channels, height, width) = ImageShape.Of(sample, nameof(RandomGaussianBlur));
        var apply = random.NextDouble() < Probability;
        var sigma = MinSigma + ((MaxSigma - MinSigma) * random.NextDouble());
        if (!apply)
        {
            return sample;
        }

        var kernel = new float[(2 * Radius) + 1];
        double total = 0;
        for (var i = -Radius; i <= Radius; i++)
        {
            total += kernel[i + Radius] = (float)Math.Exp(-(i * i) / (2 * sigma * sigma));
        }

        for (var i = 0; i < kernel.Length; i++)
        {
            kernel[i] = (float)(kernel[i] / total);
        }

        var values = sample.Values;
        var buffer = new float[height * width];
        for (var c = 0; c < channels; c++)
        {
            var plane = values.AsSpan(c * height * width, height * width);
            for (var y = 0; y < height; y++)
            {
                for (var x = 0; x < width; x++)
                {
                    float s = 0;
                    for (var k = -Radius; k <= Radius; k++)
                    {
                        s += kernel[k + Radius] * plane[(y * width) + Math.Clamp(x + k, 0, width - 1)];
                    }

                    buffer[(y * width) + x] = s;
                }
            }

            for (var y = 0; y < height; y++)
            {
                for (var x = 0; x < width; x++)
                {
                    float s = 0;
                    for (var k = -Radius; k <= Radius; k++)
                    {
                        s += kernel[k + Radius] * buffer[(Math.Clamp(y + k, 0, height - 1) * width) + x];
                    }

                    plane[(y * width) + x] = s;
                }
            }
        }

        return sample;
    }
}
