using KnowledgeDistillation.Caching;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Fuzz.Targets;

/// <summary>
/// <see cref="DiskSampleStore"/> with three fields (float32 and float64, rows of rank 1 and 2): opened, initialised with the fields the
/// seeds were written with, and every written sample read back (each checked against its CRC-32C).
/// </summary>
internal sealed class SampleStoreTarget : FuzzTarget
{
    private const int Samples = 16;
    private const string Tag = "fuzz-store";

    private static SampleField[] Fields => new[]
    {
        new SampleField("logits", new long[] { 3 }),
        new SampleField("embedding", new long[] { 2, 2 }, ScalarType.Float64),
        new SampleField("score", new long[] { 1 }),
    };

    /// <inheritdoc />
    public override string Name => "sample-store";

    /// <inheritdoc />
    public override string Api => "new DiskSampleStore(path, n, tag) + Initialize + Contains + Read";

    /// <inheritdoc />
    public override IReadOnlyList<(string Name, byte[] Data)> CreateSeeds(string scratch)
    {
        var seeds = new List<(string, byte[])>();
        foreach (var filled in new[] { Samples, 5 })
        {
            var file = Path.Combine(scratch, $"store-{filled}.kdstore");
            using (var store = new DiskSampleStore(file, Samples, Tag))
            {
                store.Initialize(Fields);
                using var scope = NewDisposeScope();
                using var generator = new Generator(21);
                var indices = arange(0, filled, dtype: ScalarType.Int64);
                store.Write(indices, new[]
                {
                    randn(new long[] { filled, 3 }, generator: generator),
                    randn(new long[] { filled, 2, 2 }, dtype: ScalarType.Float64, generator: generator),
                    rand(new long[] { filled, 1 }, generator: generator),
                });
            }

            seeds.Add(($"sample-store-{filled}-of-{Samples}.bin", File.ReadAllBytes(file)));
        }

        return seeds;
    }

    /// <inheritdoc />
    public override void Execute(byte[] input, string scratch)
    {
        var file = Path.Combine(scratch, "input.kdstore");
        File.WriteAllBytes(file, input);
        using var store = new DiskSampleStore(file, Samples, Tag);
        store.Initialize(Fields);
        using var scope = NewDisposeScope();
        var all = arange(0, Samples, dtype: ScalarType.Int64);
        var filled = all.masked_select(store.Contains(all));
        if (filled.NumberOfElements > 0)
        {
            _ = store.Read(filled, CPU);
        }
    }
}
