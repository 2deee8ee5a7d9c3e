using System.Buffers.Binary;
using System.IO.Compression;

namespace KnowledgeDistillation.Tests.Data;

/// <summary>An IDX encoder written independently of the reader under test, plus temp-directory helpers.</summary>
internal static class IdxTestData
{
    public static byte[] Header(byte typeCode, params int[] shape)
    {
        var header = new byte[4 + (4 * shape.Length)];
        header[2] = typeCode;
        header[3] = checked((byte)shape.Length);
        for (var i = 0; i < shape.Length; i++)
        {
            BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4 + (4 * i)), shape[i]);
        }

        return header;
    }

    public static byte[] Encode(byte typeCode, int[] shape, Array values)
    {
        using var ms = new MemoryStream();
        ms.Write(Header(typeCode, shape));
        Span<byte> b = stackalloc byte[8];
        foreach (var v in values)
        {
            switch (v)
            {
                case byte x: ms.WriteByte(x); break;
                case sbyte x: ms.WriteByte(unchecked((byte)x)); break;
                case short x: BinaryPrimitives.WriteInt16BigEndian(b, x); ms.Write(b[..2]); break;
                case int x: BinaryPrimitives.WriteInt32BigEndian(b, x); ms.Write(b[..4]); break;
                case float x: BinaryPrimitives.WriteSingleBigEndian(b, x); ms.Write(b[..4]); break;
                case double x: BinaryPrimitives.WriteDoubleBigEndian(b, x); ms.Write(b[..8]); break;
                default: throw new ArgumentException($"Unsupported element {v.GetType()}.");
            }
        }

        return ms.ToArray();
    }

    public static byte[] Gzip(byte[] data)
    {
        using var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Fastest, leaveOpen: true))
        {
            gz.Write(data);
        }

        return ms.ToArray();
    }

    public static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    /// <summary>Synthetic Fashion-MNIST-shaped images: pixel p of image i is (7 i + p) mod 256.</summary>
    public static byte[] Images(int count)
    {
        var pixels = new byte[count * 28 * 28];
        for (var i = 0; i < count; i++)
        {
            for (var p = 0; p < 28 * 28; p++)
            {
                pixels[(i * 28 * 28) + p] = (byte)(((7 * i) + p) % 256);
            }
        }

        return Encode(0x08, [count, 28, 28], pixels);
    }

    /// <summary>Synthetic labels: label of sample i is (i + offset) mod 10.</summary>
    public static byte[] Labels(int count, int offset = 0) =>
        Encode(0x08, [count], Enumerable.Range(0, count).Select(i => (byte)((i + offset) % 10)).ToArray());

    /// <summary>Writes the four Fashion-MNIST files (training ones gzipped, test ones plain) into <paramref name="directory"/>.</summary>
    public static void WriteFashionMnist(string directory, int train, int test)
    {
        Directory.CreateDirectory(directory);
        File.WriteAllBytes(Path.Combine(directory, "train-images-idx3-ubyte.gz"), Gzip(Images(train)));
        File.WriteAllBytes(Path.Combine(directory, "train-labels-idx1-ubyte.gz"), Gzip(Labels(train)));
        File.WriteAllBytes(Path.Combine(directory, "t10k-images-idx3-ubyte"), Images(test));
        File.WriteAllBytes(Path.Combine(directory, "t10k-labels-idx1-ubyte"), Labels(test, offset: 3));
    }
}

/// <summary>A fresh directory under the temp folder, deleted on dispose.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "kd-data-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>A forward-only view of a stream (length unknown), like a network or pipe.</summary>
internal sealed class NonSeekableStream(Stream inner) : Stream
{
    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, Math.Min(count, 7));
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
