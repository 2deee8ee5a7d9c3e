using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Data;

/// <summary>
/// The content of one IDX file (see <see cref="IdxReader"/>): its shape, element type and elements in
/// row-major order, already converted to the machine's byte order.
/// </summary>
public sealed class IdxArray
{
    private readonly Array _elements;

    internal IdxArray(IdxElementType elementType, int[] shape, Array elements)
    {
        ElementType = elementType;
        Shape = Array.AsReadOnly(shape);
        _elements = elements;
    }

    /// <summary>The element type declared by the file.</summary>
    public IdxElementType ElementType { get; }

    /// <summary>The size of each dimension, outermost first (for MNIST images: count, rows, columns).</summary>
    public IReadOnlyList<int> Shape { get; }

    /// <summary>The number of elements (the product of <see cref="Shape"/>).</summary>
    public long Length => _elements.LongLength;

    /// <summary>The raw elements of an <see cref="IdxElementType.UInt8"/> array, such as image pixels or class labels.</summary>
    /// <exception cref="InvalidOperationException">The array holds another element type.</exception>
    public ReadOnlyMemory<byte> Bytes => GetElements<byte>();

    /// <summary>The elements as <typeparamref name="T"/>, which must match <see cref="ElementType"/>:
    /// <see cref="byte"/>, <see cref="sbyte"/>, <see cref="short"/>, <see cref="int"/>, <see cref="float"/> or <see cref="double"/>.</summary>
    /// <typeparam name="T">The .NET type of the elements.</typeparam>
    /// <exception cref="InvalidOperationException"><typeparamref name="T"/> does not match <see cref="ElementType"/>.</exception>
    public ReadOnlyMemory<T> GetElements<T>()
        where T : unmanaged
    {
        // Compare exact types: the runtime lets sbyte[] pass as byte[] (and int[] as uint[]) in a plain cast.
        if (_elements.GetType() != typeof(T[]))
        {
            throw new InvalidOperationException(
                $"This IDX array holds {ElementType} elements ({_elements.GetType().GetElementType()!.Name}), not {typeof(T).Name}.");
        }

        return (T[])_elements;
    }

    /// <summary>
    /// Copies the elements into a new CPU tensor with this array's shape. The tensor's dtype matches the
    /// element type (UInt8 → Byte, Int8 → Int8, Int16 → Int16, Int32 → Int32, Float32 → Float32,
    /// Float64 → Float64) unless <paramref name="dtype"/> asks for a conversion.
    /// </summary>
    /// <param name="dtype">The dtype of the result, or <c>null</c> to keep the element type.</param>
    /// <returns>A new tensor the caller owns.</returns>
    public Tensor ToTensor(ScalarType? dtype = null)
    {
        var dims = new long[Shape.Count];
        for (var i = 0; i < dims.Length; i++)
        {
            dims[i] = Shape[i];
        }

        // Dispatch on the declared type, not with type patterns: the runtime lets an sbyte[] match byte[].
        var result = ElementType switch
        {
            IdxElementType.UInt8 => tensor((byte[])_elements, dims),
            IdxElementType.Int8 => tensor((sbyte[])_elements, dims),
            IdxElementType.Int16 => tensor((short[])_elements, dims),
            IdxElementType.Int32 => tensor((int[])_elements, dims),
            IdxElementType.Float32 => tensor((float[])_elements, dims),
            _ => tensor((double[])_elements, dims),
        };

        if (dtype is not { } wanted || wanted == result.dtype)
        {
            return result;
        }

        using (result)
        {
            return result.to_type(wanted);
        }
    }

    /// <inheritdoc />
    public override string ToString() => $"IdxArray {ElementType} {Guard.FormatShape(Shape.Select(d => (long)d))}";
}
