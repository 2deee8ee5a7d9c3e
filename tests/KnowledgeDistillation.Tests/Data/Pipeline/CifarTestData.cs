using KnowledgeDistillation.Data;

namespace KnowledgeDistillation.Tests.Data.Pipeline;

/// <summary>Small files in the official CIFAR binary format, with known contents.</summary>
internal static class CifarTestData
{
    /// <summary>The label of record <paramref name="r"/> of a file whose first label is <paramref name="offset"/>.</summary>
    public static byte Label(int r, int offset, int classes) => (byte)((r + offset) % classes);

    /// <summary>The coarse label of record <paramref name="r"/> (CIFAR-100).</summary>
    public static byte Coarse(int r, int offset) => (byte)((r + offset) % 20);

    /// <summary>Pixel <paramref name="p"/> of record <paramref name="r"/>.</summary>
    public static byte Pixel(int r, int offset, int p) => (byte)(((r + offset) * 31 + p * 7) % 256);

    /// <summary>Encodes <paramref name="count"/> records.</summary>
    public static byte[] File(CifarVariant variant, int count, int offset = 0)
    {
        var recordSize = CifarReader.RecordSize(variant);
        var bytes = new byte[count * recordSize];
        for (var r = 0; r < count; r++)
        {
            var record = bytes.AsSpan(r * recordSize, recordSize);
            var at = 0;
            if (variant == CifarVariant.Cifar100)
            {
                record[at++] = Coarse(r, offset);
                record[at++] = Label(r, offset, 100);
            }
            else
            {
                record[at++] = Label(r, offset, 10);
            }

            for (var p = 0; p < CifarReader.ImageBytes; p++)
            {
                record[at + p] = Pixel(r, offset, p);
            }
        }

        return bytes;
    }

    /// <summary>Writes a full set of split files (3 records per CIFAR-10 batch, 5 per CIFAR-100 file) into <paramref name="directory"/>.</summary>
    public static void WriteSet(CifarVariant variant, string directory)
    {
        Directory.CreateDirectory(directory);
        if (variant == CifarVariant.Cifar10)
        {
            for (var b = 1; b <= 5; b++)
            {
                System.IO.File.WriteAllBytes(Path.Combine(directory, $"data_batch_{b}.bin"), File(variant, 3, offset: (b - 1) * 3));
            }

            System.IO.File.WriteAllBytes(Path.Combine(directory, "test_batch.bin"), File(variant, 4, offset: 100));
        }
        else
        {
            System.IO.File.WriteAllBytes(Path.Combine(directory, "train.bin"), File(variant, 5));
            System.IO.File.WriteAllBytes(Path.Combine(directory, "test.bin"), File(variant, 4, offset: 100));
        }
    }
}
