using System.Buffers.Binary;
using System.IO.Compression;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using KnowledgeDistillation.IO;

namespace KnowledgeDistillation.Data;

/// <summary>
/// Reads files in the IDX format used by MNIST and Fashion-MNIST: a big-endian magic number
/// <c>0x00 0x00 &lt;type code&gt; &lt;dimension count&gt;</c>, one big-endian int32 size per dimension,
/// then the elements in row-major order, big-endian. Plain and gzip-compressed files are both accepted;
/// gzip is recognised by its magic bytes <c>1f 8b</c>, not by the file name.
/// </summary>
/// <remarks>
/// Every structural problem (bad magic number, unknown type code, unsupported dimension count, negative
/// or overflowing sizes, truncated data, trailing bytes, corrupt gzip) raises an
/// <see cref="InvalidDataException"/> whose message names the file and the problem. Memory is bounded:
/// the declared size is checked against a limit (and, for plain files, against the file length) before
/// anything is allocated, and compressed data is read into a buffer that grows only as data arrives.
/// For gzip input the checks apply to the decompressed bytes, and the input must be one complete gzip
/// member that ends the file: its 8-byte trailer (CRC-32 and length of the decompressed data) must be
/// present, must match, and must be the last bytes. A missing or cut trailer, bytes after the trailer
/// (which <c>gzip -d</c> would ignore) and several concatenated gzip members are rejected.
/// </remarks>
public static class IdxReader
{
    /// <summary>The default cap on the size of the data section, in bytes (the largest .NET array, just under 2 GiB).</summary>
    public const long DefaultMaxDataBytes = 0x7FFFFFC7;

    /// <summary>The largest dimension count accepted. The format allows 255; real files use 1 to 4.</summary>
    public const int MaxDimensions = 8;

    private const int InitialBufferBytes = 1 << 20;

