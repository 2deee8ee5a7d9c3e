using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace KnowledgeDistillation.Graph.Graphs;

/// <summary>One array of a NumPy <c>.npy</c> file: its dtype descriptor, shape and raw little-endian bytes.</summary>
internal sealed partial class NpyArray
{
    private NpyArray(string name, string descr, long[] shape, byte[] data)
    {
        Name = name;
        Descr = descr;
        Shape = shape;
        Data = data;
    }

    public string Name { get; }

    public string Descr { get; }

    public long[] Shape { get; }

    public byte[] Data { get; }

    public long Length => Shape.Aggregate(1L, (a, b) => a * b);

    public static NpyArray Parse(string name, byte[] bytes)
    {
        if (bytes.Length < 10 || bytes[0] != 0x93 || Encoding.ASCII.GetString(bytes, 1, 5) != "NUMPY")
        {
            throw new InvalidDataException($"Array '{name}' is not a .npy array (missing the \\x93NUMPY magic).");
        }

        var major = bytes[6];
        int headerLength, headerStart;
        if (major == 1)
        {
            headerLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8, 2));
            headerStart = 10;
        }
        else if (major is 2 or 3)
        {
            headerLength = (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8, 4));
            headerStart = 12;
        }
        else
        {
            throw new InvalidDataException($"Array '{name}' uses .npy format version {major}, which is not supported (1, 2 or 3).");
        }

        if (headerStart + headerLength > bytes.Length)
        {
            throw new InvalidDataException($"Array '{name}' is truncated: its header is longer than the file.");
        }

        var header = Encoding.UTF8.GetString(bytes, headerStart, headerLength);
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

        var shape = shapeMatch.Groups[1].Value
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(s => long.Parse(s.TrimEnd('L'), CultureInfo.InvariantCulture))
            .ToArray();
        if (descr.StartsWith('>') && ItemSize(descr) > 1)
        {
            throw new InvalidDataException($"Array '{name}' is big-endian ('{descr}'); only little-endian arrays are supported.");
        }

        if (descr.Contains('O'))
        {
            throw new InvalidDataException($"Array '{name}' holds Python objects ('{descr}'), which cannot be read without pickle.");
        }

        var data = bytes.AsSpan(headerStart + headerLength).ToArray();
        var array = new NpyArray(name, descr, shape, data);
        var expected = array.Length * ItemSize(descr);
        if (data.Length < expected)
        {
            throw new InvalidDataException(
                $"Array '{name}' is truncated: shape {Guard.FormatShape(shape)} of '{descr}' needs {expected} bytes, found {data.Length}.");
        }

        return array;
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
                "u8" => checked((long)BinaryPrimitives.ReadUInt64LittleEndian(span[(8 * i)..])),
                _ => throw new InvalidDataException($"Array '{Name}' must hold integers; it holds '{Descr}'."),
            };
        }

        return result;
    }

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
            var width = int.Parse(kind[1..], CultureInfo.InvariantCulture);
            return Enumerable.Range(0, n)
                .Select(i => Encoding.UTF32.GetString(Data, i * width * 4, width * 4).TrimEnd('\0'))
                .ToArray();
        }

        if (kind.StartsWith('S'))
        {
            var width = int.Parse(kind[1..], CultureInfo.InvariantCulture);
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

    private static long ItemSize(string descr)
    {
        var kind = descr.TrimStart('<', '>', '|', '=');
        var digits = new string(kind.SkipWhile(char.IsLetter).ToArray());
        var size = digits.Length == 0 ? 1 : long.Parse(digits, CultureInfo.InvariantCulture);
        return kind.StartsWith('U') ? size * 4 : size;
    }

    [GeneratedRegex(@"'descr'\s*:\s*'([^']*)'")]
    private static partial Regex DescrPattern();

    [GeneratedRegex(@"'fortran_order'\s*:\s*(True|False)")]
    private static partial Regex FortranPattern();

    [GeneratedRegex(@"'shape'\s*:\s*\(([^)]*)\)")]
    private static partial Regex ShapePattern();
}
