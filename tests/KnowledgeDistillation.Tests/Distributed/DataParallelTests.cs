using FluentAssertions;
using KnowledgeDistillation.Caching;
using KnowledgeDistillation.Data;
using KnowledgeDistillation.Distributed;
using KnowledgeDistillation.Engine;
using KnowledgeDistillation.Losses;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Distributed;

/// <summary>The data-parallel pieces that need no MPI: sharding, bucketed averaging, merging, and the errors before any step.</summary>
public sealed class DataParallelTests
{
    [Theory]
    [InlineData(10, 4, false, 2)]
    [InlineData(10, 4, true, 2)]
    [InlineData(17, 6, false, 3)]
    public void ShardsOfALoaderSplitEveryBatchIntoContiguousPartsThatTogetherAreTheBatch(int count, int batchSize, bool dropLast, int ranks)
    {
        using var data = new TensorDataset(arange(count, ScalarType.Float32).reshape(count, 1), arange(count, ScalarType.Int64).remainder(3));
        var loader = new DataLoader(data, batchSize, shuffle: true, seed: 9, dropLast: dropLast);
        var shards = Enumerable.Range(0, ranks).Select(r => loader.Shard(r, ranks)).ToArray();

        shards.Should().OnlyContain(s => s.BatchCount == loader.BatchCount);
        shards.Sum(s => s.SampleCount).Should().Be(loader.SampleCount);
        for (var epoch = 0; epoch < 2; epoch++)
        {
            var whole = loader.GetBatches(epoch, CPU).Select(b => b.Indices.data<long>().ToArray()).ToArray();
            var parts = shards.Select(s => s.GetBatches(epoch, CPU).Select(b => b.Indices.data<long>().ToArray()).ToArray()).ToArray();
            for (var b = 0; b < whole.Length; b++)
            {
                parts.SelectMany(p => p[b]).Should().Equal(whole[b], $"epoch {epoch}, batch {b}");
                parts.Select(p => p[b].Length).Max().Should().BeLessThanOrEqualTo(parts.Select(p => p[b].Length).Min() + 1);
            }
        }
    }

    [Fact]
    public void ShardsOfAPipelineSplitEveryBatchLikeALoaderWithTheSameSamples()
    {
        var dataset = Dataset.FromFunction(
            11, i => new DataSample(new[] { (float)i }, new[] { 1 }, i % 2), classCount: 2);
        var pipeline = new DataPipeline(dataset, new DataPipelineOptions { BatchSize = 4, Seed = 5, Workers = 1 });
        var shards = new[] { pipeline.Shard(0, 2), pipeline.Shard(1, 2) };

        shards.Sum(s => s.SampleCount).Should().Be(11);
        var whole = pipeline.GetBatches(1, CPU).Select(b => b.Indices.data<long>().ToArray()).ToArray();
        var parts = shards.Select(s => s.GetBatches(1, CPU).Select(b => (Indices: b.Indices.data<long>().ToArray(), Inputs: b.Inputs.reshape(-1).data<float>().ToArray())).ToArray()).ToArray();
        for (var b = 0; b < whole.Length; b++)
        {
            parts[0][b].Indices.Concat(parts[1][b].Indices).Should().Equal(whole[b]);
            parts[0][b].Inputs.Concat(parts[1][b].Inputs).Should().Equal(whole[b].Select(i => (float)i));
        }
    }

