using static TorchSharp.torch;

namespace KnowledgeDistillation.Caching;

/// <summary>
/// One named value a <see cref="ISampleStore"/> keeps per sample: its name, the shape of one sample's row
/// and its element type (float32 or float64).
/// </summary>
public sealed record SampleField
{
    /// <summary>Creates a field.</summary>
    /// <param name="name">A non-empty name, unique within a store.</param>
    /// <param name="rowShape">The shape of one sample's row (empty for a scalar per sample); every dimension &gt;= 1.</param>
    /// <param name="elementType"><see cref="ScalarType.Float32"/> (default) or <see cref="ScalarType.Float64"/>.</param>
    /// <exception cref="ArgumentException">The name is empty, a dimension is not positive, or the element type is not float32/float64.</exception>
    public SampleField(string name, long[] rowShape, ScalarType elementType = ScalarType.Float32)
    {
        ArgumentNullException.ThrowIfNull(rowShape);
        Name = Guard.Name(name, nameof(name));
        if (rowShape.Any(d => d < 1))
        {
            throw new ArgumentException($"Every dimension of a row must be >= 1; got {Guard.FormatShape(rowShape)}.", nameof(rowShape));
        }

        if (elementType is not (ScalarType.Float32 or ScalarType.Float64))
        {
            throw new ArgumentException($"A sample field holds float32 or float64; got {elementType}.", nameof(elementType));
        }

        RowShape = rowShape.ToArray();
        ElementType = elementType;
    }

    /// <summary>The field's name.</summary>
    public string Name { get; }

    /// <summary>The shape of one sample's row.</summary>
    public IReadOnlyList<long> RowShape { get; }

    /// <summary>Float32 or float64.</summary>
    public ScalarType ElementType { get; }

    /// <summary>Elements in one sample's row.</summary>
    public long RowElements => RowShape.Aggregate(1L, (a, b) => a * b);

    /// <summary>Bytes in one sample's row.</summary>
    public long RowBytes => RowElements * (ElementType == ScalarType.Float64 ? sizeof(double) : sizeof(float));

    /// <summary>Whether <paramref name="other"/> has the same name, row shape and element type.</summary>
    /// <param name="other">The other field.</param>
    public bool SameAs(SampleField other) =>
        other is not null && Name == other.Name && ElementType == other.ElementType && RowShape.SequenceEqual(other.RowShape);

    /// <inheritdoc />
    public override string ToString() => $"{Name} {Guard.FormatShape(RowShape)} {ElementType}";
}
