namespace KnowledgeDistillation.IO;

/// <summary>The CRC-32C (Castagnoli, reflected polynomial 0x82F63B78) that TFRecord and TensorBoard event files use.</summary>
internal static class Crc32C
{
    private static readonly uint[] Table = BuildTable();

    /// <summary>The CRC-32C of <paramref name="data"/>.</summary>
    public static uint Compute(ReadOnlySpan<byte> data)
    {
        var c = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            c = Table[(int)((c ^ b) & 0xFF)] ^ (c >> 8);
        }

        return ~c;
    }

    /// <summary>TFRecord's masked CRC: the CRC-32C rotated right by 15 bits plus 0xa282ead8.</summary>
    public static uint Masked(ReadOnlySpan<byte> data)
    {
        var crc = Compute(data);
        return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
    }

    private static uint[] BuildTable()
    {
        var table = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            var c = n;
            for (var k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? 0x82F63B78u ^ (c >> 1) : c >> 1;
            }

            table[n] = c;
        }

        return table;
    }
}
