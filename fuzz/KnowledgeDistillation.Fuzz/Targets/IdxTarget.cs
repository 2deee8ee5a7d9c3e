using System.Buffers.Binary;
using System.IO.Compression;
using KnowledgeDistillation.Data;

namespace KnowledgeDistillation.Fuzz.Targets;

/// <summary>
/// <see cref="IdxReader.Read(string, long)"/> on plain and gzip-compressed IDX files of every element type (the library
/// has no IDX writer; the seeds are encoded here from the format's definition: two zero bytes, a type code, the rank,
/// big-endian Int32 sizes, big-endian elements).
/// </summary>
internal sealed class IdxTarget : FuzzTarget
{
    /// <inheritdoc />
    public override string Name => "idx";

    /// <inheritdoc />
    public override string Api => "IdxReader.Read(path) (plain or gzip) + ToTensor()";

    /// <inheritdoc />
    public override IReadOnlyList<(string Name, byte[] Data)> CreateSeeds(string scratch)
    {
        var plain = new (string Name, byte[] Data)[]
        {
            ("ubyte-4x3x3", Encode(0x08, new[] { 4, 3, 3 }, 1, i => new[] { (byte)(i * 7) })),
            ("sbyte-6", Encode(0x09, new[] { 6 }, 1, i => new[] { (byte)(i - 3) })),
            ("int16-2x2", Encode(0x0B, new[] { 2, 2 }, 2, i => BigEndian16((short)(i * 300)))),
            ("int32-5", Encode(0x0C, new[] { 5 }, 4, i => BigEndian32(i * 100_000))),
            ("float32-2x3", Encode(0x0D, new[] { 2, 3 }, 4, i => BigEndian32(BitConverter.SingleToInt32Bits(i * 0.5f)))),
            ("float64-3", Encode(0x0E, new[] { 3 }, 8, i => BigEndian64(BitConverter.DoubleToInt64Bits(i * 0.25)))),
        };
        return plain.Select(p => ($"idx-{p.Name}.bin", p.Data))
            .Concat(plain.Take(3).Select(p => ($"idx-{p.Name}.gz.bin", Gzip(p.Data))))
            .ToArray();
    }

    /// <inheritdoc />
    public override void Execute(byte[] input, string scratch)
    {
        var file = Path.Combine(scratch, "input.idx");
        File.WriteAllBytes(file, input);
        var array = IdxReader.Read(file);
        using var values = array.ToTensor();
        GC.KeepAlive(values.NumberOfElements + array.Shape.Count);
    }

    private static byte[] Encode(byte type, int[] shape, int elementSize, Func<int, byte[]> element)
    {
        var count = shape.Aggregate(1, (a, b) => a * b);
        using var stream = new MemoryStream();
        stream.Write(new byte[] { 0, 0, type, (byte)shape.Length });
        foreach (var size in shape)
        {
            stream.Write(BigEndian32(size));
        }

        for (var i = 0; i < count; i++)
        {
            var bytes = element(i);
            stream.Write(bytes, 0, elementSize);
        }

        return stream.ToArray();
    }

    private static byte[] Gzip(byte[] data)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Optimal, leaveOpen: true))
        {
            gzip.Write(data);
        }

        return output.ToArray();
    }

    private static byte[] BigEndian16(short value)
    {
        var bytes = new byte[2];
        BinaryPrimitives.WriteInt16BigEndian(bytes, value);
        return bytes;
    }

    private static byte[] BigEndian32(int value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(bytes, value);
        return bytes;
    }

    private static byte[] BigEndian64(long value)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteInt64BigEndian(bytes, value);
        return bytes;
    }
}
