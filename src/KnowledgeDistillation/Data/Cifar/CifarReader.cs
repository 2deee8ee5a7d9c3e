namespace KnowledgeDistillation.Data;

/// <summary>
/// Reads the official CIFAR-10 and CIFAR-100 binary files ("binary version, suitable for C programs"): a sequence of
/// fixed-size records, CIFAR-10 <c>&lt;1 label byte&gt;&lt;3072 pixel bytes&gt;</c> (<c>data_batch_1.bin</c> ..
/// <c>data_batch_5.bin</c>, <c>test_batch.bin</c>), CIFAR-100 <c>&lt;1 coarse label byte&gt;&lt;1 fine label byte&gt;&lt;3072
/// pixel bytes&gt;</c> (<c>train.bin</c>, <c>test.bin</c>).
/// </summary>
/// <remarks>
/// Every malformed input is an <see cref="InvalidDataException"/> naming the source and the field: an empty file, a
/// length that is not a whole number of records (record size), or a label outside its range (label, coarse label,
/// fine label, with the record index). Nothing larger than <c>maxBytes</c> is read.
/// </remarks>
public static class CifarReader
{
    /// <summary>The pixel bytes of one 32x32 RGB image (channel-planar).</summary>
    public const int ImageBytes = 3 * 32 * 32;

    /// <summary>The default cap on the bytes read from one file (the largest official file, CIFAR-100's train.bin, is 153,700,000 bytes).</summary>
    public const long DefaultMaxBytes = 256L << 20;

    /// <summary>The size in bytes of one record of <paramref name="variant"/>: 3073 for CIFAR-10, 3074 for CIFAR-100.</summary>
    /// <param name="variant">The dataset.</param>
    public static int RecordSize(CifarVariant variant) => variant switch
    {
        CifarVariant.Cifar10 => 1 + ImageBytes,
        CifarVariant.Cifar100 => 2 + ImageBytes,
        _ => throw new ArgumentOutOfRangeException(nameof(variant), variant, "Expected Cifar10 or Cifar100."),
    };

    /// <summary>The number of classes of <paramref name="variant"/>'s labels (10, or 100 fine classes).</summary>
    /// <param name="variant">The dataset.</param>
    public static int ClassCount(CifarVariant variant) => variant == CifarVariant.Cifar10 ? 10 : 100;

    /// <summary>Reads a CIFAR binary file.</summary>
    /// <param name="path">The file.</param>
    /// <param name="variant">The record layout to expect.</param>
    /// <param name="maxBytes">The largest file accepted, in bytes, &gt;= 1.</param>
    /// <returns>The records.</returns>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is malformed; the message names the file and the field.</exception>
    public static CifarArray Read(string path, CifarVariant variant, long maxBytes = DefaultMaxBytes)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        return Read(file, path, variant, maxBytes);
    }

    /// <summary>Reads CIFAR records from <paramref name="stream"/> to its end (the stream is left open).</summary>
    /// <param name="stream">A readable stream positioned at the first record.</param>
    /// <param name="sourceName">A name for the data (a file name or URL) used in error messages.</param>
    /// <param name="variant">The record layout to expect.</param>
    /// <param name="maxBytes">The most bytes accepted, &gt;= 1.</param>
    /// <returns>The records.</returns>
    /// <exception cref="ArgumentException">The stream is not readable, or <paramref name="sourceName"/> is empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxBytes"/> is below 1, or <paramref name="variant"/> is undefined.</exception>
    /// <exception cref="InvalidDataException">The data is malformed; the message names the source and the field.</exception>
    public static CifarArray Read(Stream stream, string sourceName, CifarVariant variant, long maxBytes = DefaultMaxBytes)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentException.ThrowIfNullOrWhiteSpace(sourceName);
        if (!stream.CanRead)
        {
            throw new ArgumentException("The stream must be readable.", nameof(stream));
        }

        if (maxBytes < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(maxBytes), maxBytes, "The byte limit must be >= 1.");
        }

        var recordSize = RecordSize(variant);
        var name = variant == CifarVariant.Cifar10 ? "CIFAR-10" : "CIFAR-100";
        var bytes = ReadAll(stream, sourceName, maxBytes);
        if (bytes.Length == 0)
        {
            throw new InvalidDataException($"{name} file '{sourceName}' is empty; it must hold at least one {recordSize}-byte record.");
        }

        if (bytes.Length % recordSize != 0)
        {
            throw new InvalidDataException(
                $"{name} file '{sourceName}': record size: its {bytes.Length} bytes are not a whole number of {recordSize}-byte records " +
                $"({(variant == CifarVariant.Cifar10 ? "1 label byte" : "1 coarse and 1 fine label byte")} + {ImageBytes} pixel bytes); " +
                $"{bytes.Length / recordSize} full records and {bytes.Length % recordSize} bytes left over. The file is cut, or holds the other CIFAR variant.");
        }

        var count = bytes.Length / recordSize;
        var labels = new byte[count];
        var coarse = variant == CifarVariant.Cifar100 ? new byte[count] : null;
        var pixels = new byte[(long)count * ImageBytes];
        var labelBytes = recordSize - ImageBytes;
        for (var r = 0; r < count; r++)
        {
            var record = bytes.AsSpan(r * recordSize, recordSize);
            if (coarse is not null)
            {
                coarse[r] = CheckLabel(record[0], 20, "coarse label", (long)r * recordSize, r, name, sourceName);
                labels[r] = CheckLabel(record[1], 100, "fine label", ((long)r * recordSize) + 1, r, name, sourceName);
            }
            else
            {
                labels[r] = CheckLabel(record[0], 10, "label", (long)r * recordSize, r, name, sourceName);
            }

            record[labelBytes..].CopyTo(pixels.AsSpan(r * ImageBytes, ImageBytes));
        }

        return new CifarArray(variant, labels, coarse, pixels);
    }

    private static byte CheckLabel(byte value, int classes, string field, long offset, int record, string name, string source) =>
        value < classes
            ? value
            : throw new InvalidDataException(
                $"{name} file '{source}': {field} of record {record} (byte offset {offset}) " +
                $"is {value}, outside 0..{classes - 1}. The file is corrupt, or holds the other CIFAR variant.");

    private static byte[] ReadAll(Stream stream, string sourceName, long maxBytes)
    {
        if (stream.CanSeek)
        {
            var remaining = stream.Length - stream.Position;
            if (remaining > maxBytes)
            {
                throw new InvalidDataException($"CIFAR file '{sourceName}' is {remaining} bytes, more than the {maxBytes} accepted.");
            }

            var buffer = new byte[remaining];
            stream.ReadExactly(buffer);
            return buffer;
        }

        using var copy = new MemoryStream();
        var chunk = new byte[1 << 16];
        int n;
        while ((n = stream.Read(chunk, 0, chunk.Length)) > 0)
        {
            if (copy.Length + n > maxBytes)
            {
                throw new InvalidDataException($"CIFAR data '{sourceName}' holds more than the {maxBytes} bytes accepted.");
            }

            copy.Write(chunk, 0, n);
        }

        return copy.ToArray();
    }
}
