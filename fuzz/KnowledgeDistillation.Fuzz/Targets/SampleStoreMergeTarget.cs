using KnowledgeDistillation.Caching;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Fuzz.Targets;

/// <summary>
/// <see cref="DiskSampleStore.Merge"/> of two shards: a fixed valid shard holding samples 0-7 and the input, a shard of the
/// same store (the <see cref="SampleStoreTarget"/> fields) holding samples from 8 on; the merged store is then opened and
/// every written sample read back (each checked against its CRC-32C).
/// </summary>
internal sealed class SampleStoreMergeTarget : FuzzTarget
{
    private const int Samples = 16;
    private const string Tag = "fuzz-store";
    private static readonly Lazy<byte[]> FirstShard = new(() => Shard(0, 8));

    private static SampleField[] Fields => new[]
    {
        new SampleField("logits", new long[] { 3 }),
        new SampleField("embedding", new long[] { 2, 2 }, ScalarType.Float64),
        new SampleField("score", new long[] { 1 }),
    };

    /// <inheritdoc />
    public override string Name => "sample-store-merge";

    /// <inheritdoc />
    public override string Api => "DiskSampleStore.Merge(output, [valid shard, input], n, tag) + reading the merged store";

    /// <summary>
    /// <see cref="InvalidDataException"/> (a corrupted shard or row) and <see cref="InvalidOperationException"/> (a shard with
    /// other fields, or a sample written in both shards), both documented by Merge.
    /// </summary>
    public override bool IsDocumented(Exception exception) => exception is InvalidDataException || exception.GetType() == typeof(InvalidOperationException);

    /// <inheritdoc />
    public override IReadOnlyList<(string Name, byte[] Data)> CreateSeeds(string scratch) => new[]
    {
        ("shard-8-to-16.bin", Shard(8, 16)),
        ("shard-8-to-11.bin", Shard(8, 11)),
    };

    /// <inheritdoc />
    public override void Execute(byte[] input, string scratch)
    {
        var first = Path.Combine(scratch, "shard-0.kdstore");
        var second = Path.Combine(scratch, "shard-1.kdstore");
        var merged = Path.Combine(scratch, "merged.kdstore");
        File.WriteAllBytes(first, FirstShard.Value);
        File.WriteAllBytes(second, input);
        File.Delete(merged);
        _ = DiskSampleStore.Merge(merged, new[] { first, second }, Samples, Tag);
        using var store = new DiskSampleStore(merged, Samples, Tag);
        store.Initialize(Fields);
        using var scope = NewDisposeScope();
        var all = arange(0, Samples, dtype: ScalarType.Int64);
        var filled = all.masked_select(store.Contains(all));
        if (filled.NumberOfElements > 0)
        {
            _ = store.Read(filled, CPU);
        }
    }

    private static byte[] Shard(int from, int to)
    {
        var file = Path.Combine(Path.GetTempPath(), $"kd-fuzz-shard-{Environment.ProcessId}-{from}-{to}.kdstore");
        File.Delete(file);
        try
        {
            using (var store = new DiskSampleStore(file, Samples, Tag))
            {
                store.Initialize(Fields);
                using var scope = NewDisposeScope();
                using var generator = new Generator((ulong)(21 + from));
                var count = to - from;
                store.Write(arange(from, to, dtype: ScalarType.Int64), new[]
                {
                    randn(new long[] { count, 3 }, generator: generator),
                    randn(new long[] { count, 2, 2 }, dtype: ScalarType.Float64, generator: generator),
                    rand(new long[] { count, 1 }, generator: generator),
                });
            }

            return File.ReadAllBytes(file);
        }
        finally
        {
            File.Delete(file);
        }
    }
}
