namespace KnowledgeDistillation.Data;

/// <summary>
/// The records of one or more CIFAR binary files (see <see cref="CifarReader"/>): labels and 32x32 RGB images stored
/// channel-planar (1024 red, then 1024 green, then 1024 blue bytes per image, rows top to bottom).
/// </summary>
public sealed class CifarArray
{
    internal CifarArray(CifarVariant variant, byte[] labels, byte[]? coarseLabels, byte[] pixels)
    {
        Variant = variant;
        LabelArray = labels;
        CoarseLabelArray = coarseLabels;
        PixelArray = pixels;
    }

    /// <summary>The dataset the records belong to.</summary>
    public CifarVariant Variant { get; }

    /// <summary>The number of records.</summary>
    public int Count => LabelArray.Length;

    /// <summary>The class label of each record: CIFAR-10's label (0..9), or CIFAR-100's fine label (0..99).</summary>
    public ReadOnlyMemory<byte> Labels => LabelArray;

    /// <summary>CIFAR-100's coarse (superclass) label of each record (0..19); empty for CIFAR-10.</summary>
    public ReadOnlyMemory<byte> CoarseLabels => CoarseLabelArray ?? ReadOnlyMemory<byte>.Empty;

    /// <summary>The pixels, <see cref="CifarReader.ImageBytes"/> per record, in record order.</summary>
    public ReadOnlyMemory<byte> Pixels => PixelArray;

    internal byte[] LabelArray { get; }

    internal byte[]? CoarseLabelArray { get; }

    internal byte[] PixelArray { get; }

    /// <summary>The first <paramref name="count"/> records (all of them when there are fewer).</summary>
    internal CifarArray Take(int count) =>
        count >= Count
            ? this
            : new CifarArray(Variant, LabelArray[..count], CoarseLabelArray?[..count], PixelArray[..(count * CifarReader.ImageBytes)]);

    /// <summary>Joins the records of several arrays of one variant, in order (the five CIFAR-10 training batches).</summary>
    /// <param name="parts">The arrays, at least one.</param>
    /// <exception cref="ArgumentException">No arrays were given, or their variants differ.</exception>
    public static CifarArray Concat(IReadOnlyList<CifarArray> parts)
    {
        ArgumentNullException.ThrowIfNull(parts);
        if (parts.Count == 0)
        {
            throw new ArgumentException("Concat needs at least one array.", nameof(parts));
        }

        if (parts.Count == 1)
        {
            return parts[0];
        }

        var variant = parts[0].Variant;
        if (parts.Any(p => p.Variant != variant))
        {
            throw new ArgumentException("Concat needs arrays of one CIFAR variant.", nameof(parts));
        }

        return new CifarArray(
            variant,
            parts.SelectMany(p => p.LabelArray).ToArray(),
            variant == CifarVariant.Cifar100 ? parts.SelectMany(p => p.CoarseLabelArray!).ToArray() : null,
            Join(parts.Select(p => p.PixelArray).ToList()));
    }

    private static byte[] Join(List<byte[]> arrays)
    {
        var result = new byte[arrays.Sum(a => (long)a.Length)];
        long offset = 0;
        foreach (var a in arrays)
        {
            Array.Copy(a, 0, result, offset, a.Length);
            offset += a.Length;
        }

        return result;
    }
}
