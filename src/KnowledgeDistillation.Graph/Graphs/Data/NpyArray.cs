using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace KnowledgeDistillation.Graph.Graphs;

/// <summary>One array of a NumPy <c>.npy</c> file: its dtype descriptor, shape and raw little-endian bytes.</summary>
internal sealed partial class NpyArray
{
    private NpyArray(string name, string descr, long itemSize, long[] shape, long length, byte[] data)
    {
        Name = name;
        Descr = descr;
        ItemSize = itemSize;
        Shape = shape;
        Length = length;
        Data = data;
    }

    public string Name { get; }

    public string Descr { get; }

    public long[] Shape { get; }

    public byte[] Data { get; }

    /// <summary>The element count; <see cref="Parse"/> checked that <see cref="Data"/> holds this many elements.</summary>
    public long Length { get; }

    /// <summary>The size of one element in bytes, at least 1.</summary>
    public long ItemSize { get; }

    public static NpyArray Parse(string name, byte[] bytes)
    {
        if (bytes.Length < 10 || bytes[0] != 0x93 || Encoding.ASCII.GetString(bytes, 1, 5) != "NUMPY")
        {
            throw new InvalidDataException($"Array '{name}' is not a .npy array (missing the \\x93NUMPY magic).");
        }

        var major = bytes[6];
        long headerLength;
        int headerStart;
        if (major == 1)
        {
            headerLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8, 2));
            headerStart = 10;
        }
        else if (major is 2 or 3)
        {
            if (bytes.Length < 12)
            {
                throw new InvalidDataException($"Array '{name}' is truncated: its format-{major} preamble needs 12 bytes, found {bytes.Length}.");
            }

            headerLength = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8, 4));
            headerStart = 12;
        }
        else
        {
            throw new InvalidDataException($"Array '{name}' uses .npy format version {major}, which is not supported (1, 2 or 3).");
        }

        if (headerStart + headerLength > bytes.Length)
        {
            throw new InvalidDataException(
                $"Array '{name}' is truncated: its header declares {headerLength} bytes, but only {bytes.Length - headerStart} follow the preamble.");
        }

        var header = Encoding.UTF8.GetString(bytes, headerStart, (int)headerLength);
        var descr = DescrPattern().Match(header) is { Success: true } d ? d.Groups[1].Value
            : throw new InvalidDataException($"Array '{name}' has no 'descr' in its header: {header.Trim()}");
        if (FortranPattern().Match(header) is { Success: true } f && f.Groups[1].Value == "True")
        {
            throw new InvalidDataException($"Array '{name}' is stored in Fortran order, which is not supported; save it C-contiguous.");
        }

        var shapeMatch = ShapePattern().Match(header);
        if (!shapeMatch.Success)
        {
            throw new InvalidDataException($"Array '{name}' has no 'shape' in its header: {header.Trim()}");
        }

        var shapeText = shapeMatch.Groups[1].Value;
        var shape = shapeText
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(s => long.TryParse(s.TrimEnd('L'), NumberStyles.None, CultureInfo.InvariantCulture, out var d)
                ? d
                : throw new InvalidDataException(
                    $"Array '{name}' has shape ({shapeText}) in its header; expected non-negative integers (decimal digits), found '{s}'."))
            .ToArray();
        var itemSize = ParseItemSize(name, descr);
        if (descr.StartsWith('>') && itemSize > 1)
        {
            throw new InvalidDataException($"Array '{name}' is big-endian ('{descr}'); only little-endian arrays are supported.");
        }

        if (descr.Contains('O'))
        {
            throw new InvalidDataException($"Array '{name}' holds Python objects ('{descr}'), which cannot be read without pickle.");
        }

        // The element count, bounded by what the data bytes can hold before it is multiplied out (no overflow, no allocation).
        var available = bytes.Length - headerStart - headerLength;
        var maxElements = available / itemSize;
        var length = shape.Contains(0) ? 0 : 1L;
        foreach (var dim in shape)
        {
            if (length != 0 && dim > maxElements / length)
            {
                throw new InvalidDataException(
                    $"Array '{name}' is truncated: shape {Guard.FormatShape(shape)} of '{descr}' needs more than the {available} data bytes found " +
                    $"(at most {maxElements} elements of {itemSize} bytes).");
            }

            length = length == 0 ? 0 : length * dim;
        }

        var data = bytes.AsSpan((int)(headerStart + headerLength)).ToArray();
        return new NpyArray(name, descr, itemSize, shape, length, data);
    }

    public long[] ToInt64()
    {
        var n = checked((int)Length);
        var result = new long[n];
        var span = Data.AsSpan();
        var kind = Descr.TrimStart('<', '>', '|', '=');
        for (var i = 0; i < n; i++)
        {
            result[i] = kind switch
            {
                "i1" => (sbyte)span[i],
                "u1" or "b1" => span[i],
                "i2" => BinaryPrimitives.ReadInt16LittleEndian(span[(2 * i)..]),
                "u2" => BinaryPrimitives.ReadUInt16LittleEndian(span[(2 * i)..]),
                "i4" => BinaryPrimitives.ReadInt32LittleEndian(span[(4 * i)..]),
                "u4" => BinaryPrimitives.ReadUInt32LittleEndian(span[(4 * i)..]),
                "i8" => BinaryPrimitives.ReadInt64LittleEndian(span[(8 * i)..]),
                "u8" => ToInt64(BinaryPrimitives.ReadUInt64LittleEndian(span[(8 * i)..]), i),
                _ => throw new InvalidDataException($"Array '{Name}' must hold integers; it holds '{Descr}'."),
            };
        }

        return result;
    }

    private long ToInt64(ulong value, int index) =>
        value <= long.MaxValue
            ? (long)value
            : throw new InvalidDataException($"Array '{Name}' holds {value} at index {index}, above the largest supported integer {long.MaxValue}.");

    public float[] ToSingle()
    {
        var n = checked((int)Length);
        var kind = Descr.TrimStart('<', '>', '|', '=');
        return kind switch
        {
            "f4" => ReadSingles(n),
            "f8" => ReadDoubles(n),
            _ when kind.StartsWith('i') || kind.StartsWith('u') || kind == "b1" => ToInt64().Select(v => (float)v).ToArray(),
            _ => throw new InvalidDataException($"Array '{Name}' must hold numbers; it holds '{Descr}'."),
        };
    }

    public string[] ToStrings()
    {
        var kind = Descr.TrimStart('<', '>', '|', '=');
        var n = checked((int)Length);
        if (kind.StartsWith('U'))
        {
            var width = checked((int)ItemSize);
            return Enumerable.Range(0, n)
                .Select(i => Encoding.UTF32.GetString(Data, i * width, width).TrimEnd('\0'))
                .ToArray();
        }

        if (kind.StartsWith('S'))
        {
            var width = checked((int)ItemSize);
            return Enumerable.Range(0, n).Select(i => Encoding.ASCII.GetString(Data, i * width, width).TrimEnd('\0')).ToArray();
        }

        throw new InvalidDataException($"Array '{Name}' must hold strings ('<U..' or '|S..'); it holds '{Descr}'.");
    }

    private float[] ReadSingles(int n)
    {
        var span = Data.AsSpan();
        var result = new float[n];
        for (var i = 0; i < n; i++)
        {
            result[i] = BinaryPrimitives.ReadSingleLittleEndian(span[(4 * i)..]);
        }

        return result;
    }

    private float[] ReadDoubles(int n)
    {
        var span = Data.AsSpan();
        var result = new float[n];
        for (var i = 0; i < n; i++)
        {
            result[i] = (float)BinaryPrimitives.ReadDoubleLittleEndian(span[(8 * i)..]);
        }

        return result;
    }

    private static long ParseItemSize(string name, string descr)
    {
        var kind = descr.TrimStart('<', '>', '|', '=');
        var letters = kind.TakeWhile(char.IsAsciiLetter).Count();
        var digits = kind[letters..];
        if (letters == 0 || (digits.Length > 0 && !long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out _)))
        {
            throw new InvalidDataException($"Array '{name}' has dtype '{descr}'; expected a type code and item size such as '<f4', '<i8' or '<U12'.");
        }

        var size = digits.Length == 0 ? 1 : long.Parse(digits, NumberStyles.None, CultureInfo.InvariantCulture);
        if (size < 1 || size > int.MaxValue / 4)
        {
            throw new InvalidDataException($"Array '{name}' has dtype '{descr}' with item size {size}; expected 1 to {int.MaxValue / 4}.");
        }

        return kind.StartsWith('U') ? size * 4 : size;
    }

    [GeneratedRegex(@"'descr'\s*:\s*'([^']*)'")]
    private static partial Regex DescrPattern();

    [GeneratedRegex(@"'fortran_order'\s*:\s*(True|False)")]
    private static partial Regex FortranPattern();

    [GeneratedRegex(@"'shape'\s*:\s*\(([^)]*)\)")]
    private static partial Regex ShapePattern();
}
