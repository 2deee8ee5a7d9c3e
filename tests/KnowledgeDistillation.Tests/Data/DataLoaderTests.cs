using FluentAssertions;
using KnowledgeDistillation.Data;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Data;

public sealed class DataLoaderTests
{
    /// <summary>Sample i has input value i and label i mod 10 (stored as int32, to check the int64 conversion).</summary>
    private static TensorDataset Dataset(int count) =>
        new(arange(count, dtype: ScalarType.Float32).reshape(count, 1), arange(count, dtype: ScalarType.Int32).remainder(10));

    private static List<(long[] Indices, float[] Inputs, long[] Targets)> Epoch(DataLoader loader, int epoch)
    {
        var batches = new List<(long[], float[], long[])>();
        foreach (var batch in loader.GetBatches(epoch, CPU))
        {
            using (batch.Inputs)
            using (batch.Indices)
            using (batch.Targets)
            {
                batch.Targets!.dtype.Should().Be(ScalarType.Int64);
                batches.Add((batch.Indices.data<long>().ToArray(), batch.Inputs.data<float>().ToArray(), batch.Targets.data<long>().ToArray()));
            }
        }

        return batches;
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Every_index_appears_exactly_once_per_epoch_with_its_own_row(bool shuffle)
    {
        using var data = Dataset(50);
        var loader = new DataLoader(data, batchSize: 7, shuffle: shuffle, seed: 3);

        foreach (var epoch in new[] { 0, 1, 5 })
        {
            var batches = Epoch(loader, epoch);
            batches.Should().HaveCount(8);
            var indices = batches.SelectMany(b => b.Indices).ToArray();
            indices.Should().BeEquivalentTo(Enumerable.Range(0, 50).Select(i => (long)i));
            batches.SelectMany(b => b.Inputs).Select(v => (long)v).Should().Equal(indices);
            batches.SelectMany(b => b.Targets).Should().Equal(indices.Select(i => i % 10));
            if (!shuffle)
            {
                indices.Should().BeInAscendingOrder();
            }
        }
    }

    [Fact]
    public void The_order_is_a_function_of_seed_and_epoch()
    {
        using var data = Dataset(100);
        var a = new DataLoader(data, batchSize: 10, seed: 42);
        var b = new DataLoader(data, batchSize: 10, seed: 42);
        var other = new DataLoader(data, batchSize: 10, seed: 43);

        a.Order(4).Should().Equal(b.Order(4));
        Epoch(a, 4).SelectMany(x => x.Indices).Should().Equal(a.Order(4));
        a.Order(0).Should().NotEqual(a.Order(1));
        a.Order(1).Should().NotEqual(a.Order(2));
        a.Order(0).Should().NotEqual(other.Order(0));
        a.Order(0).Should().NotEqual(Enumerable.Range(0, 100).Select(i => (long)i));
    }

    [Fact]
    public void DropLast_drops_only_the_incomplete_final_batch()
    {
        using var data = Dataset(50);
        var keep = new DataLoader(data, batchSize: 8, seed: 1);
        var drop = new DataLoader(data, batchSize: 8, seed: 1, dropLast: true);

        keep.BatchCount.Should().Be(7);
        keep.SampleCount.Should().Be(50);
        Epoch(keep, 0).Select(x => x.Indices.Length).Should().Equal(8, 8, 8, 8, 8, 8, 2);

        drop.BatchCount.Should().Be(6);
        drop.SampleCount.Should().Be(48);
        var dropped = Epoch(drop, 0);
        dropped.Select(x => x.Indices.Length).Should().OnlyContain(n => n == 8).And.HaveCount(6);
        dropped.SelectMany(x => x.Indices).Should().Equal(drop.Order(0).Take(48)).And.OnlyHaveUniqueItems();
    }

    [Fact]
    public void DropLast_with_an_exact_multiple_keeps_every_sample()
    {
        using var data = Dataset(32);
        var drop = new DataLoader(data, batchSize: 8, dropLast: true);

        drop.BatchCount.Should().Be(4);
        Epoch(drop, 2).SelectMany(x => x.Indices).Should().BeEquivalentTo(Enumerable.Range(0, 32).Select(i => (long)i));
    }

    [Fact]
    public void DropLast_that_leaves_no_batch_is_rejected()
    {
        using var data = Dataset(5);

        FluentActions.Invoking(() => new DataLoader(data, batchSize: 8, dropLast: true))
            .Should().Throw<ArgumentException>().WithParameterName("dropLast");
        FluentActions.Invoking(() => new DataLoader(data, batchSize: 0))
            .Should().Throw<ArgumentOutOfRangeException>().WithParameterName("batchSize");
    }

    [Fact]
    public void Class_label_targets_are_int64_and_the_class_count_is_known()
    {
        using var data = new TensorDataset(zeros(6, 2), tensor(new byte[] { 0, 3, 1, 2, 3, 0 }));
        var loader = new DataLoader(data, batchSize: 4, shuffle: false);

        loader.ClassCount.Should().Be(4);
        var batches = Epoch(loader, 0); // asserts int64 per batch
        batches.SelectMany(b => b.Targets).Should().Equal(0, 3, 1, 2, 3, 0);
    }
}
