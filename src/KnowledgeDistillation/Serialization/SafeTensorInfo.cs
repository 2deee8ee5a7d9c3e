using static TorchSharp.torch;

namespace KnowledgeDistillation.Serialization;

/// <summary>One tensor's entry in a safetensors header: its name, element type, shape and where its bytes lie.</summary>
public sealed class SafeTensorInfo
{
    internal SafeTensorInfo(string name, SafeTensorsDType dtype, long[] shape, long elementCount, long dataOffset, long byteLength)
    {
        Name = name;
        DType = dtype;
        Shape = Array.AsReadOnly(shape);
        ElementCount = elementCount;
        DataOffset = dataOffset;
        ByteLength = byteLength;
    }

    /// <summary>The tensor's name in the file, such as <c>features.0.weight</c>.</summary>
    public string Name { get; }

    /// <summary>The element type stored in the file.</summary>
    public SafeTensorsDType DType { get; }

    /// <summary>The TorchSharp element type that <see cref="SafeTensorsFile.ReadTensor"/> creates.</summary>
    public ScalarType ScalarType => SafeTensorsDTypes.ToScalarType(DType);

    /// <summary>The shape; empty for a scalar.</summary>
    public IReadOnlyList<long> Shape { get; }

    /// <summary>The number of elements (the product of <see cref="Shape"/>; 1 for a scalar).</summary>
    public long ElementCount { get; }

    /// <summary>Where the tensor's bytes start, relative to the start of the data section (after the header).</summary>
    public long DataOffset { get; }

    /// <summary>The size of the tensor's data in bytes.</summary>
    public long ByteLength { get; }

    /// <summary>The shape as text, such as <c>[2, 3]</c>.</summary>
    public string ShapeText => Guard.FormatShape(Shape);

    /// <inheritdoc/>
    public override string ToString() => $"'{Name}' {SafeTensorsDTypes.Code(DType)} {ShapeText}";
}
