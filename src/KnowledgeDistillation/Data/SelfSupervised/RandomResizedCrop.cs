namespace KnowledgeDistillation.Data;

/// <summary>
/// torchvision's <c>RandomResizedCrop</c> for images <c>[C, H, W]</c>: a window whose area is a uniform fraction in
/// <see cref="MinScale"/>..<see cref="MaxScale"/> of the image and whose aspect ratio is log-uniform in
/// <see cref="MinRatio"/>..<see cref="MaxRatio"/> (up to 10 tries, then the central crop of the clamped ratio), resized to
/// <see cref="Height"/> x <see cref="Width"/> by bilinear interpolation (half-pixel centres, as <c>align_corners=False</c>).
/// </summary>
public sealed class RandomResizedCrop : ISampleTransform
{
    /// <summary>Creates the transform.</summary>
    /// <param name="height">Output height &gt;= 1.</param>
    /// <param name="width">Output width &gt;= 1.</param>
    /// <param name="minScale">Smallest area fraction, in (0, 1] (SimCLR: 0.08; small images: 0.2).</param>
    /// <param name="maxScale">Largest area fraction, in [minScale, 1].</param>
    /// <param name="minRatio">Smallest aspect ratio (width / height) &gt; 0 (3/4).</param>
    /// <param name="maxRatio">Largest aspect ratio &gt;= minRatio (4/3).</param>
    /// <exception cref="ArgumentOutOfRangeException">A size or range is invalid.</exception>
    public RandomResizedCrop(int height, int width, double minScale = 0.08, double maxScale = 1.0, double minRatio = 3.0 / 4.0, double maxRatio = 4.0 / 3.0)
    {
        Height = height >= 1 ? height : throw new ArgumentOutOfRangeException(nameof(height), height, "The output height must be >= 1.");
        Width = width >= 1 ? width : throw new ArgumentOutOfRangeException(nameof(width), width, "The output width must be >= 1.");
        MinScale = minScale is > 0 and <= 1 ? minScale : throw new ArgumentOutOfRangeException(nameof(minScale), minScale, "The smallest area fraction must be in (0, 1].");
        MaxScale = maxScale >= minScale && maxScale <= 1 ? maxScale : throw new ArgumentOutOfRangeException(nameof(maxScale), maxScale, $"The largest area fraction must be in [{minScale}, 1].");
        MinRatio = Guard.Positive(minRatio, nameof(minRatio));
        MaxRatio = maxRatio >= minRatio ? maxRatio : throw new ArgumentOutOfRangeException(nameof(maxRatio), maxRatio, $"The largest aspect ratio must be >= {minRatio}.");
    }

    /// <summary>Output height.</summary>
    public int Height { get; }

    /// <summary>Output width.</summary>
    public int Width { get; }

    /// <summary>Smallest area fraction.</summary>
    public double MinScale { get; }

    /// <summary>Largest area fraction.</summary>
    public double MaxScale { get; }

    /// <summary>Smallest aspect ratio.</summary>
    public double MinRatio { get; }

    /// <summary>Largest aspect ratio.</summary>
    public double MaxRatio { get; }

    /// <inheritdoc />
    public bool IsRandom => true;

    /// <inheritdoc />
    public DataSample Apply(DataSample sample, SampleRandom random)
    {
        ArgumentNullException.ThrowIfNull(random);
        var (channels, height, width) = ImageShape.Of(sample, nameof(RandomResizedCrop));
        var (top, left, cropHeight, cropWidth) = Window(height, width, random);
        var source = sample.Values;
        var result = new float[channels * Height * Width];
        var scaleY = cropHeight / (double)Height;
        var scaleX = cropWidth / (double)Width;
        for (var y = 0; y < Height; y++)
        {
            var sy = Math.Clamp(((y + 0.5) * scaleY) - 0.5, 0, cropHeight - 1);
            var y0 = (int)Math.Floor(sy);
            var y1 = Math.Min(y0 + 1, cropHeight - 1);
            var fy = (float)(sy - y0);
            for (var x = 0; x < Width; x++)
            {
                var sx = Math.Clamp(((x + 0.5) * scaleX) - 0.5, 0, cropWidth - 1);
                var x0 = (int)Math.Floor(sx);
                var x1 = Math.Min(x0 + 1, cropWidth - 1);
                var fx = (float)(sx - x0);
                for (var c = 0; c < channels; c++)
                {
                    var plane = c * height * width;
                    float At(int yy, int xx) => source[plane + ((top + yy) * width) + left + xx];
                    var upper = (At(y0, x0) * (1 - fx)) + (At(y0, x1) * fx);
                    var lower = (At(y1, x0) * (1 - fx)) + (At(y1, x1) * fx);
                    result[(((c * Height) + y) * Width) + x] = (upper * (1 - fy)) + (lower * fy);
                }
            }
        }

        return sample.With(result, [channels, Height, Width]);
    }

    private (int Top, int Left, int Height, int Width) Window(int height, int width, SampleRandom random)
    {
        var area = (double)height * width;
        var logMin = Math.Log(MinRatio);
        var logMax = Math.Log(MaxRatio);
        for (var attempt = 0; attempt < 10; attempt++)
        {
            var target = area * (MinScale + ((MaxScale - MinScale) * random.NextDouble()));
            var ratio = Math.Exp(logMin + ((logMax - logMin) * random.NextDouble()));
            var w = (int)Math.Round(Math.Sqrt(target * ratio));
            var h = (int)Math.Round(Math.Sqrt(target / ratio));
            if (w > 0 && h > 0 && w <= width && h <= height)
            {
                return (random.NextInt(height - h + 1), random.NextInt(width - w + 1), h, w);
            }
        }

        var aspect = (double)width / height;
        var (ch, cw) = aspect < MinRatio ? ((int)Math.Round(width / MinRatio), width)
            : aspect > MaxRatio ? (height, (int)Math.Round(height * MaxRatio))
            : (height, width);
        ch = Math.Clamp(ch, 1, height);
        cw = Math.Clamp(cw, 1, width);
        return ((height - ch) / 2, (width - cw) / 2, ch, cw);
    }
}