    [Fact]
    public void ShardingALoaderWhoseLastBatchIsSmallerThanTheRankCountIsRefused()
    {
        using var data = new TensorDataset(zeros(9, 1), null);
        var loader = new DataLoader(data, 4);

        var act = () => loader.Shard(0, 2);

        act.Should().Throw<ArgumentException>().WithParameterName("count").WithMessage("*last batch holds 1 sample(s), fewer than the 2 ranks*dropLast*");
        loader.Invoking(l => l.Shard(2, 2)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("rank");
    }

    [Fact]
    public void GradientsAreAveragedInBucketsAndWrittenBackInPlace()
    {
        // A fake second rank whose gradients are all 1: the average is (g + 1) / 2. Buckets of 16 bytes = 4 floats.
        var group = new AddingGroup(otherRank: 1f);
        var dataParallel = new DataParallel(group, bucketBytes: 16);
        using var a = new TorchSharp.Modules.Parameter(zeros(3));
        using var b = new TorchSharp.Modules.Parameter(zeros(2, 2));
        using var c = new TorchSharp.Modules.Parameter(zeros(1));
        a.grad = tensor(new float[] { 1, 2, 3 });
        b.grad = tensor(new float[] { 4, 5, 6, 7 }).reshape(2, 2);
        c.grad = tensor(new float[] { 9 });

        dataParallel.AverageGradients(new[] { a, b, c });

        a.grad!.data<float>().ToArray().Should().Equal(1f, 1.5f, 2f);
        b.grad!.data<float>().ToArray().Should().Equal(2.5f, 3f, 3.5f, 4f);
        c.grad!.data<float>().ToArray().Should().Equal(5f);
        group.FloatCalls.Should().Equal(3, 4, 1); // [a] (a + b would exceed 4), [b], [c] (b + c would exceed 4)
    }

    [Fact]
    public void ADataParallelRunRefusesTheSkipPolicyAndAnUnshardableSourceBeforeAnyCollectiveCall()
    {
        using var data = new TensorDataset(randn(8, 4), arange(8, ScalarType.Int64).remainder(2));
        using var student = Student.FromModule(nn.Linear(4, 2));
        var group = new AddingGroup(otherRank: 0f) { Forbidden = true };
        using var skipping = new Distiller(new[] { student }, new CrossEntropyLoss(), new DistillerOptions { Epochs = 1, NonFiniteLoss = NonFiniteLossPolicy.Skip }) { ProcessGroup = group };
        skipping.Invoking(d => d.Fit(new DataLoader(data, 4))).Should().Throw<ArgumentException>().WithMessage("*Skip cannot be used in a data-parallel run*");

        using var plain = new Distiller(new[] { student }, new CrossEntropyLoss(), new DistillerOptions { Epochs = 1 }) { ProcessGroup = group };
        plain.Invoking(d => d.Fit(new Unshardable(new DataLoader(data, 4)))).Should().Throw<ArgumentException>()
            .WithParameterName("train").WithMessage("*does not implement IShardableBatchSource*");
    }

    [Fact]
    public void AGradientBucketSmallerThanOneFloatIsRefusedNamingTheKey()
    {
        var act = () => new DistillerOptions { GradientBucketBytes = 3 }.Validate();

        act.Should().Throw<ArgumentOutOfRangeException>().WithParameterName(nameof(DistillerOptions.GradientBucketBytes));
    }

    [Fact]
    public void MergingShardsGivesTheBytesOfAStoreWrittenWholeAndRefusesOverlapsAndOtherTags()
    {
        var directory = Path.Combine(Path.GetTempPath(), "kd-merge-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        try
        {
            var fields = new[] { new SampleField("x", new long[] { 2 }, ScalarType.Float32) };
            var rows = arange(20, ScalarType.Float32).reshape(10, 2);
            void Write(string path, long start, long end, string tag = "t")
            {
                using var store = new DiskSampleStore(path, 10, tag);
                store.Initialize(fields);
                using var indices = arange(start, end, ScalarType.Int64);
                store.Write(indices, new[] { rows.index_select(0, indices) });
            }

            Write(Path.Combine(directory, "whole"), 0, 10);
            Write(Path.Combine(directory, "a"), 0, 6);
            Write(Path.Combine(directory, "b"), 6, 10);
            Write(Path.Combine(directory, "overlap"), 5, 10);
            Write(Path.Combine(directory, "other"), 6, 10, tag: "u");

            DiskSampleStore.Merge(Path.Combine(directory, "merged"), new[] { Path.Combine(directory, "b"), Path.Combine(directory, "a") }, 10, "t").Should().Be(10);
            File.ReadAllBytes(Path.Combine(directory, "merged")).Should().Equal(File.ReadAllBytes(Path.Combine(directory, "whole")));

            var overlap = () => DiskSampleStore.Merge(Path.Combine(directory, "m2"), new[] { Path.Combine(directory, "a"), Path.Combine(directory, "overlap") }, 10, "t");
            overlap.Should().Throw<InvalidOperationException>().WithMessage("Sample 5 is written in both*disjoint*");
            var otherTag = () => TeacherCacheBuilder.Merge(Path.Combine(directory, "m3"), new[] { Path.Combine(directory, "a"), Path.Combine(directory, "other") }, "t", 10);
            otherTag.Should().Throw<InvalidOperationException>().WithMessage("*teacher with different weights*");
            File.Exists(Path.Combine(directory, "m2")).Should().BeFalse();
            File.Exists(Path.Combine(directory, "m3")).Should().BeFalse();
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Theory]
    [InlineData(100, 16, 2, 0, 0, 48)]
    [InlineData(100, 16, 2, 1, 48, 100)]
    [InlineData(10, 16, 2, 0, 0, 0)]
    [InlineData(10, 16, 2, 1, 0, 10)]
    public void ShardRangesAreWholeBatches(long count, int batch, int ranks, int rank, long start, long end)
    {
        TeacherCacheBuilder.ShardRange(count, batch, rank, ranks).Should().Be((start, end));
    }

    [Fact]
    public void AMissingMpiLibraryIsAClearErrorSayingHowToInstallOpenMpi()
    {
        var act = () => MpiProcessGroup.Initialize("/nonexistent/libmpi.so.40");

        act.Should().Throw<DllNotFoundException>().WithMessage("*Open MPI's library could not be loaded*/nonexistent/libmpi.so.40*apt-get install openmpi-bin libopenmpi-dev*");
    }

    /// <summary>A fake group of two ranks in one process: the other rank's float values are all <c>otherRank</c>.</summary>
    private sealed class AddingGroup(float otherRank) : IProcessGroup
    {
        public bool Forbidden { get; init; }

        public List<int> FloatCalls { get; } = new();

        public int Rank => 0;

        public int Size => 2;

        public void AllReduceSum(Span<float> values)
        {
            Check();
            FloatCalls.Add(values.Length);
            for (var i = 0; i < values.Length; i++)
            {
                values[i] += otherRank;
            }
        }

        public void AllReduceSum(Span<double> values) => Check();

        public void Broadcast(Span<byte> buffer, int root) => Check();

        public byte[][] AllGather(ReadOnlySpan<byte> local)
        {
            Check();
            return new[] { local.ToArray(), local.ToArray() };
        }

        public void Barrier() => Check();

        private void Check()
        {
            if (Forbidden)
            {
                throw new InvalidOperationException("No collective call was expected.");
            }
        }
    }

    private sealed class Unshardable(IBatchSource inner) : IBatchSource
    {
        public long SampleCount => inner.SampleCount;

        public int BatchCount => inner.BatchCount;

        public int? ClassCount => inner.ClassCount;

        public IEnumerable<Batch> GetBatches(int epoch, Device device) => inner.GetBatches(epoch, device);
    }
}
