using System.Text;
using KnowledgeDistillation.Data;

namespace KnowledgeDistillation.Fuzz.Targets;

/// <summary>
/// <see cref="NpyClip.Read"/> on <c>.npy</c> clips (the library has no .npy writer; the seeds are encoded here from the format's
/// definition: the <c>\x93NUMPY</c> magic, version 1.0, a little-endian uint16 header length, a Python-dict header padded with
/// spaces to a multiple of 64 bytes and ending in a newline, then the C-order elements).
/// </summary>
internal sealed class NpyClipTarget : FuzzTarget
{
    /// <inheritdoc />
    public override string Name => "npy-clip";

    /// <inheritdoc />
    public override string Api => "NpyClip.Read(path) ([T, H, W] / [T, H, W, C] uint8, float32, float64)";

    /// <inheritdoc />
    public override IReadOnlyList<(string Name, byte[] Data)> CreateSeeds(string scratch) => new[]
    {
        ("npy-u1-2x3x4.npy", Encode("|u1", new[] { 2, 3, 4 }, 1, i => new[] { (byte)(i * 9) })),
        ("npy-f4-2x2x2x1.npy", Encode("<f4", new[] { 2, 2, 2, 1 }, 4, i => BitConverter.GetBytes(i * 0.125f))),
        ("npy-f8-3x2x2.npy", Encode("<f8", new[] { 3, 2, 2 }, 8, i => BitConverter.GetBytes(i * 0.5))),
    };

    /// <inheritdoc />
    public override void Execute(byte[] input, string scratch)
    {
        var file = Path.Combine(scratch, "input.npy");
        File.WriteAllBytes(file, input);
        var (values, shape) = NpyClip.Read(file);
        GC.KeepAlive(values.Length + shape.Length);
    }

    private static byte[] Encode(string descr, int[] shape, int elementSize, Func<int, byte[]> element)
    {
        var dict = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': ({string.Join(", ", shape)}), }}";
        var unpadded = 10 + dict.Length + 1;
        var header = dict + new string(' ', ((unpadded + 63) / 64 * 64) - unpadded) + "\n";
        using var stream = new MemoryStream();
        stream.Write(new byte[] { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0 });
        stream.Write(BitConverter.GetBytes((ushort)header.Length));
        stream.Write(Encoding.ASCII.GetBytes(header));
        var count = shape.Aggregate(1, (a, b) => a * b);
        for (var i = 0; i < count; i++)
        {
            stream.Write(element(i), 0, elementSize);
        }

        return stream.ToArray();
    }
}
