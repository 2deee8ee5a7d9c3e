namespace KnowledgeDistillation.Data;

/// <summary>Formats host-side sample shapes the way <see cref="Guard.Shape"/> formats tensor shapes.</summary>
internal static class DataShape
{
    /// <summary>Formats <paramref name="shape"/> as <c>[a, b, c]</c>.</summary>
    public static string Format(IReadOnlyList<int> shape) => Guard.FormatShape(shape.Select(d => (long)d));

    /// <summary>The product of the dimensions.</summary>
    public static long Elements(IReadOnlyList<int> shape)
    {
        long n = 1;
        foreach (var d in shape)
        {
            n *= d;
        }

        return n;
    }
}
