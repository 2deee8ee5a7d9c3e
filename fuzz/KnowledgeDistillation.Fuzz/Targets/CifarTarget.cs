using KnowledgeDistillation.Data;

namespace KnowledgeDistillation.Fuzz.Targets;

/// <summary>
/// <see cref="CifarReader.Read(string, CifarVariant, long)"/> on CIFAR-10 and CIFAR-100 binary files, then every record
/// through <see cref="CifarDataset"/> (fine and coarse labels) and <see cref="CifarDataset.ToTensorDataset"/>. The
/// input's first byte selects the layout (even: CIFAR-10, odd: CIFAR-100), so mutations also cross the two; the rest is
/// the file. The library has no CIFAR writer: the seeds are encoded here from the format's definition (label byte(s)
/// followed by 3072 channel-planar pixel bytes per record).
/// </summary>
internal sealed class CifarTarget : FuzzTarget
{
    /// <inheritdoc />
    public override string Name => "cifar";

    /// <inheritdoc />
    public override string Api => "CifarReader.Read(path, variant) + CifarDataset.Get/ToTensorDataset";

    /// <inheritdoc />
    public override IReadOnlyList<(string Name, byte[] Data)> CreateSeeds(string scratch) => new[]
    {
        ("cifar10-3.bin", Seed(CifarVariant.Cifar10, 3)),
        ("cifar10-1.bin", Seed(CifarVariant.Cifar10, 1)),
        ("cifar100-2.bin", Seed(CifarVariant.Cifar100, 2)),
    };

    /// <inheritdoc />
    public override void Execute(byte[] input, string scratch)
    {
        if (input.Length == 0)
        {
            return;
        }

        var variant = (input[0] & 1) == 0 ? CifarVariant.Cifar10 : CifarVariant.Cifar100;
        var file = Path.Combine(scratch, "input.bin");
        File.WriteAllBytes(file, input[1..]);
        var records = CifarReader.Read(file, variant);
        foreach (var coarse in variant == CifarVariant.Cifar100 ? new[] { false, true } : new[] { false })
        {
            var dataset = new CifarDataset(records, coarse);
            for (long i = 0; i < dataset.Count; i++)
            {
                GC.KeepAlive(dataset.Get(i).Label);
            }

            using var tensors = dataset.ToTensorDataset();
            GC.KeepAlive(tensors.Count);
        }
    }

    private static byte[] Seed(CifarVariant variant, int records)
    {
        var recordSize = CifarReader.RecordSize(variant);
        var data = new byte[1 + (records * recordSize)];
        data[0] = variant == CifarVariant.Cifar10 ? (byte)0 : (byte)1;
        for (var r = 0; r < records; r++)
        {
            var offset = 1 + (r * recordSize);
            if (variant == CifarVariant.Cifar10)
            {
                data[offset] = (byte)((r * 3) % 10);
            }
            else
            {
                data[offset] = (byte)((r * 7) % 20);
                data[offset + 1] = (byte)((r * 37) % 100);
            }

            var labelBytes = recordSize - CifarReader.ImageBytes;
            for (var p = 0; p < CifarReader.ImageBytes; p++)
            {
                data[offset + labelBytes + p] = (byte)((p * 31) + (r * 17));
            }
        }

        return data;
    }
}
