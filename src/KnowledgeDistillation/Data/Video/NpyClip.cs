using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace KnowledgeDistillation.Data;

/// <summary>
/// Reads a clip stored as a NumPy <c>.npy</c> array (format versions 1-3, C order; uint8, float32 or float64, little-endian):
/// <c>[T, H, W]</c> (grey) or <c>[T, H, W, C]</c> / <c>[T, C, H, W]</c> after <see cref="NpyClipLayout"/>, into float32 <c>[T, C, H, W]</c>.
/// </summary>
public static partial class NpyClip
{
    private static readonly byte[] Magic = { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y' };

    /// <summary>Reads the clip in <paramref name="path"/>.</summary>
    /// <param name="path">The <c>.npy</c> file.</param>
    /// <param name="layout">How a 4-D array is laid out.</param>
    /// <param name="scaleBytes">Divide uint8 values by 255 (default true).</param>
    /// <returns>The values (float32, row-major) and the shape <c>[T, C, H, W]</c>.</returns>
    /// <exception cref="InvalidDataException">Not a supported <c>.npy</c> file, a rank other than 3 or 4, or a size that does not match the header (the message names the file).</exception>
    public static (float[] Values, int[] Shape) Read(string path, NpyClipLayout layout = NpyClipLayout.FramesHeightWidthChannels, bool scaleBytes = true)
    {
        ArgumentNullException.ThrowIfNull(path);
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < 10 || !bytes.AsSpan(0, 6).SequenceEqual(Magic))
        {
            throw new InvalidDataException($"'{path}' is not a .npy file (no \\x93NUMPY magic).");
        }

        var major = bytes[6];
        var (headerLength, start) = major switch
        {
            1 => (BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8, 2)), 10),
            2 or 3 when bytes.Length >= 12 => ((int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8, 4)), 12),
            _ => throw new InvalidDataException($"'{path}' has .npy format version {major}; versions 1-3 are supported."),
        };
        if (headerLength < 0 || start + (long)headerLength > bytes.Length)
        {
            throw new InvalidDataException($"'{path}' states a header of {headerLength} bytes; the file has {bytes.Length}.");
        }

        var header = Encoding.Latin1.GetString(bytes, start, headerLength);
        var descr = DescrPattern().Match(header);
        var fortran = FortranPattern().Match(header);
        var shapeMatch = ShapePattern().Match(header);
        if (!descr.Success || !fortran.Success || !shapeMatch.Success)
        {
            throw new InvalidDataException($"'{path}' has a .npy header without 'descr', 'fortran_order' or 'shape': {header.Trim()}");
        }

        if (fortran.Groups[1].Value != "False")
        {
            throw new InvalidDataException($"'{path}' is in Fortran order; save the clip in C order (numpy.ascontiguousarray).");
        }

        var dims = shapeMatch.Groups[1].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(d => long.TryParse(d, NumberStyles.None, CultureInfo.InvariantCulture, out var v) && v is >= 1 and <= int.MaxValue ? (int)v : throw new InvalidDataException($"'{path}' has a bad dimension '{d}' in its shape."))
            .ToArray();
        var (itemSize, kind) = descr.Groups[1].Value switch
        {
            "|u1" or "<u1" => (1, 'u'),
            "<f4" => (4, 'f'),
            "<f8" => (8, 'd'),
            var other => throw new InvalidDataException($"'{path}' holds '{other}' values; uint8 (|u1), float32 (<f4) or float64 (<f8) are supported."),
        };
        var shape = dims.Length switch
        {
            3 => new[] { dims[0], 1, dims[1], dims[2] },
            4 when layout == NpyClipLayout.FramesHeightWidthChannels => new[] { dims[0], dims[3], dims[1], dims[2] },
            4 => dims,
            _ => throw new InvalidDataException($"'{path}' has shape ({string.Join(", ", dims)}); a clip is [T, H, W] or [T, H, W, C] / [T, C, H, W]."),
        };
        var count = dims.Aggregate(1L, (a, d) => a * d);
        var dataStart = start + headerLength;
        if (count * itemSize != bytes.Length - dataStart || count > Array.MaxLength)
        {
            throw new InvalidDataException($"'{path}' should hold {count} values of {itemSize} bytes after its header; it holds {bytes.Length - dataStart} bytes.");
        }

        var raw = new float[count];
        var data = bytes.AsSpan(dataStart);
        for (var i = 0; i < count; i++)
        {
            raw[i] = kind switch
            {
                'u' => scaleBytes ? data[i] / 255f : data[i],
                'f' => BinaryPrimitives.ReadSingleLittleEndian(data.Slice(i * 4, 4)),
                _ => (float)BinaryPrimitives.ReadDoubleLittleEndian(data.Slice(i * 8, 8)),
            };
        }

        if (dims.Length != 4 || layout != NpyClipLayout.FramesHeightWidthChannels)
        {
            return (raw, shape);
        }

        // [T, H, W, C] -> [T, C, H, W].
        var (t, h, w, c) = (dims[0], dims[1], dims[2], dims[3]);
        var values = new float[count];
        for (var f = 0; f < t; f++)
        {
            for (var y = 0; y < h; y++)
            {
                for (var x = 0; x < w; x++)
                {
                    for (var ch = 0; ch < c; ch++)
                    {
                        values[(((((long)f * c) + ch) * h) + y) * w + x] = raw[(((((long)f * h) + y) * w) + x) * c + ch];
                    }
                }
            }
        }

        return (values, shape);
    }

    [GeneratedRegex(@"'descr'\s*:\s*'([^']*)'")]
    private static partial Regex DescrPattern();

    [GeneratedRegex(@"'fortran_order'\s*:\s*(True|False)")]
    private static partial Regex FortranPattern();

    [GeneratedRegex(@"'shape'\s*:\s*\(([^)]*)\)")]
    private static partial Regex ShapePattern();
}
