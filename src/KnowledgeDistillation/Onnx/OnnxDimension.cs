namespace KnowledgeDistillation.Onnx;

/// <summary>One dimension of a graph input or output: a fixed size, or a named symbolic size (e.g. a dynamic batch).</summary>
public readonly record struct OnnxDimension
{
    private OnnxDimension(long? size, string? name)
    {
        Size = size;
        Name = name;
    }

    /// <summary>The fixed size, or <c>null</c> for a symbolic dimension.</summary>
    public long? Size { get; }

    /// <summary>The symbolic name, or <c>null</c> for a fixed dimension.</summary>
    public string? Name { get; }

    /// <summary>A fixed dimension.</summary>
    /// <param name="size">The size, &gt;= 1.</param>
    public static OnnxDimension Fixed(long size)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        return new OnnxDimension(size, null);
    }

    /// <summary>A symbolic dimension whose size is chosen at inference time.</summary>
    /// <param name="name">The dimension's name, e.g. <c>"batch"</c>.</param>
    public static OnnxDimension Symbolic(string name) => new(null, Guard.Name(name, nameof(name)));

    /// <summary>A fixed dimension.</summary>
    /// <param name="size">The size, &gt;= 1.</param>
    public static implicit operator OnnxDimension(long size) => Fixed(size);

    /// <inheritdoc />
    public override string ToString() => Name ?? Size!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
