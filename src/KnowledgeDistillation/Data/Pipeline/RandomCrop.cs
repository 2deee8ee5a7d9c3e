namespace KnowledgeDistillation.Data;

/// <summary>
/// Pads an image <c>[C, H, W]</c> with <see cref="Padding"/> zeros on every side and cuts a random
/// <see cref="Height"/> x <see cref="Width"/> window out of it (torchvision's <c>RandomCrop(size, padding)</c> with
/// constant zero padding; the top offset is drawn first, then the left one).
/// </summary>
public sealed class RandomCrop : ISampleTransform
{
    /// <summary>Creates the transform.</summary>
    /// <param name="height">The output height, &gt;= 1.</param>
    /// <param name="width">The output width, &gt;= 1.</param>
    /// <param name="padding">Zeros added on each side before cropping, &gt;= 0 (CIFAR recipes use 4).</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is below 1 or the padding is negative.</exception>
    public RandomCrop(int height, int width, int padding = 0)
    {
        if (height < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(height), height, "The crop height must be >= 1.");
        }

        if (width < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(width), width, "The crop width must be >= 1.");
        }

        if (padding < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(padding), padding, "The padding must be >= 0.");
        }

        Height = height;
        Width = width;
        Padding = padding;
    }

    /// <summary>The output height.</summary>
    public int Height { get; }

    /// <summary>The output width.</summary>
    public int Width { get; }

    /// <summary>The zero padding on each side.</summary>
    public int Padding { get; }

    /// <inheritdoc />
    public bool IsRandom => true;

    /// <inheritdoc />
    public DataSample Apply(DataSample sample, SampleRandom random)
    {
        ArgumentNullException.ThrowIfNull(random);
        var (channels, height, width) = ImageShape.Of(sample, nameof(RandomCrop));
        var paddedHeight = height + (2 * Padding);
        var paddedWidth = width + (2 * Padding);
        if (paddedHeight < Height || paddedWidth < Width)
        {
            throw new ArgumentException(
                $"{nameof(RandomCrop)} of {Height}x{Width} with padding {Padding} needs images of at least " +
                $"{Math.Max(1, Height - (2 * Padding))}x{Math.Max(1, Width - (2 * Padding))}; got {DataShape.Format(sample.Shape)}.",
                nameof(sample));
        }

        var top = random.NextInt(paddedHeight - Height + 1) - Padding;
        var left = random.NextInt(paddedWidth - Width + 1) - Padding;
        var source = sample.Values;
        var result = new float[channels * Height * Width];
        for (var c = 0; c < channels; c++)
        {
            for (var y = 0; y < Height; y++)
            {
                var sy = y + top;
                if (sy < 0 || sy >= height)
                {
                    continue; // zero padding: the row stays 0
                }

                var x0 = Math.Max(0, -left);
                var x1 = Math.Min(Width, width - left);
                if (x1 > x0)
                {
                    Array.Copy(source, (((c * height) + sy) * width) + x0 + left, result, (((c * Height) + y) * Width) + x0, x1 - x0);
                }
            }
        }

        return sample.With(result, [channels, Height, Width]);
    }
}
