using System.Numerics;

namespace KnowledgeDistillation.IO;

/// <summary>
/// The CRC-32C (Castagnoli, reflected polynomial 0x82F63B78) that TFRecord and TensorBoard event files use, computed with
/// <see cref="BitOperations.Crc32C(uint, byte)"/> (the processor's CRC instruction where it has one), as the disk sample
/// store's row checksums are.
/// </summary>
internal static class Crc32C
{
    /// <summary>The CRC-32C of <paramref name="data"/> (initial value and final XOR 0xFFFFFFFF).</summary>
    public static uint Compute(ReadOnlySpan<byte> data)
    {
        var c = uint.MaxValue;
        foreach (var b in data)
        {
            c = BitOperations.Crc32C(c, b);
        }

        return ~c;
    }

    /// <summary>TFRecord's masked CRC: the CRC-32C rotated right by 15 bits plus 0xa282ead8.</summary>
    public static uint Masked(ReadOnlySpan<byte> data)
    {
        var crc = Compute(data);
        return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
    }
}
