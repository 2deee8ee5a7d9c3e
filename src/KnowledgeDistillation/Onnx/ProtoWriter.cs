using System.Buffers.Binary;
using System.Text;

namespace KnowledgeDistillation.Onnx;

/// <summary>
/// A minimal Protocol Buffers encoder (wire format only: varints, 32-bit floats and length-delimited fields) for the
/// few ONNX messages the exporter writes. Nested messages are encoded into their own buffer first, so their length
/// prefix is known when the parent writes them.
/// </summary>
internal sealed class ProtoWriter
{
    private const int WireVarint = 0;
    private const int WireFixed32 = 5;
    private const int WireLengthDelimited = 2;

    private readonly MemoryStream buffer = new();

    /// <summary>The bytes written so far.</summary>
    public long Length => buffer.Length;

    /// <summary>Writes an int64/int32/enum field as a varint (negative values as ten-byte two's complement).</summary>
    public void Varint(int field, long value)
    {
        Tag(field, WireVarint);
        RawVarint(unchecked((ulong)value));
    }

    /// <summary>Writes a float field (fixed 32 bits, little-endian).</summary>
    public void Float(int field, float value)
    {
        Tag(field, WireFixed32);
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteSingleLittleEndian(bytes, value);
        buffer.Write(bytes);
    }

    /// <summary>Writes a UTF-8 string field.</summary>
    public void String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

    /// <summary>Writes a bytes field.</summary>
    public void Bytes(int field, ReadOnlySpan<byte> value)
    {
        Tag(field, WireLengthDelimited);
        RawVarint((ulong)value.Length);
        buffer.Write(value);
    }

    /// <summary>Writes a nested message field, encoded by <paramref name="write"/>.</summary>
    public void Message(int field, Action<ProtoWriter> write)
    {
        var nested = new ProtoWriter();
        write(nested);
        Tag(field, WireLengthDelimited);
        RawVarint((ulong)nested.buffer.Length);
        nested.buffer.Position = 0;
        nested.buffer.CopyTo(buffer);
    }

    /// <summary>The encoded bytes.</summary>
    public byte[] ToArray() => buffer.ToArray();

    /// <summary>Copies the encoded bytes to <paramref name="stream"/>.</summary>
    public void CopyTo(Stream stream)
    {
        buffer.Position = 0;
        buffer.CopyTo(stream);
    }

    private void Tag(int field, int wireType) => RawVarint((ulong)((field << 3) | wireType));

    private void RawVarint(ulong value)
    {
        while (value >= 0x80)
        {
            buffer.WriteByte((byte)(value | 0x80));
            value >>= 7;
        }

        buffer.WriteByte((byte)value);
    }
}
