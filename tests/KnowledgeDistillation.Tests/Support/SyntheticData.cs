using KnowledgeDistillation.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Support;

/// <summary>Small, seeded datasets the tests build themselves.</summary>
internal static class SyntheticData
{
    /// <summary>Gaussian blobs: <paramref name="classes"/> well-separated clusters in <paramref name="dims"/> dimensions.</summary>
    public static TensorDataset Blobs(int samples, int classes = 3, int dims = 8, int seed = 0, double spread = 0.5)
    {
        using var generator = new Generator((ulong)seed);
        var centers = randn(new long[] { classes, dims }, generator: generator) * 3.0;
        var labels = randint(classes, new long[] { samples }, generator: generator).to(ScalarType.Int64);
        var inputs = centers.index_select(0, labels) + randn(new long[] { samples, dims }, generator: generator) * spread;
        return new TensorDataset(inputs.to(ScalarType.Float32), labels);
    }

    /// <summary>Random 1x28x28 "images" whose class is encoded in the brightness of a quadrant (learnable by a CNN).</summary>
    public static TensorDataset Images(int samples, int classes = 4, int seed = 0)
    {
        using var generator = new Generator((ulong)seed);
        var labels = randint(classes, new long[] { samples }, generator: generator).to(ScalarType.Int64);
        var images = randn(new long[] { samples, 1, 28, 28 }, generator: generator) * 0.3;
        var labelArray = labels.data<long>().ToArray();
        for (var i = 0; i < samples; i++)
        {
            var q = (int)labelArray[i];
            images[i, 0, TensorIndex.Slice((q / 2) * 14, (q / 2) * 14 + 14), TensorIndex.Slice((q % 2) * 14, (q % 2) * 14 + 14)].add_(1.0);
        }

        return new TensorDataset(images, labels);
    }
}
