namespace KnowledgeDistillation.Detection.Data;

/// <summary>An axis-aligned box in pixels: left, top, right, bottom (continuous coordinates, right &gt; left, bottom &gt; top for a valid box).</summary>
/// <param name="X1">Left edge.</param>
/// <param name="Y1">Top edge.</param>
/// <param name="X2">Right edge.</param>
/// <param name="Y2">Bottom edge.</param>
public readonly record struct BoundingBox(double X1, double Y1, double X2, double Y2)
{
    /// <summary>Width (0 when degenerate).</summary>
    public double Width => Math.Max(0, X2 - X1);

    /// <summary>Height (0 when degenerate).</summary>
    public double Height => Math.Max(0, Y2 - Y1);

    /// <summary>Area (0 when degenerate).</summary>
    public double Area => Width * Height;

    /// <summary>Whether all coordinates are finite and the box has a positive area.</summary>
    public bool IsValid => double.IsFinite(X1) && double.IsFinite(Y1) && double.IsFinite(X2) && double.IsFinite(Y2) && X2 > X1 && Y2 > Y1;

    /// <summary>The box cut to the image <c>[0, width] x [0, height]</c>.</summary>
    /// <param name="width">Image width.</param>
    /// <param name="height">Image height.</param>
    public BoundingBox Clip(double width, double height) =>
        new(Math.Clamp(X1, 0, width), Math.Clamp(Y1, 0, height), Math.Clamp(X2, 0, width), Math.Clamp(Y2, 0, height));

    /// <summary>The box with every coordinate multiplied by <paramref name="factor"/>.</summary>
    /// <param name="factor">Scale factor.</param>
    public BoundingBox Scale(double factor) => new(X1 * factor, Y1 * factor, X2 * factor, Y2 * factor);

    /// <summary>Intersection over union with <paramref name="other"/> (0 when the union is empty).</summary>
    /// <param name="other">The other box.</param>
    public double IoU(BoundingBox other)
    {
        var w = Math.Min(X2, other.X2) - Math.Max(X1, other.X1);
        var h = Math.Min(Y2, other.Y2) - Math.Max(Y1, other.Y1);
        var inter = w > 0 && h > 0 ? w * h : 0;
        var union = Area + other.Area - inter;
        return union > 0 ? inter / union : 0;
    }
}
