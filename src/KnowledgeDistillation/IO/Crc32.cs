namespace KnowledgeDistillation.IO;

/// <summary>
/// The CRC-32 of zip and gzip (ISO 3309 / ITU-T V.42, reflected polynomial 0xEDB88320), table-driven (slicing by 4).
/// Internal; the source file is also compiled into KnowledgeDistillation.Graph.
/// </summary>
internal static class Crc32
{
    private static readonly uint[] Table = BuildTable();

    /// <summary>The CRC-32 of <paramref name="data"/>.</summary>
    public static uint Compute(ReadOnlySpan<byte> data) => Append(0, data);

    /// <summary>Continues <paramref name="crc"/> (the CRC-32 of the bytes so far; 0 for none) with <paramref name="data"/>.</summary>
    public static uint Append(uint crc, ReadOnlySpan<byte> data)
    {
        var t = Table;
        var c = ~crc;
        var i = 0;
        for (; i + 4 <= data.Length; i += 4)
        {
            c ^= (uint)(data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24));
            c = t[768 + (int)(c & 0xFF)] ^ t[512 + (int)((c >> 8) & 0xFF)] ^ t[256 + (int)((c >> 16) & 0xFF)] ^ t[(int)(c >> 24)];
        }

        for (; i < data.Length; i++)
        {
            c = t[(int)((c ^ data[i]) & 0xFF)] ^ (c >> 8);
        }

        return ~c;
    }

    private static uint[] BuildTable()
    {
        var table = new uint[4 * 256];
        for (uint n = 0; n < 256; n++)
        {
            var c = n;
            for (var k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            }

            table[n] = c;
        }

        for (var n = 0; n < 256; n++)
        {
            for (var s = 1; s < 4; s++)
            {
                var previous = table[((s - 1) * 256) + n];
                table[(s * 256) + n] = table[(int)(previous & 0xFF)] ^ (previous >> 8);
            }
        }

        return table;
    }
}