    /// <summary>Reads an IDX file, plain or gzip-compressed.</summary>
    /// <param name="path">The file to read.</param>
    /// <param name="maxDataBytes">The largest data section accepted, in bytes (1..<see cref="DefaultMaxDataBytes"/>).</param>
    /// <returns>The shape, element type and elements of the file.</returns>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxDataBytes"/> is out of range.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a well-formed IDX file.</exception>
    public static IdxArray Read(string path, long maxDataBytes = DefaultMaxDataBytes)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        CheckLimit(maxDataBytes);
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        return ReadCore(file, path, maxDataBytes);
    }

    /// <summary>
    /// Reads one IDX array from <paramref name="stream"/>, plain or gzip-compressed, which must end right
    /// after the data. The stream is read to its end and left open.
    /// </summary>
    /// <param name="stream">A readable stream positioned at the start of the IDX data.</param>
    /// <param name="sourceName">A name for the data (such as a file name or URL) used in error messages.</param>
    /// <param name="maxDataBytes">The largest data section accepted, in bytes (1..<see cref="DefaultMaxDataBytes"/>).</param>
    /// <returns>The shape, element type and elements of the data.</returns>
    /// <exception cref="ArgumentException"><paramref name="stream"/> is not readable, or <paramref name="sourceName"/> is empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxDataBytes"/> is out of range.</exception>
    /// <exception cref="InvalidDataException">The data is not a well-formed IDX array.</exception>
    public static IdxArray Read(Stream stream, string sourceName, long maxDataBytes = DefaultMaxDataBytes)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentException.ThrowIfNullOrWhiteSpace(sourceName);
        if (!stream.CanRead)
        {
            throw new ArgumentException("The stream must be readable.", nameof(stream));
        }

        CheckLimit(maxDataBytes);
        return ReadCore(stream, sourceName, maxDataBytes);
    }

    /// <summary>The size in bytes of one element of <paramref name="type"/>.</summary>
    /// <param name="type">The element type.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="type"/> is not a defined IDX type.</exception>
    public static int ElementSize(IdxElementType type) => type switch
    {
        IdxElementType.UInt8 or IdxElementType.Int8 => 1,
        IdxElementType.Int16 => 2,
        IdxElementType.Int32 or IdxElementType.Float32 => 4,
        IdxElementType.Float64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "Not an IDX element type."),
    };

    private static void CheckLimit(long maxDataBytes)
    {
        if (maxDataBytes < 1 || maxDataBytes > DefaultMaxDataBytes)
        {
            throw new ArgumentOutOfRangeException(
                nameof(maxDataBytes), maxDataBytes, $"'{nameof(maxDataBytes)}' must be in [1, {DefaultMaxDataBytes}].");
        }
    }

    private static IdxArray ReadCore(Stream source, string name, long maxDataBytes)
    {
        // Sniff the gzip magic, then replay the sniffed bytes in front of the rest of the stream.
        var sniff = new byte[2];
        var sniffed = ReadFully(source, sniff, name);
        var gzip = sniffed == 2 && sniff[0] == 0x1f && sniff[1] == 0x8b;
        long? available = null;
        if (!gzip && source.CanSeek)
        {
            available = source.Length - source.Position + sniffed;
        }

        using var replay = new PrefixStream(sniff.AsMemory(0, sniffed), source);
        if (!gzip)
        {
            return Parse(replay, name, gzip: false, available, maxDataBytes);
        }

        using var compressed = new TailStream(replay);
        using var gunzip = new GZipStream(compressed, CompressionMode.Decompress, leaveOpen: true);
        using var decompressed = new Crc32Stream(gunzip);
        var array = Parse(decompressed, name, gzip: true, available, maxDataBytes);
        CheckGzipEnd(compressed, decompressed, name);
        return array;
    }

    /// <summary>
    /// After the decompressed data ended: the compressed input must end too, with the gzip trailer of the data. .NET's
    /// decompressor checks a trailer that is present but accepts input that stops before it or goes on after it.
    /// </summary>
    private static void CheckGzipEnd(TailStream compressed, Crc32Stream decompressed, string name)
    {
        Span<byte> probe = stackalloc byte[1];
        if (compressed.Read(probe) != 0)
        {
            throw Invalid(name, "trailing bytes after the end of the gzip stream; a gzip-compressed IDX file must end with its gzip trailer.");
        }

        Span<byte> trailer = stackalloc byte[8];
        BinaryPrimitives.WriteUInt32LittleEndian(trailer, decompressed.Crc);
        BinaryPrimitives.WriteUInt32LittleEndian(trailer[4..], unchecked((uint)decompressed.ByteCount));
        if (compressed.Count < 18 || !compressed.Tail.SequenceEqual(trailer))
        {
            throw Invalid(name, "the gzip trailer is missing, cut or not at the end of the file: the last 8 bytes must be the CRC-32 " +
                $"(0x{decompressed.Crc:X8}) and length ({decompressed.ByteCount} bytes, mod 2^32) of the decompressed data. " +
                "The file is truncated, has bytes after the compressed data, or joins several gzip members (not supported).");
        }
    }

    private static IdxArray Parse(Stream data, string name, bool gzip, long? available, long maxDataBytes)
    {
        Span<byte> magic = stackalloc byte[4];
        var got = ReadFully(data, magic, name);
        if (got < 4)
        {
            throw Invalid(name, $"it is {got} bytes long{(gzip ? " after decompression" : string.Empty)}; " +
                "an IDX file starts with a 4-byte magic number.");
        }

        if (magic[0] != 0 || magic[1] != 0)
        {
            throw Invalid(name, $"bad magic number 0x{BinaryPrimitives.ReadUInt32BigEndian(magic):X8}: " +
                "the first two bytes must be zero (expected 0x0000TTDD, TT = element type code, DD = dimension count). " +
                "Is this an IDX file?");
        }

        var type = (IdxElementType)magic[2];
        if (!Enum.IsDefined(type))
        {
            throw Invalid(name, $"unknown element type code 0x{magic[2]:X2}; expected 0x08 (ubyte), 0x09 (sbyte), " +
                "0x0B (int16), 0x0C (int32), 0x0D (float32) or 0x0E (float64).");
        }

        var rank = magic[3];
        if (rank == 0 || rank > MaxDimensions)
        {
            throw Invalid(name, $"the header declares {rank} dimensions; between 1 and {MaxDimensions} are supported.");
        }

        Span<byte> sizes = stackalloc byte[4 * rank];
        got = ReadFully(data, sizes, name);
        if (got < sizes.Length)
        {
            throw Invalid(name, $"truncated header: it declares {rank} dimensions but ends after {got / 4} dimension sizes.");
        }

        var shape = new int[rank];
        for (var i = 0; i < rank; i++)
        {
            var size = BinaryPrimitives.ReadInt32BigEndian(sizes.Slice(4 * i, 4));
            if (size < 0)
            {
                throw Invalid(name, $"dimension {i} has size {(uint)size}, which is above the supported maximum {int.MaxValue}.");
            }

            shape[i] = size;
        }

        var elementSize = ElementSize(type);
        var shapeText = $"{Guard.FormatShape(shape.Select(d => (long)d))} {type}";
        var count = ElementCount(shape, maxDataBytes / elementSize, name, shapeText, maxDataBytes);
        var dataBytes = count * elementSize;

        var headerBytes = 4L + (4L * rank);
        if (available is { } length)
        {
            if (length < headerBytes + dataBytes)
            {
                throw Invalid(name, $"truncated data: the header declares {shapeText} = {dataBytes} data bytes, " +
                    $"but only {length - headerBytes} bytes follow the header.");
            }

            if (length > headerBytes + dataBytes)
            {
                throw Invalid(name, $"{length - headerBytes - dataBytes} trailing bytes after the {dataBytes} data bytes " +
                    $"declared by the header ({shapeText}).");
            }
        }

        var exact = available is not null;
        Array elements = type switch
        {
            IdxElementType.UInt8 => ReadElements<byte>(data, (int)count, exact, name, shapeText),
            IdxElementType.Int8 => ReadElements<sbyte>(data, (int)count, exact, name, shapeText),
            IdxElementType.Int16 => ReadElements<short>(data, (int)count, exact, name, shapeText),
            IdxElementType.Int32 => ReadElements<int>(data, (int)count, exact, name, shapeText),
            IdxElementType.Float32 => ReadElements<float>(data, (int)count, exact, name, shapeText),
            _ => ReadElements<double>(data, (int)count, exact, name, shapeText),
        };

        Span<byte> probe = stackalloc byte[1];
        if (ReadFully(data, probe, name) != 0)
        {
            throw Invalid(name, $"trailing data after the {dataBytes} data bytes declared by the header ({shapeText}).");
        }

        if (BitConverter.IsLittleEndian)
        {
            SwapToLittleEndian(elements);
        }

        return new IdxArray(type, shape, elements);
    }

    private static long ElementCount(int[] shape, long maxElements, string name, string shapeText, long maxDataBytes)
    {
        if (Array.IndexOf(shape, 0) >= 0)
        {
            return 0;
        }

        var count = 1L;
        foreach (var size in shape)
        {
            // Both factors are below 2^31 while count <= maxElements < 2^31, so the product cannot overflow.
            count *= size;
            if (count > maxElements)
            {
                throw Invalid(name, $"the header declares {shapeText}, more than {maxElements} elements " +
                    $"({maxDataBytes} bytes, the limit for one IDX array). The sizes are corrupt or the file is too large.");
            }
        }

        return count;
    }

    private static T[] ReadElements<T>(Stream data, int count, bool exact, string name, string shapeText)
        where T : unmanaged
    {
        var size = Unsafe.SizeOf<T>();
        var capacity = exact ? count : Math.Min(count, Math.Max(1, InitialBufferBytes / size));
        var buffer = new T[capacity];
        var filled = 0;
        while (true)
        {
            var target = MemoryMarshal.AsBytes(buffer.AsSpan(filled));
            var got = ReadFully(data, target, name);
            if (got < target.Length)
            {
                var read = ((long)filled * size) + got;
                throw Invalid(name, $"truncated data: the header declares {shapeText} = {(long)count * size} data bytes, " +
                    $"but only {read} bytes follow the header.");
            }

            filled = buffer.Length;
            if (filled == count)
            {
                return buffer;
            }

            // Grow only as data actually arrives, so a lying header cannot force a huge allocation up front.
            Array.Resize(ref buffer, (int)Math.Min(count, 2L * buffer.Length));
        }
    }

    private static void SwapToLittleEndian(Array elements)
    {
        switch (elements)
        {
            case short[] a:
                BinaryPrimitives.ReverseEndianness(a, a);
                break;
            case int[] a:
                BinaryPrimitives.ReverseEndianness(a, a);
                break;
            case float[] a:
                var floats = MemoryMarshal.Cast<float, int>(a.AsSpan());
                BinaryPrimitives.ReverseEndianness(floats, floats);
                break;
            case double[] a:
                var doubles = MemoryMarshal.Cast<double, long>(a.AsSpan());
                BinaryPrimitives.ReverseEndianness(doubles, doubles);
                break;
        }
    }

    /// <summary>Reads until <paramref name="buffer"/> is full or the stream ends; decompression errors become <see cref="InvalidDataException"/>s naming the file.</summary>
    private static int ReadFully(Stream stream, Span<byte> buffer, string name)
    {
        try
        {
            return stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"IDX file '{name}' is invalid: corrupt gzip data ({e.Message}).", e);
        }
    }

    private static InvalidDataException Invalid(string name, string what) => new($"IDX file '{name}' is invalid: {what}");

    /// <summary>A read-only, forward-only view of a stream that remembers how many bytes it passed on and the last 8 of them.</summary>
    private sealed class TailStream(Stream inner) : ForwardOnlyStream
    {
        private readonly byte[] _tail = new byte[8];

        public long Count { get; private set; }

        public ReadOnlySpan<byte> Tail => _tail.AsSpan((int)Math.Max(0, 8 - Count));

        public override int Read(Span<byte> buffer)
        {
            var got = inner.Read(buffer);
            var chunk = buffer[..got];
            if (got >= 8)
            {
                chunk[^8..].CopyTo(_tail);
            }
            else if (got > 0)
            {
                _tail.AsSpan(got).CopyTo(_tail);
                chunk.CopyTo(_tail.AsSpan(8 - got));
            }

            Count += got;
            return got;
        }
    }

    /// <summary>A read-only, forward-only view of a stream that computes the CRC-32 and length of what it passed on.</summary>
    private sealed class Crc32Stream(Stream inner) : ForwardOnlyStream
    {
        public uint Crc { get; private set; }

        public long ByteCount { get; private set; }

        public override int Read(Span<byte> buffer)
        {
            var got = inner.Read(buffer);
            Crc = Crc32.Append(Crc, buffer[..got]);
            ByteCount += got;
            return got;
        }
    }

    /// <summary>The members shared by the reader's read-only, forward-only streams.</summary>
    private abstract class ForwardOnlyStream : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public abstract override int Read(Span<byte> buffer);

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>A read-only, forward-only stream that yields a few already-consumed bytes, then the rest of an inner stream.</summary>
    private sealed class PrefixStream(ReadOnlyMemory<byte> prefix, Stream inner) : ForwardOnlyStream
    {
        private ReadOnlyMemory<byte> _prefix = prefix;

        public override int Read(Span<byte> buffer)
        {
            if (_prefix.IsEmpty)
            {
                return inner.Read(buffer);
            }

            var n = Math.Min(buffer.Length, _prefix.Length);
            _prefix.Span[..n].CopyTo(buffer);
            _prefix = _prefix[n..];
            return n;
        }
    }
}
